from backendkit.auth import JWTKey, RedisTokenStore, TokenService
from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector
from backendkit.settings import Settings


def build(settings: Settings, key: JWTKey, key_prefix: str = "myapp:tokens:") -> TokenService:
    """One Redis connection layer for the whole app, shared with the limiter and cache."""
    config = RedisConfig.from_settings(settings)
    store = RedisTokenStore(
        RedisConnector(config),  # for the sync API (Flask, Django)
        async_redis=AsyncRedisConnector(config),  # for the async API (FastAPI)
        key_prefix=key_prefix,
    )
    return TokenService(
        key,
        store=store,
        refresh_grace=settings.refresh_grace_seconds,
        check_revocation=True,  # every verify_access also asks Redis (fails closed)
    )
