"""The WebKit bundle: built from settings, closes what it holds."""

from __future__ import annotations

import pytest

from backendkit.auth import JWTKey, TokenService
from backendkit.clientip import ClientIPResolver
from backendkit.errors import ConfigurationError
from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
from backendkit.settings import Settings
from backendkit.web import WebKit


def test_from_settings_reads_the_settings() -> None:
    """Body cap, error format, default limit and trusted proxies come from Settings."""
    settings = Settings(
        env="test",
        max_body_bytes=2048,
        error_format="problem",
        rate_limit_default="10/minute",
        trusted_proxies="10.0.0.0/8",
    )
    kit = WebKit.from_settings(settings)
    assert (kit.max_body_bytes, kit.problem, kit.default_rate_limit) == (2048, True, "10/minute")
    assert "10.1.2.3" in kit.ip_resolver.trusted


def test_from_settings_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without settings, BACKENDKIT_* variables are read."""
    monkeypatch.setenv("BACKENDKIT_ENV", "test")
    monkeypatch.setenv("BACKENDKIT_MAX_BODY_BYTES", "77")
    assert WebKit.from_settings().max_body_bytes == 77


def test_an_explicit_resolver_is_kept() -> None:
    """A resolver passed in wins over the settings."""
    resolver = ClientIPResolver(header="forwarded")
    kit = WebKit.from_settings(Settings(env="test"), ip_resolver=resolver)
    assert kit.ip_resolver is resolver


def test_close_runs_sync_closers_and_skips_async_ones() -> None:
    """close() closes the sync limiter and sync closers; async closers are left to aclose()."""
    calls: list[str] = []

    async def async_closer() -> None:
        calls.append("async")

    kit = WebKit.from_settings(
        Settings(env="test"),
        limiter=RateLimiter("memory://"),
        closers=[lambda: calls.append("sync"), async_closer],
    )
    kit.close()
    assert calls == ["sync"]


async def test_aclose_awaits_everything() -> None:
    """aclose() closes the async limiter, the token store and every closer."""
    calls: list[str] = []

    class Closable:
        def close(self) -> None:
            calls.append("close")

    async def async_closer() -> None:
        calls.append("async")

    tokens = TokenService(JWTKey.hmac("t" * 32), store="memory://")
    kit = WebKit.from_settings(
        Settings(env="test"),
        tokens=tokens,
        async_limiter=AsyncRateLimiter("memory://"),
        closers=[Closable(), async_closer, lambda: calls.append("sync")],
    )
    await kit.aclose()
    assert calls == ["close", "async", "sync"]


def test_api_prefixes_default_to_api() -> None:
    """The default limit's scope is /api/ unless the kit says otherwise."""
    kit = WebKit.from_settings(Settings(env="test"))
    assert kit.api_prefixes == ("/api/",)
    assert kit.is_api_path("/api/users")
    assert not kit.is_api_path("/health")
    assert not kit.is_api_path("/apix")


def test_api_prefixes_accept_a_list() -> None:
    """Any sequence of paths is accepted and kept as a tuple; ("/",) covers every path."""
    kit = WebKit.from_settings(Settings(env="test"), api_prefixes=["/v1/", "/v2/"])
    assert kit.api_prefixes == ("/v1/", "/v2/")
    assert kit.is_api_path("/v2/x")
    assert WebKit.from_settings(Settings(env="test"), api_prefixes=("/",)).is_api_path("/health")


@pytest.mark.parametrize("prefixes", ["/api/", "/", ["api/"], [""], [1]])
def test_api_prefixes_rejects_non_paths(prefixes: object) -> None:
    """A bare string or an entry not starting with '/' is a ConfigurationError."""
    from backendkit.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="api_prefixes"):
        WebKit.from_settings(Settings(env="test"), api_prefixes=prefixes)  # type: ignore[arg-type]


@pytest.mark.parametrize("limits", ["lots", "5/fortnight", "/minute", "5 per", "0/minute"])
def test_a_malformed_default_limit_stops_the_start(limits: str) -> None:
    """A typo in the default limit is a ConfigurationError when the kit is built."""
    settings = Settings(env="test", rate_limit_default=limits)
    with pytest.raises(ConfigurationError, match="BACKENDKIT_RATE_LIMIT_DEFAULT"):
        WebKit.from_settings(settings)


@pytest.mark.parametrize("limits", ["100/minute", "10/second;1000/hour", "100/15 minutes"])
def test_a_valid_default_limit_is_kept(limits: str) -> None:
    """Valid twin: the limits syntax (one or several rules) is accepted as it is."""
    kit = WebKit.from_settings(Settings(env="test", rate_limit_default=limits))
    assert kit.default_rate_limit == limits
