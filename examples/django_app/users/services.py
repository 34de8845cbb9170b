"""The service's long-lived objects (one set per worker process) and the adapter's kit.

Built on first use from ``settings.EXAMPLE``: bcrypt, the token service, the sync rate
limiter and the cache, sharing one ``RedisConnector`` when ``BACKENDKIT_REDIS_URL`` is set
(in-memory stand-ins otherwise). ``settings.BACKENDKIT["KIT"]`` points at ``build_kit``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction

from backendkit.auth import PasswordHasher, TokenService, TokenStore
from backendkit.cache import Cache, CachedFunction
from backendkit.cursor import CursorCodec
from backendkit.errors import BackendUnavailable
from backendkit.logging import configure_logging, get_logger
from backendkit.ratelimit import RateLimiter
from backendkit.web import WebKit
from examples._shared.config import ExampleConfig
from examples._shared.schemas import UserOut
from examples.django_app.users.models import User

__all__ = ["Services", "build_kit", "on_start", "services", "user_out"]

log = get_logger("examples.django")


def user_out(user: User) -> UserOut:
    """The API view of a user row."""
    return UserOut.model_validate(user, from_attributes=True)


@dataclass(frozen=True, slots=True)
class Services:
    """What the views need.

    Attributes:
        config: the example's configuration.
        hasher: bcrypt (or the fast testing hasher in test runs).
        tokens: issues, verifies, rotates and revokes JWTs.
        limiter: the rate limiter (shared with the adapter's kit).
        cache: the cache-aside store behind ``load_user``.
        cursors: signs keyset-pagination cursors.
        load_user: ``load_user(id)``: the user, cached for 60 s.
        redis: the shared connector, when Redis is configured.
    """

    config: ExampleConfig
    hasher: PasswordHasher
    tokens: TokenService
    limiter: RateLimiter
    cache: Cache
    cursors: CursorCodec
    load_user: CachedFunction[[int], UserOut | None]
    redis: object | None

    def forget_user(self, user_id: int) -> None:
        """Drop the cached copy of a user after a change (its TTL bounds any miss)."""
        try:
            self.load_user.invalidate(user_id)
        except BackendUnavailable:
            log.warning("cache_invalidation_failed", user_id=user_id)

    def close(self) -> None:
        """Close the Redis connections (at worker exit)."""
        self.cache.close()
        close = getattr(self.redis, "close", None)
        if close is not None:
            close()


@functools.cache
def services() -> Services:
    """This process's services, built on first use."""
    config: ExampleConfig = settings.EXAMPLE
    app_settings = config.settings
    redis = None
    store: TokenStore | str = "memory://"
    if app_settings.redis_url:
        from backendkit.auth import RedisTokenStore
        from backendkit.redis import RedisConfig, RedisConnector

        redis = RedisConnector(RedisConfig.from_settings(app_settings), name="example")
        limiter = RateLimiter(redis, key_prefix=config.redis_prefix("rl:"))
        store = RedisTokenStore(redis, key_prefix=config.redis_prefix("tokens:"))
        cache = Cache(redis, key_prefix=config.redis_prefix("cache:"))
    else:
        limiter = RateLimiter("memory://")
        cache = Cache("memory://")

    # Cache-aside: GET /users/<id> reads through this; writes call forget_user().
    @cache.cached(ttl=60, namespace="users", key="{user_id}")
    def load_user(user_id: int) -> UserOut | None:
        user = User.objects.filter(pk=user_id).first()
        return None if user is None else user_out(user)

    return Services(
        config=config,
        hasher=config.password_hasher(),
        # check_revocation: a logged-out or deleted user's access token stops working at once.
        tokens=TokenService.from_settings(app_settings, store=store, check_revocation=True),
        limiter=limiter,
        cache=cache,
        cursors=CursorCodec.from_settings(app_settings),
        load_user=load_user,
        redis=redis,
    )


def build_kit() -> WebKit:
    """The adapter's kit (``settings.BACKENDKIT["KIT"]``): our token service and limiter.

    Its settings carry the default budget (``BACKENDKIT_RATE_LIMIT_DEFAULT``), which the
    middleware charges per client address on every request but ``/health``.
    """
    svc = services()
    return WebKit.from_settings(
        svc.config.settings, tokens=svc.tokens, limiter=svc.limiter, closers=[svc.close]
    )


def on_start() -> None:
    """Configure logging and create the bootstrap admin (called by ``wsgi.py``)."""
    config: ExampleConfig = settings.EXAMPLE
    configure_logging(config.settings)
    if config.insecure_jwt_secret:
        log.warning(
            "insecure_jwt_secret",
            detail="BACKENDKIT_JWT_SECRET is not set: tokens are signed with a PUBLIC "
            "development key and can be forged. Never run like this in production.",
        )
    if config.bootstrap_admin is None:
        return
    email, password = config.bootstrap_admin
    try:
        if User.objects.filter(email=email).exists():
            return
        hashed = services().hasher.hash(password)
        with transaction.atomic():
            User.objects.create(email=email, name="Admin", role="admin", password_hash=hashed)
        log.info("bootstrap_admin_created", email=email)
    except IntegrityError:  # another worker created it meanwhile
        log.info("bootstrap_admin_exists", email=email)
    except DatabaseError:
        log.error(
            "bootstrap_admin_failed", hint="run: python -m examples.django_app.manage migrate"
        )
