"""RedisConfig and Redis URL parsing: every supported form, every rejection named."""

from __future__ import annotations

import pytest

from backendkit.errors import ConfigurationError
from backendkit.redis import RedisConfig
from backendkit.redis._config import parse_redis_url, redact_url
from backendkit.settings import Settings


def test_defaults_are_short_and_breaker_trips_at_once() -> None:
    """Defaults: 250 ms connect/command timeouts, breaker opens on the first failure."""
    config = RedisConfig("redis://localhost")
    assert config.connect_timeout == 0.25
    assert config.command_timeout == 0.25
    assert config.breaker_threshold == 1
    assert config.breaker_cooldown == 5.0
    assert config.warn_interval == 30.0


@pytest.mark.parametrize(
    ("url", "tls", "db"),
    [
        ("redis://localhost", False, 0),
        ("redis://localhost:6380/3", False, 3),
        ("redis://:secret@localhost:6379/0", False, 0),
        ("redis://user:secret@10.0.0.1/", False, 0),
        ("rediss://localhost:6380/1", True, 1),
        ("redis://[::1]:6379/2", False, 2),
        ("redis://localhost/0?health_check_interval=10", False, 0),
    ],
)
def test_standalone_urls(url: str, tls: bool, db: int) -> None:
    """redis:// and rediss:// URLs parse as standalone, with TLS and db recognised."""
    parsed = parse_redis_url(url)
    assert parsed.kind == "standalone"
    assert parsed.tls is tls
    assert parsed.db == db
    assert parsed.url == url


def test_unix_url() -> None:
    """unix:// URLs with a socket path are standalone."""
    parsed = parse_redis_url("unix:///run/redis/redis.sock?db=2")
    assert parsed.kind == "standalone"


def test_cluster_url_with_several_nodes_and_credentials() -> None:
    """redis+cluster:// lists startup nodes; default port 6379; credentials decoded."""
    parsed = parse_redis_url("redis+cluster://app:p%40ss@n1:7000,n2,[::1]:7002")
    assert parsed.kind == "cluster"
    assert parsed.nodes == (("n1", 7000), ("n2", 6379), ("::1", 7002))
    assert (parsed.username, parsed.password) == ("app", "p@ss")
    assert parsed.tls is False


def test_tls_cluster_url() -> None:
    """rediss+cluster:// turns TLS on; an explicit /0 is accepted."""
    parsed = parse_redis_url("rediss+cluster://n1:7000/0")
    assert parsed.kind == "cluster"
    assert parsed.tls is True


def test_sentinel_url() -> None:
    """redis+sentinel:// names sentinels (default port 26379), the service and the db."""
    parsed = parse_redis_url("redis+sentinel://:pw@s1:26380,s2/mymaster/4")
    assert parsed.kind == "sentinel"
    assert parsed.nodes == (("s1", 26380), ("s2", 26379))
    assert parsed.service_name == "mymaster"
    assert parsed.db == 4
    assert (parsed.username, parsed.password) == (None, "pw")


def test_sentinel_url_db_defaults_to_zero() -> None:
    """Without a db segment the sentinel URL selects database 0."""
    parsed = parse_redis_url("rediss+sentinel://s1/mymaster")
    assert (parsed.service_name, parsed.db, parsed.tls) == ("mymaster", 0, True)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("localhost:6379", "not a Redis URL"),
        ("http://localhost", "unsupported Redis URL scheme"),
        ("memcached://localhost", "unsupported"),
        ("redis://localhost/abc", "invalid Redis database"),
        ("redis://:6379/0", "a host is required"),
        ("redis://localhost:99999", "invalid port"),
        ("redis://localhost:port", "invalid port"),
        ("unix://", "socket path"),
        ("redis://localhost/0?socket_timeout=30", "socket_timeout"),
        ("redis://localhost/0?socket_connect_timeout=30", "socket_connect_timeout"),
        ("redis://localhost/0?retry_on_timeout=true", "retry_on_timeout"),
        ("redis+cluster://n1:7000/1", "only has database 0"),
        ("redis+cluster://n1:7000,,n2", "every host"),
        ("redis+cluster://n1:7000/?read_from_replicas=true", "query options"),
        ("redis+sentinel://s1:26379", "service_name"),
        ("redis+sentinel://s1/mymaster/1/extra", "service_name"),
        ("redis+sentinel://s1/mymaster/x", "invalid Redis database"),
    ],
)
def test_rejects_invalid_urls(url: str, message: str) -> None:
    """Each malformed URL fails at construction with a message saying what is wrong."""
    with pytest.raises(ConfigurationError, match=message):
        RedisConfig(url)


def test_rejection_messages_never_show_the_password() -> None:
    """A rejected URL is echoed with its password masked."""
    with pytest.raises(ConfigurationError) as info:
        RedisConfig("redis://user:hunter2@localhost/abc")
    assert "hunter2" not in str(info.value)
    assert "user:***@" in str(info.value)


@pytest.mark.parametrize(
    "field", ["connect_timeout", "command_timeout", "breaker_cooldown", "warn_interval"]
)
@pytest.mark.parametrize("value", [0, -1.0, float("inf"), float("nan")])
def test_rejects_non_positive_durations(field: str, value: float) -> None:
    """Durations must be finite and positive; the message names the field."""
    with pytest.raises(ConfigurationError, match=field):
        RedisConfig("redis://localhost", **{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, -3, 1.5])
def test_rejects_bad_threshold(value: float) -> None:
    """The breaker threshold is an integer >= 1."""
    with pytest.raises(ConfigurationError, match="breaker_threshold"):
        RedisConfig("redis://localhost", breaker_threshold=value)  # type: ignore[arg-type]


def test_accepts_custom_valid_numbers() -> None:
    """The valid twin: small positive durations and a larger threshold are accepted."""
    config = RedisConfig(
        "redis://localhost",
        connect_timeout=0.05,
        command_timeout=1,
        breaker_threshold=3,
        breaker_cooldown=0.5,
        warn_interval=1,
    )
    assert (config.command_timeout, config.breaker_threshold) == (1, 3)


def test_from_settings_copies_every_redis_setting() -> None:
    """RedisConfig.from_settings reads the URL, timeouts, breaker and warning interval."""
    settings = Settings(
        env="test",
        redis_url="redis://cache:6379/1",
        redis_connect_timeout=0.1,
        redis_command_timeout=0.2,
        redis_breaker_threshold=2,
        redis_breaker_cooldown=3.0,
        redis_warn_interval=4.0,
    )
    config = RedisConfig.from_settings(settings)
    assert config == RedisConfig("redis://cache:6379/1", 0.1, 0.2, 2, 3.0, 4.0)


def test_from_settings_without_url_names_the_variable() -> None:
    """No Redis URL configured: the error names BACKENDKIT_REDIS_URL."""
    with pytest.raises(ConfigurationError, match="BACKENDKIT_REDIS_URL is not set"):
        RedisConfig.from_settings(Settings(env="test"))


def test_from_settings_with_bad_url_names_the_variable() -> None:
    """An invalid URL in settings is reported against BACKENDKIT_REDIS_URL."""
    with pytest.raises(ConfigurationError, match="BACKENDKIT_REDIS_URL: unsupported"):
        RedisConfig.from_settings(Settings(env="test", redis_url="http://x"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://:pw@h:1/0", "redis://:***@h:1/0"),
        ("redis://user:pw@h/0", "redis://user:***@h/0"),
        ("redis+sentinel://u:p/w@s1,s2/m", "redis+sentinel://u:***@s1,s2/m"),
        ("redis://h:1/0", "redis://h:1/0"),
        ("redis://user@h", "redis://***@h"),
        ("redis://:p@ss/word@h:1/0?x=1", "redis://:***@h:1/0?x=1"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    """Passwords in URLs are masked for logs; URLs without one are unchanged."""
    assert redact_url(url) == expected


def test_repr_hides_password() -> None:
    """repr(RedisConfig) never shows the password."""
    config = RedisConfig("redis://:hunter2@localhost/0")
    assert "hunter2" not in repr(config)
    assert config.safe_url in repr(config)
