"""The service's long-lived objects (one set per worker process) and the adapter's kit.

Built on first use from ``settings.EXAMPLE``: bcrypt and the kit backendkit builds from the
settings (the token service, the rate limiter and the cache, sharing one ``RedisConnector``
when ``BACKENDKIT_REDIS_URL`` is set, in memory otherwise). ``settings.BACKENDKIT["KIT"]``
points at ``build_kit``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction

from backendkit.auth import PasswordHasher, TokenService
from backendkit.cache import Cache, CachedFunction
from backendkit.errors import BackendUnavailable
from backendkit.listing import CursorCodec
from backendkit.logging import configure_logging, get_logger
from backendkit.ratelimit import RateLimiter
from backendkit.web import WebKit
from examples._shared.config import ExampleConfig, built
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
        kit: the adapter's kit (``build_kit``); it holds the services below.
        hasher: bcrypt (or the fast testing hasher in test runs).
        tokens: issues, verifies, rotates and revokes JWTs.
        limiter: the rate limiter (shared with the adapter's kit).
        cache: the cache-aside store behind ``load_user``.
        cursors: signs keyset-pagination cursors.
        load_user: ``load_user(id)``: the user, cached for 60 s.
        redis: the shared connector, when Redis is configured.
    """

    config: ExampleConfig
    kit: WebKit
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
        self.kit.close()


@functools.cache
def services() -> Services:
    """This process's services, built on first use."""
    config: ExampleConfig = settings.EXAMPLE
    # backendkit builds the limiter, the token service and the cache the settings describe
    # (one Redis connector pair when BACKENDKIT_REDIS_URL is set, in memory otherwise).
    kit = config.web_kit()
    cache = built(kit.cache)

    # Cache-aside: GET /users/<id> reads through this; writes call forget_user().
    @cache.cached(ttl=60, namespace="users", key="{user_id}")
    def load_user(user_id: int) -> UserOut | None:
        user = User.objects.filter(pk=user_id).first()
        return None if user is None else user_out(user)

    return Services(
        config=config,
        kit=kit,
        hasher=config.password_hasher(),
        tokens=built(kit.tokens),
        limiter=built(kit.limiter),
        cache=cache,
        cursors=CursorCodec.from_settings(config.settings),
        load_user=load_user,
        redis=kit.redis,
    )


def build_kit() -> WebKit:
    """The adapter's kit (``settings.BACKENDKIT["KIT"]``): the one the services come from.

    Its settings carry the default budget (``BACKENDKIT_RATE_LIMIT_DEFAULT``), which the
    middleware charges per client address on every request but ``/health``.
    """
    return services().kit


def on_start() -> None:
    """Configure logging and create the bootstrap admin (called by ``wsgi.py``)."""
    config: ExampleConfig = settings.EXAMPLE
    configure_logging(config.settings)
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
