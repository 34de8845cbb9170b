"""The examples' environment handling: safe defaults, loud refusals (no server needed)."""

from __future__ import annotations

import pytest
from examples._shared.config import DEFAULT_RATE_LIMIT, ExampleConfig, load_config

from backendkit.errors import ConfigurationError
from backendkit.web import WebKit

PROD = {"BACKENDKIT_SECRET_KEY": "s" * 32, "BACKENDKIT_JWT_SECRET": "j" * 40}


def test_production_needs_a_jwt_secret() -> None:
    """Production without BACKENDKIT_JWT_SECRET refuses to start; with it, it starts."""
    with pytest.raises(ConfigurationError, match="BACKENDKIT_JWT_SECRET"):
        load_config("fastapi", {"BACKENDKIT_SECRET_KEY": "s" * 32})
    config = load_config("fastapi", PROD)
    assert config.settings.is_production
    assert not config.development_signing_key


def test_development_uses_backendkits_development_key() -> None:
    """Outside production without secrets, the example sets no JWT secret of its own:
    backendkit signs with its development key (per issuer) and warns about it itself."""
    config = load_config("flask", {"BACKENDKIT_ENV": "development"})
    assert config.development_signing_key
    assert config.settings.jwt_secret is None
    kit = config.web_kit()
    assert kit.tokens is not None
    other = load_config("fastapi", {"BACKENDKIT_ENV": "development"}).web_kit()
    assert other.tokens is not None
    # The two examples name themselves differently: neither accepts the other's tokens.
    assert kit.tokens.key_ring.signing_key.kid != other.tokens.key_ring.signing_key.kid


def test_a_secret_key_in_development_is_no_development_key() -> None:
    """Valid twin: with BACKENDKIT_SECRET_KEY the JWT key is derived from it, not public."""
    config = load_config(
        "flask", {"BACKENDKIT_ENV": "development", "BACKENDKIT_SECRET_KEY": "s" * 32}
    )
    assert not config.development_signing_key


def test_defaults_need_nothing_installed() -> None:
    """SQLite file in the working directory, documented default limit, port 8000."""
    config = load_config("django", {"BACKENDKIT_ENV": "development"})
    assert config.database_url.startswith("sqlite:///")
    assert config.database_url.endswith("backendkit_django.db")
    assert config.rate_limit == DEFAULT_RATE_LIMIT == "100/15 minutes"
    assert config.port == 8000
    assert config.bootstrap_admin is None
    assert config.settings.redis_url is None
    # The adapters charge it (on /api/ paths): it is in the kit's settings.
    assert config.settings.rate_limit_default == DEFAULT_RATE_LIMIT


def test_fast_hasher_only_in_test_runs() -> None:
    """BACKENDKIT_TESTING_FAST_HASHER is refused outside BACKENDKIT_ENV=test; honoured in it."""
    for env in ("production", "development"):
        environ = {**PROD, "BACKENDKIT_ENV": env, "BACKENDKIT_TESTING_FAST_HASHER": "1"}
        with pytest.raises(ConfigurationError, match="FAST_HASHER"):
            load_config("fastapi", environ)
    config = load_config(
        "fastapi", {"BACKENDKIT_ENV": "test", "BACKENDKIT_TESTING_FAST_HASHER": "1"}
    )
    assert config.password_hasher().cost == 4
    assert load_config("fastapi", {"BACKENDKIT_ENV": "test"}).password_hasher().cost == 12


@pytest.mark.parametrize(
    "value", ["admin@example.com", "not-an-email:password123", "admin@example.com:short"]
)
def test_bootstrap_admin_is_validated_without_echoing_it(value: str) -> None:
    """A malformed BACKENDKIT_BOOTSTRAP_ADMIN is refused; the message never repeats it."""
    with pytest.raises(ConfigurationError) as caught:
        load_config("fastapi", {"BACKENDKIT_ENV": "test", "BACKENDKIT_BOOTSTRAP_ADMIN": value})
    assert value.partition(":")[2] == "" or value.partition(":")[2] not in str(caught.value)


def test_bootstrap_admin_valid_twin() -> None:
    """email:password is split at the first colon and the email normalized."""
    environ = {
        "BACKENDKIT_ENV": "test",
        "BACKENDKIT_BOOTSTRAP_ADMIN": " Admin@Example.com:p:w-12345",
    }
    assert load_config("flask", environ).bootstrap_admin == ("admin@example.com", "p:w-12345")


def test_default_rate_limit_is_read_and_checked_at_start() -> None:
    """BACKENDKIT_RATE_LIMIT_DEFAULT replaces the default budget; a malformed one is refused."""

    def config(limits: str) -> ExampleConfig:
        return load_config(
            "flask", {"BACKENDKIT_ENV": "test", "BACKENDKIT_RATE_LIMIT_DEFAULT": limits}
        )

    custom = config("7/second;50/hour")
    assert custom.rate_limit == custom.settings.rate_limit_default == "7/second;50/hour"
    assert WebKit.from_settings(custom.settings).default_rate_limit == "7/second;50/hour"
    with pytest.raises(ConfigurationError, match="BACKENDKIT_RATE_LIMIT_DEFAULT"):
        WebKit.from_settings(config("lots").settings)


@pytest.mark.parametrize("port", ["0", "65536", "http", "-1"])
def test_port_is_validated(port: str) -> None:
    """PORT must be a TCP port; 8080 is fine."""
    with pytest.raises(ConfigurationError, match="PORT"):
        load_config("fastapi", {"BACKENDKIT_ENV": "test", "PORT": port})
    assert load_config("fastapi", {"BACKENDKIT_ENV": "test", "PORT": "8080"}).port == 8080


@pytest.mark.parametrize(
    ("url", "sync", "asynchronous"),
    [
        ("sqlite:///app.db", "sqlite:///app.db", "sqlite+aiosqlite:///app.db"),
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+asyncpg://h/db", "postgresql+psycopg://h/db", "postgresql+asyncpg://h/db"),
        ("postgresql+psycopg://h/db", "postgresql+psycopg://h/db", "postgresql+psycopg://h/db"),
        ("mysql://u@h/db", "mysql+pymysql://u@h/db", "mysql+asyncmy://u@h/db"),
        ("mariadb://u@h/db", "mariadb+pymysql://u@h/db", "mariadb+asyncmy://u@h/db"),
        ("mysql+aiomysql://h/db", "mysql+pymysql://h/db", "mysql+aiomysql://h/db"),
    ],
)
def test_each_app_picks_its_driver(url: str, sync: str, asynchronous: str) -> None:
    """One BACKENDKIT_DATABASE_URL serves the sync and the async examples."""
    config = load_config("fastapi", {"BACKENDKIT_ENV": "test", "BACKENDKIT_DATABASE_URL": url})
    assert config.sync_database_url() == sync
    assert config.async_database_url() == asynchronous


def test_django_database_settings() -> None:
    """SQLite, PostgreSQL and MySQL/MariaDB URLs become DATABASES entries; others are refused."""

    def django(url: str) -> dict[str, object]:
        environ = {"BACKENDKIT_ENV": "test", "BACKENDKIT_DATABASE_URL": url}
        return load_config("django", environ).django_database()

    assert django("sqlite:////tmp/app.db")["NAME"] == "/tmp/app.db"
    postgres = django("postgresql+psycopg://user:p%40ss@db.local:6543/users?sslmode=require")
    assert postgres["ENGINE"] == "django.db.backends.postgresql"
    assert (postgres["NAME"], postgres["USER"], postgres["PASSWORD"]) == ("users", "user", "p@ss")
    assert (postgres["HOST"], postgres["PORT"]) == ("db.local", "6543")
    assert postgres["OPTIONS"] == {"sslmode": "require"}
    mysql = django("mysql+pymysql://root:s%3Acret@db.local:3307/users?ssl_mode=REQUIRED")
    assert mysql["ENGINE"] == "django.db.backends.mysql"
    assert (mysql["NAME"], mysql["USER"], mysql["PASSWORD"]) == ("users", "root", "s:cret")
    assert (mysql["HOST"], mysql["PORT"]) == ("db.local", "3307")
    assert mysql["OPTIONS"] == {"charset": "utf8mb4", "ssl_mode": "REQUIRED"}
    assert django("mariadb://h/users")["ENGINE"] == "django.db.backends.mysql"
    with pytest.raises(ConfigurationError, match="mysql://"):
        django("oracle://h/db")


def test_a_database_without_an_asyncio_driver_is_refused() -> None:
    """The FastAPI example refuses a database it has no asyncio driver for, naming the variable."""
    with pytest.raises(ConfigurationError, match=r"BACKENDKIT_DATABASE_URL.*'oracle'"):
        load_config(
            "fastapi", {"BACKENDKIT_ENV": "test", "BACKENDKIT_DATABASE_URL": "oracle://h/db"}
        ).async_database_url()
