"""Authentication: JWT access/refresh tokens and bcrypt password hashing.

Needs the ``auth`` extra: ``pip install 'backendkit[auth]'`` (pyjwt with cryptography,
and bcrypt). The Redis token store also needs the ``redis`` extra.

- [`TokenService`][backendkit.auth.TokenService] issues and verifies tokens, rotates
  refresh tokens with reuse detection and revokes sessions; its state lives in a
  [`MemoryTokenStore`][backendkit.auth.MemoryTokenStore] or a
  [`RedisTokenStore`][backendkit.auth.RedisTokenStore].
- [`PasswordHasher`][backendkit.auth.PasswordHasher] hashes and verifies passwords.
"""

# Private aliases keep the package namespace exactly what __all__ lists.
import typing as _typing

from backendkit._extras import require as _require

_require("jwt", "auth")
_require("bcrypt", "auth")

from backendkit.auth._algorithms import SUPPORTED_ALGORITHMS
from backendkit.auth._calibrate import calibrate
from backendkit.auth._claims import RESERVED_CLAIMS, TokenClaims, TokenPair, TokenType
from backendkit.auth._keyring import KeyRing
from backendkit.auth._keys import JWTKey
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
    from backendkit.auth._redis_store import RedisTokenStore

__all__ = [
    "BCRYPT_MAX_BYTES",
    "DEFAULT_REQUIRED_CLAIMS",
    "PREHASH_PREFIX",
    "RESERVED_CLAIMS",
    "SUPPORTED_ALGORITHMS",
    "AsyncTokenStore",
    "JWTKey",
    "KeyRing",
    "MemoryTokenStore",
    "NewSession",
    "PasswordHasher",
    "RedisTokenStore",
    "RotationRequest",
    "RotationResult",
    "RotationStatus",
    "TokenClaims",
    "TokenPair",
    "TokenService",
    "TokenStore",
    "TokenType",
    "VerifyResult",
    "calibrate",
    "token_store_from_url",
]


def __getattr__(name: str) -> object:
    # The Redis store needs the redis extra; import it only when asked for.
    if name == "RedisTokenStore":
        from backendkit.auth._redis_store import RedisTokenStore

        return RedisTokenStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
