"""The WebKit bundle: built from settings, closes what it holds."""

from __future__ import annotations

import pytest

from backendkit.auth import JWTKey, TokenService
from backendkit.clientip import ClientIPResolver
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
