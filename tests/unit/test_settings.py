"""Settings: parsed once from code or BACKENDKIT_* variables; every bad value named."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from backendkit.errors import ConfigurationError
from backendkit.settings import ENV_PREFIX, Settings

KEY_NEW = "k1-new-0123456789abcdef"
KEY_OLD = "k0-old-0123456789abcdef"
BASE = {"BACKENDKIT_SECRET_KEY": KEY_NEW}


def test_defaults_in_production_with_a_secret() -> None:
    """Only the secret is required; everything else has a documented default."""
    s = Settings.from_env(BASE)
    assert s.env == "production"
    assert s.is_production
    assert [k.get_secret_value() for k in s.secret_key] == [KEY_NEW]
    assert s.jwt_secret is None
    assert s.database_url is None
    assert s.redis_url is None
    assert (s.redis_connect_timeout, s.redis_command_timeout) == (0.25, 0.25)
    assert (s.redis_breaker_threshold, s.redis_breaker_cooldown) == (1, 5.0)
    assert s.redis_warn_interval == 30.0
    assert s.max_body_bytes == 1_048_576
    assert s.rate_limit_default is None
    assert s.refresh_grace_seconds == 5.0
    assert s.trusted_proxies == ()
    assert s.error_format == "envelope"
    assert (s.log_level, s.log_format, s.resolved_log_format) == ("INFO", "auto", "json")


def test_every_variable_is_read() -> None:
    """Each BACKENDKIT_* variable lands in its field, converted to its type."""
    env = {
        "BACKENDKIT_ENV": "development",
        "BACKENDKIT_SECRET_KEY": f"{KEY_NEW}, {KEY_OLD}",
        "BACKENDKIT_JWT_SECRET": "jwt-secret-0123456789-0123456789-xyz",
        "BACKENDKIT_API_KEY_SECRET": "api-key-secret-0123456789-0123456789",
        "BACKENDKIT_JWT_ISSUER": "https://auth.example.com",
        "BACKENDKIT_JWT_AUDIENCE": "api",
        "BACKENDKIT_JWT_ACCESS_TTL": "600",
        "BACKENDKIT_JWT_REFRESH_TTL": "86400",
        "BACKENDKIT_JWT_MAX_SESSION_LIFETIME": "172800",
        "BACKENDKIT_JWT_LEEWAY": "5",
        "BACKENDKIT_PASSWORD_BCRYPT_COST": "11",
        "BACKENDKIT_DATABASE_URL": "postgresql+psycopg://u@db/app",
        "BACKENDKIT_REDIS_URL": "redis://cache:6379/1",
        "BACKENDKIT_REDIS_CONNECT_TIMEOUT": "0.1",
        "BACKENDKIT_REDIS_COMMAND_TIMEOUT": "0.2",
        "BACKENDKIT_REDIS_BREAKER_THRESHOLD": "3",
        "BACKENDKIT_REDIS_BREAKER_COOLDOWN": "10",
        "BACKENDKIT_REDIS_WARN_INTERVAL": "60",
        "BACKENDKIT_MAX_BODY_BYTES": "2048",
        "BACKENDKIT_RATE_LIMIT_DEFAULT": "100/15 minutes",
        "BACKENDKIT_REFRESH_GRACE_SECONDS": "2.5",
        "BACKENDKIT_RETRY_AFTER": "7",
        "BACKENDKIT_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
        "BACKENDKIT_ERROR_FORMAT": "problem",
        "BACKENDKIT_LOG_LEVEL": "DEBUG",
        "BACKENDKIT_LOG_FORMAT": "json",
    }
    s = Settings.from_env(env)
    assert s.env == "development"
    assert [k.get_secret_value() for k in s.secret_key] == [KEY_NEW, KEY_OLD]
    assert s.jwt_secret is not None
    assert s.jwt_secret.get_secret_value() == "jwt-secret-0123456789-0123456789-xyz"
    assert s.api_key_secret is not None
    assert s.api_key_secret.get_secret_value() == "api-key-secret-0123456789-0123456789"
    assert (s.jwt_issuer, s.jwt_audience) == ("https://auth.example.com", "api")
    assert (s.jwt_access_ttl, s.jwt_refresh_ttl, s.jwt_max_session_lifetime) == (
        600,
        86400,
        172800,
    )
    assert (s.jwt_leeway, s.password_bcrypt_cost) == (5, 11)
    assert s.database_url == "postgresql+psycopg://u@db/app"
    assert s.redis_url == "redis://cache:6379/1"
    assert (s.redis_connect_timeout, s.redis_command_timeout) == (0.1, 0.2)
    assert (s.redis_breaker_threshold, s.redis_breaker_cooldown) == (3, 10.0)
    assert s.redis_warn_interval == 60.0
    assert s.max_body_bytes == 2048
    assert s.rate_limit_default == "100/15 minutes"
    assert s.refresh_grace_seconds == 2.5
    assert s.retry_after == 7.0
    assert s.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")
    assert s.error_format == "problem"
    assert (s.log_level, s.resolved_log_format) == ("DEBUG", "json")
    # Every field has a variable: the test above covers them all.
    assert {ENV_PREFIX + name.upper() for name in Settings.model_fields} == set(env)


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an explicit mapping, os.environ is read."""
    monkeypatch.setenv("BACKENDKIT_SECRET_KEY", KEY_NEW)
    monkeypatch.setenv("BACKENDKIT_MAX_BODY_BYTES", "99")
    assert Settings.from_env().max_body_bytes == 99


def test_empty_variables_count_as_unset() -> None:
    """An empty BACKENDKIT_* value falls back to the default."""
    s = Settings.from_env({**BASE, "BACKENDKIT_REDIS_URL": "", "BACKENDKIT_LOG_LEVEL": ""})
    assert s.redis_url is None
    assert s.log_level == "INFO"


def test_overrides_win_over_the_environment() -> None:
    """Keyword overrides beat environment values."""
    s = Settings.from_env({**BASE, "BACKENDKIT_MAX_BODY_BYTES": "10"}, max_body_bytes=20)
    assert s.max_body_bytes == 20


def test_unrelated_variables_are_ignored() -> None:
    """Variables without the prefix (or unknown to Settings) are not read."""
    s = Settings.from_env({**BASE, "MAX_BODY_BYTES": "1", "OTHER_SECRET_KEY": "x"})
    assert s.max_body_bytes == 1_048_576


def test_lists_are_comma_separated_and_trimmed() -> None:
    """Secret keys and trusted proxies split on commas; blanks are dropped."""
    s = Settings.from_env(
        {
            "BACKENDKIT_SECRET_KEY": f" {KEY_NEW} ,, {KEY_OLD} ",
            "BACKENDKIT_TRUSTED_PROXIES": "10.0.0.1,,  ::1 ",
        }
    )
    assert [k.get_secret_value() for k in s.secret_key] == [KEY_NEW, KEY_OLD]
    assert s.trusted_proxies == ("10.0.0.1", "::1")


def test_lists_from_code() -> None:
    """In code, keys may be a list or one comma-separated string (also as SecretStr)."""
    as_list = Settings(secret_key=[KEY_NEW, KEY_OLD])  # type: ignore[arg-type]
    as_text = Settings(secret_key=f"{KEY_NEW},{KEY_OLD}")  # type: ignore[arg-type]
    as_secret = Settings(secret_key=pydantic.SecretStr(f"{KEY_NEW},{KEY_OLD}"))  # type: ignore[arg-type]
    assert as_list.derive_keys("x") == as_text.derive_keys("x") == as_secret.derive_keys("x")


def test_log_level_is_case_insensitive() -> None:
    """BACKENDKIT_LOG_LEVEL=debug means DEBUG."""
    assert Settings.from_env({**BASE, "BACKENDKIT_LOG_LEVEL": "debug"}).log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "bad", "good"),
    [
        ("BACKENDKIT_ENV", "staging", "test"),
        ("BACKENDKIT_SECRET_KEY", "too-short", KEY_OLD),
        ("BACKENDKIT_REDIS_CONNECT_TIMEOUT", "0", "0.5"),
        ("BACKENDKIT_REDIS_CONNECT_TIMEOUT", "fast", "1"),
        ("BACKENDKIT_REDIS_COMMAND_TIMEOUT", "31", "30"),
        ("BACKENDKIT_REDIS_BREAKER_THRESHOLD", "0", "1"),
        ("BACKENDKIT_REDIS_BREAKER_THRESHOLD", "1.5", "2"),
        ("BACKENDKIT_REDIS_BREAKER_COOLDOWN", "-1", "0.5"),
        ("BACKENDKIT_REDIS_WARN_INTERVAL", "0", "1"),
        ("BACKENDKIT_MAX_BODY_BYTES", "0", "1"),
        ("BACKENDKIT_MAX_BODY_BYTES", "1MB", "1000000"),
        ("BACKENDKIT_REFRESH_GRACE_SECONDS", "61", "60"),
        ("BACKENDKIT_ERROR_FORMAT", "xml", "problem"),
        ("BACKENDKIT_LOG_LEVEL", "LOUD", "WARNING"),
        ("BACKENDKIT_LOG_FORMAT", "xml", "console"),
    ],
)
def test_each_invalid_value_names_its_variable(variable: str, bad: str, good: str) -> None:
    """An invalid value fails at start-up naming the variable; a valid one is accepted."""
    with pytest.raises(ConfigurationError, match=variable) as info:
        Settings.from_env({**BASE, variable: bad})
    assert info.value.__cause__ is None
    Settings.from_env({**BASE, variable: good})


def test_several_invalid_values_are_all_reported() -> None:
    """One error lists every invalid variable, not just the first."""
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({**BASE, "BACKENDKIT_ENV": "x", "BACKENDKIT_MAX_BODY_BYTES": "-1"})
    assert "BACKENDKIT_ENV" in str(info.value)
    assert "BACKENDKIT_MAX_BODY_BYTES" in str(info.value)


def test_invalid_secret_is_never_echoed() -> None:
    """The error for a too-short secret does not repeat the secret."""
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({"BACKENDKIT_SECRET_KEY": "short-s3cr3t"})
    assert "short-s3cr3t" not in str(info.value)


def test_production_refuses_to_start_without_a_secret() -> None:
    """No secret in production: ConfigurationError naming BACKENDKIT_SECRET_KEY."""
    with pytest.raises(ConfigurationError, match="BACKENDKIT_SECRET_KEY"):
        Settings.from_env({})
    with pytest.raises(ConfigurationError, match="secret key is required"):
        Settings()


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_and_test_run_without_a_secret(env: str) -> None:
    """Outside production a missing secret is allowed (a fixed insecure key is derived)."""
    s = Settings.from_env({"BACKENDKIT_ENV": env})
    assert not s.is_production
    assert len(s.derive_keys("cursor")) == 1


def test_resolved_log_format() -> None:
    """auto resolves to console in development, JSON in test and production."""
    assert Settings(env="development").resolved_log_format == "console"
    assert Settings(env="test").resolved_log_format == "json"
    assert Settings(env="development", log_format="json").resolved_log_format == "json"


def test_settings_are_frozen_and_strict() -> None:
    """Settings cannot be changed after parsing, and unknown fields are refused."""
    s = Settings(env="test")
    with pytest.raises(pydantic.ValidationError):
        s.env = "production"  # type: ignore[misc]
    with pytest.raises(ConfigurationError, match="BACKENDKIT_UNKNOWN"):
        Settings(env="test", unknown=1)  # type: ignore[call-arg]


def test_secrets_are_hidden_in_repr() -> None:
    """Neither the secret key nor the JWT secret appears in repr/str."""
    s = Settings(secret_key=[KEY_NEW], jwt_secret="jwt-secret-0123456789-0123456789-xyz")  # type: ignore[arg-type]
    for text in (repr(s), str(s)):
        assert KEY_NEW not in text
        assert "jwt-secret-0123456789" not in text


def test_invalid_secret_is_never_quoted_in_the_error() -> None:
    """A rejected secret names its variable but its value never reaches the message."""
    with pytest.raises(ConfigurationError) as info:
        Settings(env="test", jwt_secret="hunter2-short")
    assert "BACKENDKIT_JWT_SECRET" in str(info.value)
    assert "hunter2" not in str(info.value)
    assert info.value.__cause__ is None


# --- derive_keys -------------------------------------------------------------------------


def _settings(*keys: str) -> Settings:
    return Settings(secret_key=list(keys))  # type: ignore[arg-type]


def test_derived_keys_are_32_bytes_and_deterministic() -> None:
    """The same secret and purpose always give the same 32-byte key."""
    first = _settings(KEY_NEW).derive_keys("cursor")
    assert first == _settings(KEY_NEW).derive_keys("cursor")
    assert [len(k) for k in first] == [32]


def test_purposes_are_independent() -> None:
    """Different purposes give unrelated keys, none equal to the secret itself."""
    s = _settings(KEY_NEW)
    keys = {p: s.derive_keys(p)[0] for p in ("cursor", "csrf", "jwt", "cursor2")}
    assert len(set(keys.values())) == len(keys)
    assert KEY_NEW.encode() not in keys.values()


def test_different_secrets_give_different_keys() -> None:
    """Changing the secret changes every derived key."""
    assert _settings(KEY_NEW).derive_keys("cursor") != _settings(KEY_OLD).derive_keys("cursor")


def test_rotation_first_signs_all_verify() -> None:
    """With [new, old] the first key is new's and old's key is still there to verify."""
    rotated = _settings(KEY_NEW, KEY_OLD).derive_keys("cursor")
    assert rotated == [
        _settings(KEY_NEW).derive_keys("cursor")[0],
        _settings(KEY_OLD).derive_keys("cursor")[0],
    ]


def test_insecure_development_key_differs_from_real_keys() -> None:
    """The no-secret development key is not what any configured secret derives."""
    dev: Any = Settings(env="development").derive_keys("cursor")
    assert dev != _settings(KEY_NEW).derive_keys("cursor")
    assert dev == Settings(env="test").derive_keys("cursor")


def test_short_jwt_secret_is_refused_and_a_long_one_accepted() -> None:
    """A JWT secret under 32 bytes fails at start-up naming the variable; 32 bytes pass."""
    base = {"BACKENDKIT_ENV": "development"}
    with pytest.raises(ConfigurationError, match="BACKENDKIT_JWT_SECRET"):
        Settings.from_env({**base, "BACKENDKIT_JWT_SECRET": "x" * 31})
    assert Settings.from_env({**base, "BACKENDKIT_JWT_SECRET": "x" * 32}).jwt_secret


def test_low_bcrypt_cost_is_refused_in_production_only() -> None:
    """Cost 4 (for tests) is refused in production and accepted in test."""
    with pytest.raises(ConfigurationError, match="bcrypt cost"):
        Settings(secret_key=KEY_NEW, password_bcrypt_cost=4)
    assert Settings(env="test", password_bcrypt_cost=4).password_bcrypt_cost == 4
    assert Settings(secret_key=KEY_NEW, password_bcrypt_cost=10).password_bcrypt_cost == 10
