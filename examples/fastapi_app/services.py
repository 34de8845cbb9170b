"""The service's long-lived objects, built once at start and closed at shutdown.

Everything here is async: the SQLAlchemy ``AsyncEngine``, the kit backendkit builds from
the settings (the rate limiter, the token service and the cache, sharing one
``AsyncRedisConnector``, or in memory when ``BACKENDKIT_REDIS_URL`` is unset), bcrypt
run in a thread pool, API keys and password-reset tokens in the app's database (reset
tokens in Redis when it is configured), and the identity provider of
``BACKENDKIT_OIDC_ISSUER``, if any.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backendkit.auth import (
    ApiKeyService,
    OneTimeTokens,
    PasswordHasher,
    RedisOneTimeTokenStore,
    TokenService,
)
from backendkit.auth.sql import SQLApiKeyStore, SQLOneTimeTokenStore, SQLTokenStore
from backendkit.cache import AsyncCachedFunction, Cache
from backendkit.errors import BackendUnavailable, Conflict
from backendkit.listing import CursorCodec
from backendkit.logging import get_logger
from backendkit.metrics import Metrics
from backendkit.ratelimit import AsyncRateLimiter
from backendkit.repository import (
    AsyncUnitOfWork,
    build_async_engine,
    build_async_session_factory,
)
from backendkit.web import WebKit
from examples._shared.auth_extras import api_key_service, oidc_verifier, password_reset_tokens
from examples._shared.config import ExampleConfig, built
from examples._shared.migrate import require_schema
from examples._shared.schemas import UserOut
from examples._shared.tracing import configure_tracing
from examples.fastapi_app.linking import UserLinker
from examples.fastapi_app.models import User
from examples.fastapi_app.repository import UserRepository

__all__ = ["Services", "build_services", "user_out"]

log = get_logger("examples.fastapi")


@dataclass(frozen=True, slots=True)
class Services:
    """What the routes need; one instance per process, on ``app.state.services``.

    Attributes:
        config: the example's configuration.
        kit: the WebKit ``install`` wires in; it holds and closes the services below.
        engine: the async SQLAlchemy engine.
        sessions: its session factory.
        hasher: bcrypt (or the fast testing hasher in test runs).
        tokens: issues, verifies, rotates and revokes JWTs.
        limiter: the async rate limiter.
        cache: the cache-aside store behind ``load_user``.
        cursors: signs keyset-pagination cursors.
        load_user: ``await load_user(id)``: the user, cached for 60 s.
        redis: the shared async connector, when Redis is configured.
        api_keys: creates, lists, revokes and checks API keys (``bk_api_keys``).
        resets: password-reset tokens (``None``: no sender is configured, the reset
            routes answer 503).
    """

    config: ExampleConfig
    kit: WebKit
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    hasher: PasswordHasher
    tokens: TokenService
    limiter: AsyncRateLimiter
    cache: Cache
    cursors: CursorCodec
    load_user: AsyncCachedFunction[[int], UserOut | None]
    redis: object | None
    api_keys: ApiKeyService
    resets: OneTimeTokens | None

    # --8<-- [start:unit_of_work]
    @asynccontextmanager
    async def users(self) -> AsyncIterator[UserRepository]:
        """A repository in one transaction: committed when the block ends without error."""
        async with AsyncUnitOfWork(self.sessions) as uow:
            yield UserRepository(uow.session, cursor_codec=self.cursors)

    async def forget_user(self, user_id: int) -> None:
        """Drop the cached copy of a user after a change (its TTL bounds any miss)."""
        try:
            await self.load_user.invalidate(user_id)
        except BackendUnavailable:
            log.warning("cache_invalidation_failed", user_id=user_id)

    # --8<-- [end:unit_of_work]

    async def check_database(self) -> None:
        """Refuse to start without the schema; create the bootstrap admin, if missing.

        The schema is the migrations' (``alembic upgrade head`` before the workers start):
        workers never create tables. The admin is safe with many workers: the unique email
        lets one of them insert it.

        Raises:
            ConfigurationError: the migrations have not been applied to this database.
        """
        async with self.engine.connect() as conn:
            await conn.run_sync(require_schema, self.config.app)
        admin = self.config.bootstrap_admin
        if admin is None:
            return
        email, password = admin
        async with self.users() as users:
            if await users.get_by_email(email) is not None:
                return
        hashed = await self.hasher.ahash(password)
        try:
            async with self.users() as users:
                if await users.get_by_email(email) is None:
                    await users.create(
                        {"email": email, "name": "Admin", "role": "admin", "password_hash": hashed}
                    )
                    log.info("bootstrap_admin_created", email=email)
        except Conflict:  # another worker created it meanwhile
            log.info("bootstrap_admin_exists", email=email)

    async def aclose(self) -> None:
        """Close pools and connections (install() does it at shutdown, through the kit)."""
        await self.kit.aclose()


# --8<-- [start:build]
def build_services(config: ExampleConfig) -> Services:
    """Build every long-lived object from the configuration (nothing connects yet)."""
    engine = build_async_engine(config.async_database_url())
    hasher = config.password_hasher()
    sessions = build_async_session_factory(engine)
    # Keys are read from the database on every use: a revoked key fails at once everywhere.
    api_keys = api_key_service(config, SQLApiKeyStore(engine))
    provider = oidc_verifier(config)
    # backendkit builds the limiters, the token service and the cache the settings describe
    # (one Redis connector pair when BACKENDKIT_REDIS_URL is set); install() closes the kit,
    # and with it the engine and the hasher's threads, at shutdown.
    kit = config.web_kit(
        closers=[engine.dispose, hasher.close],
        sql_token_store=lambda: SQLTokenStore(engine),  # BACKENDKIT_TOKEN_STORE=sql
        user_loader=UserLinker(config.settings, sessions),
        providers=[] if provider is None else [provider],
        api_keys=api_keys,
    )
    Metrics().watch_engine(engine, "users")  # its pool and statements, in /metrics
    tracing = configure_tracing()
    if tracing is not None:  # OTEL_TRACES_EXPORTER set: a span per SQL statement
        tracing.watch_engine(engine)
    cache = built(kit.cache)

    # Cache-aside: GET /users/{id} reads through this; writes call forget_user().
    @cache.cached(ttl=60, namespace="users", key="{user_id}")
    async def load_user(user_id: int) -> UserOut | None:
        async with AsyncUnitOfWork(sessions) as uow:
            user = await UserRepository(uow.session).get_or_none(user_id)
        return None if user is None else UserOut.model_validate(user, from_attributes=True)

    return Services(
        config=config,
        kit=kit,
        engine=engine,
        sessions=sessions,
        hasher=hasher,
        tokens=built(kit.tokens),
        limiter=built(kit.async_limiter),
        cache=cache,
        cursors=CursorCodec.from_settings(config.settings),
        load_user=load_user,
        redis=kit.async_redis,
        api_keys=api_keys,
        resets=password_reset_tokens(
            config, _reset_store(config, kit, engine), limiter=built(kit.async_limiter)
        ),
    )


# --8<-- [end:build]


def _reset_store(
    config: ExampleConfig, kit: WebKit, engine: AsyncEngine
) -> RedisOneTimeTokenStore | SQLOneTimeTokenStore:
    """Redis when it is configured (the kit's connector), else the app's database."""
    if kit.async_redis is not None:
        return RedisOneTimeTokenStore(kit.async_redis, key_prefix=config.redis_prefix("one-time:"))
    return SQLOneTimeTokenStore(engine)


def user_out(user: User) -> UserOut:
    """The API view of a user row."""
    return UserOut.model_validate(user, from_attributes=True)
