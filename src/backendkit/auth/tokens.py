"""JWT access and refresh tokens (the names also exported by `backendkit.auth`).

See the tokens guide; everything here is re-exported from
[`backendkit.auth`][backendkit.auth].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backendkit.auth import (
    DEFAULT_REQUIRED_CLAIMS,
    RESERVED_CLAIMS,
    SUPPORTED_ALGORITHMS,
    AsyncTokenStore,
    JWTKey,
    KeyRing,
    MemoryTokenStore,
    NewSession,
    RotationRequest,
    RotationResult,
    RotationStatus,
    TokenClaims,
    TokenPair,
    TokenService,
    TokenStore,
    TokenType,
    token_store_from_url,
)

if TYPE_CHECKING:
    from backendkit.auth._redis_store import RedisTokenStore

__all__ = [
    "DEFAULT_REQUIRED_CLAIMS",
    "RESERVED_CLAIMS",
    "SUPPORTED_ALGORITHMS",
    "AsyncTokenStore",
    "JWTKey",
    "KeyRing",
    "MemoryTokenStore",
    "NewSession",
    "RedisTokenStore",
    "RotationRequest",
    "RotationResult",
    "RotationStatus",
    "TokenClaims",
    "TokenPair",
    "TokenService",
    "TokenStore",
    "TokenType",
    "token_store_from_url",
]


def __getattr__(name: str) -> object:
    # The Redis store needs the redis extra; import it only when asked for.
    if name == "RedisTokenStore":
        from backendkit.auth._redis_store import RedisTokenStore

        return RedisTokenStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
