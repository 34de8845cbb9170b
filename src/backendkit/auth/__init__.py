"""Authentication: JWT access/refresh tokens and bcrypt password hashing.

Needs the ``auth`` extra: ``pip install 'backendkit[auth]'`` (pyjwt with cryptography,
and bcrypt). The Redis token store also needs the ``redis`` extra.

- [`TokenService`][backendkit.auth.TokenService] issues and verifies tokens, rotates
  refresh tokens with reuse detection and revokes sessions; its state lives in a
  [`MemoryTokenStore`][backendkit.auth.MemoryTokenStore] or a
  [`RedisTokenStore`][backendkit.auth.RedisTokenStore].
- [`PasswordHasher`][backendkit.auth.PasswordHasher] hashes and verifies passwords.
- [`OIDCVerifier`][backendkit.auth.OIDCVerifier] verifies an identity provider's JWT
  access tokens with the keys an [`OIDCProvider`][backendkit.auth.OIDCProvider] fetches
  and caches (needs the ``oidc`` extra: httpx); a
  [`ClaimsMapping`][backendkit.auth.ClaimsMapping] says which provider roles and scopes
  grant local ones.
- [`ApiKeyService`][backendkit.auth.ApiKeyService] creates, lists, revokes and checks API
  keys for machine clients, kept in a [`MemoryApiKeyStore`][backendkit.auth.MemoryApiKeyStore],
  a SQL store (``backendkit.auth.sql``) or the Django ORM
  (``backendkit.adapters.django.apikeys``).
- [`OneTimeTokens`][backendkit.auth.OneTimeTokens] issues and consumes purpose-bound,
  single-use tokens (password reset, email verification, invitation), handed to a
  [`TokenSender`][backendkit.auth.TokenSender] and kept as HMACs in a
  [`MemoryOneTimeTokenStore`][backendkit.auth.MemoryOneTimeTokenStore], a
  [`RedisOneTimeTokenStore`][backendkit.auth.RedisOneTimeTokenStore] or a SQL store
  (``backendkit.auth.sql``).
"""

# Private aliases keep the package namespace exactly what __all__ lists.
import typing as _typing

from backendkit._extras import require as _require

_require("jwt", "auth")
_require("bcrypt", "auth")

from backendkit.auth._algorithms import SUPPORTED_ALGORITHMS
from backendkit.auth._api_key_core import ApiKey, ApiKeyRecord, NewApiKey
from backendkit.auth._api_key_store import ApiKeyStore, AsyncApiKeyStore, MemoryApiKeyStore
from backendkit.auth._api_key_wire import ApiKeyRequest, api_key_body, new_api_key_body
from backendkit.auth._api_keys import ApiKeyService
from backendkit.auth._calibrate import calibrate
from backendkit.auth._claims import RESERVED_CLAIMS, TokenClaims, TokenPair, TokenType
from backendkit.auth._claims_map import CLAIM_PRESETS, ClaimsMapping, ClaimSource
from backendkit.auth._keyring import KeyRing
from backendkit.auth._keys import JWTKey
from backendkit.auth._one_time import OneTimeTokens
from backendkit.auth._one_time_core import (
    DEFAULT_TTLS,
    EMAIL_VERIFICATION,
    INVITATION,
    PASSWORD_RESET,
    InvalidOneTimeToken,
    OneTimeToken,
)
from backendkit.auth._one_time_sender import AsyncTokenSender, LoggingTokenSender, TokenSender
from backendkit.auth._one_time_store import (
    AsyncOneTimeTokenStore,
    MemoryOneTimeTokenStore,
    OneTimeTokenStore,
)
from backendkit.auth._passwords import (
    BCRYPT_MAX_BYTES,
    PREHASH_PREFIX,
    PasswordHasher,
    VerifyResult,
)
from backendkit.auth._store import (
    AsyncTokenStore,
    MemoryTokenStore,
    NewSession,
    RotationRequest,
    RotationResult,
    RotationStatus,
    TokenStore,
)
from backendkit.auth._store_url import token_store_from_url
from backendkit.auth._token_core import DEFAULT_REQUIRED_CLAIMS
from backendkit.auth._tokens import TokenService

if _typing.TYPE_CHECKING:
    from backendkit.auth._oidc_provider import OIDCProvider
    from backendkit.auth._oidc_verify import ACCESS_TOKEN_TYPES, OIDCVerifier, ProviderClaims
    from backendkit.auth._one_time_redis import RedisOneTimeTokenStore
    from backendkit.auth._redis_store import RedisTokenStore

__all__ = [
    "ACCESS_TOKEN_TYPES",
    "BCRYPT_MAX_BYTES",
    "CLAIM_PRESETS",
    "DEFAULT_REQUIRED_CLAIMS",
    "DEFAULT_TTLS",
    "EMAIL_VERIFICATION",
    "INVITATION",
    "PASSWORD_RESET",
    "PREHASH_PREFIX",
    "RESERVED_CLAIMS",
    "SUPPORTED_ALGORITHMS",
    "ApiKey",
    "ApiKeyRecord",
    "ApiKeyRequest",
    "ApiKeyService",
    "ApiKeyStore",
    "AsyncApiKeyStore",
    "AsyncOneTimeTokenStore",
    "AsyncTokenSender",
    "AsyncTokenStore",
    "ClaimSource",
    "ClaimsMapping",
    "InvalidOneTimeToken",
    "JWTKey",
    "KeyRing",
    "LoggingTokenSender",
    "MemoryApiKeyStore",
    "MemoryOneTimeTokenStore",
    "MemoryTokenStore",
    "NewApiKey",
    "NewSession",
    "OIDCProvider",
    "OIDCVerifier",
    "OneTimeToken",
    "OneTimeTokenStore",
    "OneTimeTokens",
    "PasswordHasher",
    "ProviderClaims",
    "RedisOneTimeTokenStore",
    "RedisTokenStore",
    "RotationRequest",
    "RotationResult",
    "RotationStatus",
    "TokenClaims",
    "TokenPair",
    "TokenSender",
    "TokenService",
    "TokenStore",
    "TokenType",
    "VerifyResult",
    "api_key_body",
    "calibrate",
    "new_api_key_body",
    "token_store_from_url",
]


# Names whose module needs another extra (redis, oidc): imported only when asked for.
_OIDC_VERIFY = frozenset({"ACCESS_TOKEN_TYPES", "OIDCVerifier", "ProviderClaims"})


def __getattr__(name: str) -> object:
    if name == "RedisTokenStore":
        from backendkit.auth._redis_store import RedisTokenStore

        return RedisTokenStore
    if name == "RedisOneTimeTokenStore":
        from backendkit.auth._one_time_redis import RedisOneTimeTokenStore

        return RedisOneTimeTokenStore
    if name == "OIDCProvider":
        from backendkit.auth._oidc_provider import OIDCProvider

        return OIDCProvider
    if name in _OIDC_VERIFY:
        from backendkit.auth import _oidc_verify

        return getattr(_oidc_verify, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
