"""The one storage-URI check that the limiter, the cache and the token store share."""

from __future__ import annotations

import pytest

from backendkit._storage_url import REDIS_SCHEMES, SETTINGS_REFUSAL, storage_kind
from backendkit.cache import Cache
from backendkit.errors import ConfigurationError
from backendkit.ratelimit import RateLimiter
from backendkit.redis import _config


def test_redis_schemes_are_the_ones_the_connection_layer_parses() -> None:
    """The early check and the Redis URL parser accept exactly the same schemes."""
    parsed = _config._STANDALONE_SCHEMES | _config._CLUSTER_SCHEMES | _config._SENTINEL_SCHEMES
    assert parsed == REDIS_SCHEMES
    for scheme in REDIS_SCHEMES:
        assert f"{scheme}://" in _config._SUPPORTED


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("memory://", "memory"),
        ("  MEMORY://  ", "memory"),
        ("memory://?max_entries=5", "memory"),
        ("redis://localhost:6379/0", "redis"),
        ("REDISS://h", "redis"),
        ("unix:///run/redis.sock", "redis"),
        ("redis+cluster://a,b", "redis"),
        ("rediss+sentinel://s1/mymaster", "redis"),
    ],
)
def test_supported_schemes_are_classified(url: str, kind: str) -> None:
    """Case and surrounding whitespace do not matter; the rest of the URL is not judged here."""
    assert storage_kind(url, refusal="unsupported x") == kind


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("memcached://h", "(scheme 'memcached')"),
        ("redis+foo://h", "(scheme 'redis+foo')"),
        ("redis//oops", "(not a URL (no scheme://))"),
        ("", "(an empty URL)"),
        ("  ", "(an empty URL)"),
        ("p@ss word://h", "(a malformed scheme)"),
    ],
)
def test_unsupported_urls_are_refused_naming_the_problem(url: str, problem: str) -> None:
    """The refusal says what is wrong and lists what works, in one message."""
    with pytest.raises(ConfigurationError) as info:
        storage_kind(url, refusal="unsupported x")
    assert str(info.value).startswith(f"unsupported x {problem}; use memory:// or redis:// (")


def test_memory_is_refused_where_only_redis_makes_sense() -> None:
    """BACKENDKIT_REDIS_URL=memory:// is a mistake; the refusal names the variable."""
    with pytest.raises(ConfigurationError, match="BACKENDKIT_REDIS_URL") as info:
        storage_kind("memory://", refusal=SETTINGS_REFUSAL, memory=False)
    assert "memory://" not in str(info.value).partition(";")[2]
    assert storage_kind("redis://h", refusal=SETTINGS_REFUSAL, memory=False) == "redis"


def test_limiter_memory_storage_takes_no_options() -> None:
    """memory:// with anything after it is refused by the limiter; plain memory:// works."""
    with pytest.raises(ConfigurationError, match="takes no host, path or options"):
        RateLimiter("memory://?max_entries=5")
    assert not RateLimiter(" memory:// ").is_shared


def test_memory_cache_url_errors_do_not_echo_the_url() -> None:
    """A memory:// cache URL with a host is refused without repeating its credentials."""
    with pytest.raises(ConfigurationError, match="takes no host or path") as info:
        Cache("memory://user:s3cret@host")
    assert "s3cret" not in str(info.value)
    assert Cache(" memory://?max_entries=5 ").is_memory
