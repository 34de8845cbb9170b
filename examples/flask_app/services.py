"""The service's long-lived objects, kept in ``app.extensions["users_example"]``.

Sync all the way, as Flask runs under a WSGI server: a SQLAlchemy ``Engine`` and
``Session`` factory, the kit backendkit builds from the settings (the limiter, the token
service and the cache, sharing one ``RedisConnector``, or in memory without
``BACKENDKIT_REDIS_URL``), bcrypt, API keys and password-reset tokens in the app's
database (reset tokens in Redis when it is configured), and the identity provider of
``BACKENDKIT_OIDC_ISSUER``, if any.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backendkit.auth import (
    ApiKeyService,
    OneTimeTokens,
    PasswordHasher,
    RedisOneTimeTokenStore,
    TokenService,
)
from backendkit.auth.sql import SQLApiKeyStore, SQLOneTimeTokenStore, SQLTokenStore
from backendkit.cache import Cache, CachedFunction
from backendkit.errors import BackendUnavailable, Conflict
from backendkit.listing import CursorCodec
from backendkit.logging import get_logger
from backendkit.metrics import Metrics
from backendkit.ratelimit import RateLimiter
from backendkit.repository import UnitOfWork, build_engine, build_session_factory
from backendkit.web import WebKit
from examples._shared.auth_extras import api_key_service, oidc_verifier, password_reset_tokens
from examples._shared.config import ExampleConfig, built
from examples._shared.migrate import require_schema
from examples._shared.schemas import UserOut
from examples._shared.tracing import configure_tracing
from examples.flask_app.linking import UserLinker
from examples.flask_app.models import User
from examples.flask_app.repository import UserRepository

__all__ = ["EXTENSION", "Services", "build_services", "services", "user_out"]

log = get_logger("examples.flask")

#: Key of the services in ``app.extensions``.
EXTENSION = "users_example"


def user_out(user: User) -> UserOut:
    """The API view of a user row."""
    return UserOut.model_validate(user, from_attributes=True)


@dataclass(frozen=True, slots=True)
class Services:
    """What the views need; one instance per app.

    Attributes:
        config: the example's configuration.
        kit: the WebKit the extension uses; it holds and closes the services below.
        engine: the SQLAlchemy engine.
        sessions: its session factory.
        hasher: bcrypt (or the fast testing hasher in test runs).
        tokens: issues, verifies, rotates and revokes JWTs.
        limiter: the rate limiter.
        cache: the cache-aside store behind ``load_user``.
        cursors: signs keyset-pagination cursors.
        load_user: ``load_user(id)``: the user, cached for 60 s.
        redis: the shared connector, when Redis is configured.
        api_keys: creates, lists, revokes and checks API keys (``bk_api_keys``).
        resets: password-reset tokens (``None``: no sender is configured, the reset
            routes answer 503).
    """

    config: ExampleConfig
    kit: WebKit
    engine: Engine
    sessions: sessionmaker[Session]
    hasher: PasswordHasher
    tokens: TokenService
    limiter: RateLimiter
    cache: Cache
    cursors: CursorCodec
    load_user: CachedFunction[[int], UserOut | None]
    redis: object | None
    api_keys: ApiKeyService
    resets: OneTimeTokens | None

    @contextmanager
    def users(self) -> Iterator[UserRepository]:
        """A repository in one transaction: committed when the block ends without error."""
        with UnitOfWork(self.sessions) as uow:
            yield UserRepository(uow.session, cursor_codec=self.cursors)

    def forget_user(self, user_id: int) -> None:
        """Drop the cached copy of a user after a change (its TTL bounds any miss)."""
        try:
            self.load_user.invalidate(user_id)
        except BackendUnavailable:
            log.warning("cache_invalidation_failed", user_id=user_id)

    def check_database(self) -> None:
        """Refuse to start without the schema; create the bootstrap admin, if missing.

        The schema is the migrations' (``alembic upgrade head`` before the workers start):
        workers never create tables. The admin is safe with many workers: the unique email
        lets one of them insert it.

        Raises:
            ConfigurationError: the migrations have not been applied to this database.
        """
        with self.engine.connect() as conn:
            require_schema(conn, self.config.app)
        admin = self.config.bootstrap_admin
        if admin is None:
            return
        email, password = admin
        with self.users() as users:
            if users.get_by_email(email) is not None:
                return
        hashed = self.hasher.hash(password)
        try:
            with self.users() as users:
                if users.get_by_email(email) is None:
                    users.create(
                        {"email": email, "name": "Admin", "role": "admin", "password_hash": hashed}
                    )
                    log.info("bootstrap_admin_created", email=email)
        except Conflict:  # another worker created it meanwhile
            log.info("bootstrap_admin_exists", email=email)

    def close(self) -> None:
        """Close pools and connections (the extension does it at worker exit)."""
        self.kit.close()


def build_services(config: ExampleConfig) -> Services:
    """Build every long-lived object from the configuration (nothing connects yet)."""
    engine = build_engine(config.sync_database_url())
    sessions = build_session_factory(engine)
    # Keys are read from the database on every use: a revoked key fails at once everywhere.
    api_keys = api_key_service(config, SQLApiKeyStore(engine))
    provider = oidc_verifier(config)
    # backendkit builds the limiter, the token service and the cache the settings describe
    # (one Redis connector pair when BACKENDKIT_REDIS_URL is set); the extension closes the
    # kit, and with it the engine, when the worker exits.
    kit = config.web_kit(
        closers=[engine.dispose],
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

    # Cache-aside: GET /users/<id> reads through this; writes call forget_user().
    @cache.cached(ttl=60, namespace="users", key="{user_id}")
    def load_user(user_id: int) -> UserOut | None:
        with UnitOfWork(sessions) as uow:
            user = UserRepository(uow.session).get_or_none(user_id)
        return None if user is None else user_out(user)

    return Services(
        config=config,
        kit=kit,
        engine=engine,
        sessions=sessions,
        hasher=config.password_hasher(),
        tokens=built(kit.tokens),
        limiter=built(kit.limiter),
        cache=cache,
        cursors=CursorCodec.from_settings(config.settings),
        load_user=load_user,
        redis=kit.redis,
        api_keys=api_keys,
        resets=password_reset_tokens(
            config, _reset_store(config, kit, engine), limiter=built(kit.limiter)
        ),
    )


def _reset_store(
    config: ExampleConfig, kit: WebKit, engine: Engine
) -> RedisOneTimeTokenStore | SQLOneTimeTokenStore:
    """Redis when it is configured (the kit's connector), else the app's database."""
    if kit.redis is not None:
        return RedisOneTimeTokenStore(kit.redis, key_prefix=config.redis_prefix("one-time:"))
    return SQLOneTimeTokenStore(engine)


def services() -> Services:
    """The current app's services (inside a request or an app context)."""
    found: Services = current_app.extensions[EXTENSION]
    return found
