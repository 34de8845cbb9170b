"""AsyncRateLimiter on memory makes exactly the sync limiter's decisions."""

from __future__ import annotations

import pytest

from backendkit.errors import ConfigurationError
from backendkit.ratelimit import AsyncRateLimiter, RateLimiter, Rule
from backendkit.settings import Settings
from backendkit.testing import FakeClock


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window", "sliding-window-counter"])
async def test_same_decisions_as_sync(strategy: str) -> None:
    """A scripted sequence gives identical results from the sync and async limiters."""
    rule = Rule("r", "3/second;5/minute", strategy=strategy)  # type: ignore[arg-type]
    sync_clock, async_clock = FakeClock(), FakeClock()
    sync_limiter = RateLimiter("memory://", clock=sync_clock)
    async_limiter = AsyncRateLimiter("memory://", clock=async_clock)
    for step, cost in [(0, 1), (0.1, 2), (0.2, 1), (0.9, 1), (1.5, 3), (0, 1), (61, 2)]:
        sync_clock.advance(step)
        async_clock.advance(step)
        a = sync_limiter.hit(rule, "k", cost=cost)
        b = await async_limiter.hit(rule, "k", cost=cost)
        assert (a.allowed, a.limit, a.remaining, a.reset, a.retry_after) == (
            b.allowed,
            b.limit,
            b.remaining,
            b.reset,
            b.retry_after,
        )
        p, q = sync_limiter.peek(rule, "k"), await async_limiter.peek(rule, "k")
        assert (p.allowed, p.remaining) == (q.allowed, q.remaining)


async def test_async_reset_peek_and_close() -> None:
    """reset() restores the key; aclose() on memory is a no-op."""
    limiter = AsyncRateLimiter("memory://", clock=FakeClock())
    rule = Rule("r", "1/minute")
    assert (await limiter.hit(rule, "k")).allowed
    assert not (await limiter.peek(rule, "k")).allowed
    assert await limiter.reset(rule, "k") is True
    assert (await limiter.hit(rule, "k")).allowed
    assert not limiter.is_shared
    assert "AsyncRateLimiter(memory" in repr(limiter)
    await limiter.aclose()


async def test_async_bad_calls_and_configuration() -> None:
    """Programming errors raise; unknown storages are refused."""
    limiter = AsyncRateLimiter("memory://")
    with pytest.raises(ValueError, match="cost"):
        await limiter.hit(Rule("r", "1/minute"), "k", cost=0)
    with pytest.raises(ConfigurationError, match="needs memory://"):
        AsyncRateLimiter(3.0)  # type: ignore[arg-type]
    built = AsyncRateLimiter.from_settings(Settings(env="test"), header_style="draft")
    assert built.header_style == "draft"
    assert not built.is_shared
