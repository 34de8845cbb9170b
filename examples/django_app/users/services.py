"""The service's long-lived objects (one set per worker process) and the adapter's kit.

Built on first use from ``settings.EXAMPLE``: bcrypt and the kit backendkit builds from the
settings (the token service, the rate limiter and the cache, sharing one ``RedisConnector``
when ``BACKENDKIT_REDIS_URL`` is set, in memory otherwise). ``settings.BACKENDKIT["KIT"]``
points at ``build_kit``. The stores without Redis are backendkit's Django apps on the
app's own database: ``DjangoTokenStore`` for ``BACKENDKIT_TOKEN_STORE=sql``,
``DjangoApiKeyStore`` always, ``DjangoOneTimeTokenStore`` for password resets.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction

from backendkit.adapters.django.apikeys import DjangoApiKeyStore
from backendkit.adapters.django.onetime import DjangoOneTimeTokenStore
from backendkit.adapters.django.tokenstore import DjangoTokenStore
from backendkit.auth import (
    ApiKeyService,
    OneTimeTokens,
    PasswordHasher,
    RedisOneTimeTokenStore,
    TokenService,
)
from backendkit.cache import Cache, CachedFunction
from backendkit.errors import BackendUnavailable
from backendkit.listing import CursorCodec
from backendkit.logging import configure_logging, get_logger
from backendkit.ratelimit import RateLimiter
from backendkit.web import LinkedUser, Principal, WebKit
from examples._shared.auth_extras import (
    api_key_service,
    oidc_verifier,
    password_reset_tokens,
    provider_identity_key,
    provider_user_values,
)
from examples._shared.config import ExampleConfig, built
from examples._shared.schemas import UserOut
from examples.django_app.users.models import ProviderIdentity, User

__all__ = ["Services", "build_kit", "link_provider_user", "on_start", "services", "user_out"]

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
        api_keys: creates, lists, revokes and checks API keys (``DjangoApiKeyStore``).
        reset_tokens: password-reset tokens (Redis when configured, else
            ``DjangoOneTimeTokenStore``); ``None`` when no sender is configured.
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
    api_keys: ApiKeyService
    reset_tokens: OneTimeTokens | None

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
    # (one Redis connector pair when BACKENDKIT_REDIS_URL is set, in memory otherwise);
    # BACKENDKIT_TOKEN_STORE=sql keeps sessions in this app's database instead.
    verifier = oidc_verifier(config)
    kit = config.web_kit(
        sql_token_store=DjangoTokenStore,
        user_loader=_load_caller,
        providers=() if verifier is None else (verifier,),
        api_keys=api_key_service(config, DjangoApiKeyStore()),
    )
    cache = built(kit.cache)
    limiter = built(kit.limiter)
    one_time: Any = (
        DjangoOneTimeTokenStore()
        if kit.redis is None
        else RedisOneTimeTokenStore(kit.redis, key_prefix=config.redis_prefix("ott:"))
    )

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
        limiter=limiter,
        cache=cache,
        cursors=CursorCodec.from_settings(config.settings),
        load_user=load_user,
        redis=kit.redis,
        api_keys=built(kit.api_keys),
        # Logs password_reset_not_configured now when there is no sender (see on_start).
        reset_tokens=password_reset_tokens(config, one_time, limiter=limiter),
    )


def _load_caller(principal: Principal) -> Any:
    """The kit's ``user_loader``: the local user an API key or a provider's token acts as.

    An API key's owner and a provider's linked user are read from the database on each
    request (not from the cache), so the routes authorize with the account's current role
    and a deleted owner's keys stop working at once: ``None`` (a ``401``). The app's own
    tokens are left as they are: their roles were issued with them, and a deleted user's
    sessions are revoked.
    """
    if principal.method == "bearer":
        return LinkedUser(principal.user_id)
    if principal.method == "provider":
        user_id = link_provider_user(principal)
    elif principal.user_id.isdigit():  # an API key's owner (only local users create keys)
        user_id = int(principal.user_id)
    else:
        return None
    found = User.objects.filter(pk=user_id).first()
    return None if found is None else LinkedUser(str(user_id), user_out(found))


def link_provider_user(principal: Principal) -> int:
    """The local user id of a provider's ``(issuer, subject)``; a first-seen one gets a new
    user (role ``user``, no password, a placeholder email) and its link, in one
    transaction. Never matched by email or by a bare subject."""
    key = provider_identity_key(principal.issuer or "", principal.subject or "")
    links = ProviderIdentity.objects.filter(key=key).values_list("user_id", flat=True)
    found = links.first()
    if found is not None:
        return int(found)
    config: ExampleConfig = settings.EXAMPLE
    try:
        with transaction.atomic():
            user = User.objects.create(**provider_user_values(config.settings, principal))
            ProviderIdentity.objects.create(
                key=key, issuer=principal.issuer, subject=principal.subject, user=user
            )
    except IntegrityError:
        # Another worker linked the same subject first (its placeholder email is the same).
        found = links.first()
        if found is None:
            raise
        return int(found)
    log.info("provider_user_created", user_id=user.pk, issuer=principal.issuer)
    return int(user.pk)


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
    services()  # built now, so its start-up warnings are logged at start
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
