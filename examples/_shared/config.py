"""The example services' configuration: environment variables only, read once at start.

Every variable is documented in ``examples/README.md``. backendkit's own variables
(``BACKENDKIT_ENV``, ``BACKENDKIT_SECRET_KEY``, ``BACKENDKIT_JWT_SECRET``,
``BACKENDKIT_DATABASE_URL``, ``BACKENDKIT_REDIS_URL``, ``BACKENDKIT_RATE_LIMIT_DEFAULT``,
``BACKENDKIT_REFRESH_GRACE_SECONDS``, ``BACKENDKIT_TRUSTED_PROXIES``, ...) are parsed by
[`Settings.from_env`][backendkit.settings.Settings.from_env]; this module adds the few that
only the examples read (``BACKENDKIT_BOOTSTRAP_ADMIN``, ``BACKENDKIT_REDIS_KEY_PREFIX``,
``BACKENDKIT_TESTING_FAST_HASHER``, ``BACKENDKIT_METRICS_TOKEN``, ``PORT``, and the
sign-in options ``auth_env`` reads: ``BACKENDKIT_OIDC_ISSUER``, ``BACKENDKIT_OIDC_AUDIENCE``,
``BACKENDKIT_TOKEN_STORE``, ``BACKENDKIT_PASSWORD_RESET_SENDER``) and the
defaults a service needs to start on a laptop with nothing installed: a SQLite file in the
working directory, in-memory Redis stand-ins, a default rate limit of the API and a JWT
issuer and audience of the example's own. Outside production without
``BACKENDKIT_JWT_SECRET`` and ``BACKENDKIT_SECRET_KEY``, backendkit itself signs tokens
with its public development key (distinct per issuer and audience) and logs its
``development_signing_key`` warning.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from backendkit.errors import ConfigurationError
from backendkit.fields import normalize_email
from backendkit.settings import Settings
from examples._shared.auth_env import TokenStoreKind, read_auth_env
from examples._shared.database_urls import django_database, with_driver
from examples._shared.tracing import configure_tracing

if TYPE_CHECKING:
    from backendkit.auth import PasswordHasher
    from backendkit.web import WebKit

__all__ = [
    "CREDENTIAL_LIMIT_POLICY",
    "DEFAULT_JWT_AUDIENCE",
    "DEFAULT_JWT_ISSUER",
    "DEFAULT_RATE_LIMIT",
    "DEV_ADMIN_EMAIL",
    "DEV_ADMIN_PASSWORD",
    "LOGIN_LIMIT_PER_ACCOUNT",
    "LOGIN_LIMIT_PER_IP",
    "PASSWORD_CHANGE_LIMIT",
    "PASSWORD_RESET_CONFIRM_LIMIT",
    "REFRESH_LIMIT",
    "REGISTER_LIMIT",
    "ExampleConfig",
    "built",
    "database_url_from_env",
    "load_config",
]

T = TypeVar("T")

#: ``BACKENDKIT_RATE_LIMIT_DEFAULT`` when unset: the budget of every ``/api/`` request, per
#: client address, which the adapters charge (``/health`` is never charged).
DEFAULT_RATE_LIMIT = "100/15 minutes"
#: Login attempts per client address, on top of the default budget.
LOGIN_LIMIT_PER_IP = "10/minute"
#: Login attempts per (client address, email): slows password guessing on one account.
LOGIN_LIMIT_PER_ACCOUNT = "5/15 minutes"
#: Registrations per client address (each costs a bcrypt hash).
REGISTER_LIMIT = "20/hour"
#: Token refreshes per client address, on top of the default budget.
REFRESH_LIMIT = "30/minute"
#: Password changes per account (each checks the current password: a stolen access token
#: must not become a way to guess it).
PASSWORD_CHANGE_LIMIT = "5/15 minutes"
#: Password-reset confirmations per client address (each guesses a token).
PASSWORD_RESET_CONFIRM_LIMIT = "10/minute"
#: The failure policy of every rule above while Redis is down. Rules that guard
#: credentials never fail open: each worker counts in its own memory until Redis answers
#: again (so N workers allow up to N times a limit), where the app-wide default budget
#: fails open.
CREDENTIAL_LIMIT_POLICY: Final = "local_fallback"

#: ``BACKENDKIT_JWT_ISSUER`` / ``BACKENDKIT_JWT_AUDIENCE`` when unset (``{app}`` is the
#: example's name): every token is issued with them and a token without them is refused,
#: so a token signed with the same key for another service is not accepted here. A
#: deployment sets its own (its public URL, the API's name).
DEFAULT_JWT_ISSUER = "backendkit-example-{app}"
DEFAULT_JWT_AUDIENCE = "backendkit-example-{app}-api"

#: The admin the demo seeds when ``BACKENDKIT_BOOTSTRAP_ADMIN`` is unset.
DEV_ADMIN_EMAIL = "admin@example.com"
DEV_ADMIN_PASSWORD = "admin-password-change-me"

_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True, slots=True)
class ExampleConfig:
    """Everything an example service reads from its environment.

    Attributes:
        app: which example (``fastapi``, ``flask`` or ``django``): names the default
            SQLite file and Redis key prefix, so the three can share a machine.
        settings: backendkit's settings (``env``, secrets, URLs, limits, proxies, logging).
        database_url: ``BACKENDKIT_DATABASE_URL``, or a SQLite file in the working directory.
        rate_limit: the default ``/api/`` budget (``BACKENDKIT_RATE_LIMIT_DEFAULT``), also
            ``settings.rate_limit_default``, which the adapters charge.
        redis_key_prefix: prefix of every Redis key the service writes.
        bootstrap_admin: ``(email, password)`` of the admin created at start, if any.
        fast_hasher: use backendkit's low-cost testing hasher (test environment only).
        port: ``PORT``, where the demo and the documented commands listen.
        development_signing_key: neither ``BACKENDKIT_JWT_SECRET`` nor
            ``BACKENDKIT_SECRET_KEY`` is set (outside production): tokens are signed with
            backendkit's public development key, which it warns about itself.
        metrics_token: ``BACKENDKIT_METRICS_TOKEN``: when set, ``/metrics`` answers only
            ``Authorization: Bearer <token>``.
        oidc_issuer: ``BACKENDKIT_OIDC_ISSUER``: an identity provider whose access tokens
            are accepted beside the app's own (``None``: none).
        oidc_audience: ``BACKENDKIT_OIDC_AUDIENCE``: this API's ``aud`` at that provider
            (set exactly when ``oidc_issuer`` is).
        token_store: ``BACKENDKIT_TOKEN_STORE``: where refresh sessions and revocations
            live (``redis``, ``memory`` or ``sql``, the app's own database).
        password_reset_sender: ``BACKENDKIT_PASSWORD_RESET_SENDER``: ``module:callable``
            returning the sender of password-reset tokens (``None``: unset).
    """

    app: str
    settings: Settings
    database_url: str
    rate_limit: str
    redis_key_prefix: str
    bootstrap_admin: tuple[str, str] | None
    fast_hasher: bool
    port: int
    development_signing_key: bool
    metrics_token: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    token_store: TokenStoreKind = "memory"
    password_reset_sender: str | None = None

    @property
    def login_limit_per_ip(self) -> str:
        """Login attempts allowed per client address."""
        return LOGIN_LIMIT_PER_IP

    @property
    def login_limit_per_account(self) -> str:
        """Login attempts allowed per (client address, email)."""
        return LOGIN_LIMIT_PER_ACCOUNT

    @property
    def register_limit(self) -> str:
        """Registrations allowed per client address."""
        return REGISTER_LIMIT

    def sync_database_url(self) -> str:
        """``database_url`` with a synchronous driver (``sqlite``, ``postgresql+psycopg``,
        ``mysql+pymysql``)."""
        return with_driver(self.database_url, asynchronous=False)

    def async_database_url(self) -> str:
        """``database_url`` with an asyncio driver (``sqlite+aiosqlite``,
        ``postgresql+asyncpg``, ``mysql+asyncmy``).

        Raises:
            ConfigurationError: the database has no asyncio driver in this example.
        """
        return with_driver(self.database_url, asynchronous=True)

    def django_database(self) -> dict[str, Any]:
        """``database_url`` as a Django ``DATABASES["default"]`` entry.

        A MySQL or MariaDB URL selects Django's MySQL backend; the example's ``settings.py``
        puts PyMySQL under the name of mysqlclient unless mysqlclient is installed.

        Raises:
            ConfigurationError: not a SQLite, PostgreSQL, MySQL or MariaDB URL.
        """
        return django_database(self.database_url)

    def password_hasher(self) -> PasswordHasher:
        """bcrypt at cost 12, or the testing hasher when ``fast_hasher`` is on; each hash
        and verification is timed (``backendkit_password_duration_seconds``)."""
        from backendkit.auth import PasswordHasher
        from backendkit.metrics import Metrics

        if self.fast_hasher:
            from backendkit.testing import TestingPasswordHasher

            hasher: PasswordHasher = TestingPasswordHasher(self.settings)
        else:
            hasher = PasswordHasher()
        Metrics().watch_passwords(hasher)
        tracing = configure_tracing()
        if tracing is not None:  # OTEL_TRACES_EXPORTER set: a span per hash and verification
            tracing.watch_passwords(hasher)
        return hasher

    def web_kit(
        self,
        closers: Sequence[Callable[[], Any]] = (),
        *,
        sql_token_store: Callable[[], Any] | None = None,
        **kit_options: Any,
    ) -> WebKit:
        """The services the settings describe, built by backendkit.

        [`WebKit.from_settings`][backendkit.web.WebKit.from_settings] builds the limiters,
        the token service and the cache, on one Redis connector pair with keys under
        ``redis_key_prefix`` when ``BACKENDKIT_REDIS_URL`` is set (in memory otherwise).
        The token service keeps its sessions where ``token_store`` says: Redis, memory, or
        the store ``sql_token_store()`` builds on the app's own database (called only for
        ``sql``). Every access token is checked against that store, so a logged-out or
        deleted user's token stops working at once. ``closers`` run when the kit is
        closed; ``kit_options`` (``user_loader``, ``providers``, ``api_keys``) go to
        ``from_settings``. Take its services with ``built``. Its metrics (requests,
        limits, cache, tokens, Redis) go to prometheus-client's global registry, which
        ``/metrics`` serves.

        Raises:
            ConfigurationError: ``token_store`` is ``sql`` and no ``sql_token_store`` was given.
        """
        from backendkit.metrics import Metrics
        from backendkit.web import WebKit

        options: dict[str, Any] = {"check_revocation": True}
        tokens = None
        if self.token_store != "redis":
            from backendkit.auth import TokenService

            if self.token_store == "sql":
                if sql_token_store is None:
                    raise ConfigurationError(
                        f"BACKENDKIT_TOKEN_STORE=sql is not supported by the {self.app} example"
                    )
                store: Any = sql_token_store()
            else:
                store = "memory://"
            tokens = TokenService.from_settings(self.settings, store=store, **options)
        kit = WebKit.from_settings(
            self.settings,
            tokens=tokens,
            redis_key_prefix=self.redis_key_prefix,
            token_options=options,
            closers=closers,
            metrics=Metrics(),
            tracing=configure_tracing(),  # None unless OTEL_TRACES_EXPORTER names an exporter
            **kit_options,
        )
        return kit

    def redis_prefix(self, component: str) -> str:
        """The key prefix of one component (``"rl:"``, ``"tokens:"``, ``"cache:"``)."""
        return f"{self.redis_key_prefix}{component}"


def built(service: T | None) -> T:
    """A service of the kit, which backendkit built when its extra is installed.

    Raises:
        ConfigurationError: it was not built (the examples need the ``auth`` and
            ``ratelimit`` extras).
    """
    if service is None:
        raise ConfigurationError("the examples need pip install 'backendkit[auth,ratelimit]'")
    return service


# --8<-- [start:load_config]
def load_config(app: str, environ: Mapping[str, str] | None = None) -> ExampleConfig:
    """Read the example's configuration from ``environ`` (``os.environ`` by default).

    Raises:
        ConfigurationError: a variable is missing or invalid; the message names it.
    """
    source = os.environ if environ is None else environ
    env = (source.get("BACKENDKIT_ENV") or "production").strip().lower()
    overrides: dict[str, Any] = {}
    if not source.get("BACKENDKIT_JWT_SECRET") and env == "production":
        raise ConfigurationError(
            "BACKENDKIT_JWT_SECRET is required in production (at least 32 random bytes; "
            "or set BACKENDKIT_ENV=development for local work)"
        )
    # Issued and required in every token (TokenService.from_settings reads them).
    overrides["jwt_issuer"] = _stripped(source.get("BACKENDKIT_JWT_ISSUER")) or (
        DEFAULT_JWT_ISSUER.format(app=app)
    )
    overrides["jwt_audience"] = _stripped(source.get("BACKENDKIT_JWT_AUDIENCE")) or (
        DEFAULT_JWT_AUDIENCE.format(app=app)
    )
    database_url = _database_url(app, source)
    overrides["database_url"] = database_url
    # The adapters charge it on every /api/ request, per client address.
    rate_limit = _rate_limit(source.get("BACKENDKIT_RATE_LIMIT_DEFAULT"))
    overrides["rate_limit_default"] = rate_limit
    settings = Settings.from_env(source, **overrides)
    fast = (source.get("BACKENDKIT_TESTING_FAST_HASHER") or "").strip().lower() in _TRUE
    if fast and settings.env != "test":
        raise ConfigurationError(
            "BACKENDKIT_TESTING_FAST_HASHER is honoured only with BACKENDKIT_ENV=test"
        )
    return ExampleConfig(
        app=app,
        settings=settings,
        database_url=database_url,
        rate_limit=rate_limit,
        redis_key_prefix=source.get("BACKENDKIT_REDIS_KEY_PREFIX") or f"bkx:{app}:",
        bootstrap_admin=_bootstrap_admin(source.get("BACKENDKIT_BOOTSTRAP_ADMIN")),
        fast_hasher=fast,
        port=_port(source.get("PORT")),
        development_signing_key=settings.jwt_secret is None and not settings.secret_key,
        metrics_token=source.get("BACKENDKIT_METRICS_TOKEN") or None,
        **read_auth_env(source, redis=settings.redis_url is not None),
    )


# --8<-- [end:load_config]


def database_url_from_env(
    app: str, *, asynchronous: bool, environ: Mapping[str, str] | None = None
) -> str:
    """The example's database URL with a sync or an asyncio driver, from that variable alone.

    ``BACKENDKIT_DATABASE_URL`` (or ``app``'s default SQLite file), as ``sync_database_url()``
    or ``async_database_url()`` of its configuration gives it. The examples' Alembic
    environment connects with it, so a migration job needs no secrets.

    Raises:
        ConfigurationError: the URL is malformed, or has no driver of that kind here.
    """
    source = os.environ if environ is None else environ
    return with_driver(_database_url(app, source), asynchronous=asynchronous)


def _database_url(app: str, source: Mapping[str, str]) -> str:
    return source.get("BACKENDKIT_DATABASE_URL") or _default_sqlite(app)


def _stripped(raw: str | None) -> str:
    return (raw or "").strip()


def _default_sqlite(app: str) -> str:
    return f"sqlite:///{Path.cwd() / f'backendkit_{app}.db'}"


def _rate_limit(raw: str | None) -> str:
    """``BACKENDKIT_RATE_LIMIT_DEFAULT``, or the documented default.

    A malformed value stops the start when the app builds its ``WebKit``.
    """
    return (raw or "").strip() or DEFAULT_RATE_LIMIT


def _bootstrap_admin(raw: str | None) -> tuple[str, str] | None:
    if not raw:
        return None
    email, sep, password = raw.partition(":")
    problem = None
    try:
        email = normalize_email(email)
    except ValueError:
        problem = "the part before ':' must be a valid email address"
    if not sep or not 8 <= len(password.encode()) <= 72:
        problem = "use email:password, with a password of 8 to 72 bytes"
    if problem is not None:
        # The value holds a password: the message must not repeat it.
        raise ConfigurationError(f"BACKENDKIT_BOOTSTRAP_ADMIN: {problem}")
    return email, password


def _port(raw: str | None) -> int:
    if not raw:
        return 8000
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigurationError("PORT must be a TCP port number (1-65535)")
    return int(raw)
