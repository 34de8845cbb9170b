"""One round trip per request, counted on the client side of the wire.

A loopback proxy between the limiter and the real Redis counts every request frame
the client sends. A hit whose result then renders its headers is exactly one EVALSHA,
whatever the strategy and however many limits the rule has.
"""

from __future__ import annotations

import pytest
from tests.integration.ratelimit._proxy import CountingProxy, _parse_frames

from backendkit.ratelimit import AsyncRateLimiter, RateLimiter, Rule

STRATEGIES = ["fixed-window", "moving-window", "sliding-window-counter"]
LIMITS = ["10/second", "10/second;100/minute"]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("limits", LIMITS)
def test_one_command_per_hit_with_headers(
    counting_proxy: CountingProxy, redis_prefix: str, strategy: str, limits: str
) -> None:
    """Each hit plus its headers is one EVALSHA; peek is one too; reset is one DEL."""
    limiter = RateLimiter(counting_proxy.url, key_prefix=redis_prefix)
    rule = Rule("rt", limits, strategy=strategy)  # type: ignore[arg-type]
    limiter.hit(rule, "warm-up")  # connection handshake and first script load
    counting_proxy.clear()
    for i in range(12):
        result = limiter.hit(rule, "k")
        headers = result.headers()
        assert "RateLimit-Remaining" in headers
        assert counting_proxy.commands == ["EVALSHA"] * (i + 1)
    counting_proxy.clear()
    limiter.peek(rule, "k")
    assert counting_proxy.commands == ["EVALSHA"]
    counting_proxy.clear()
    limiter.reset(rule, "k")
    assert counting_proxy.commands == ["DEL"]  # a known key: never KEYS or SCAN
    limiter.close()


async def test_async_one_command_per_hit(counting_proxy: CountingProxy, redis_prefix: str) -> None:
    """The async limiter sends the same single EVALSHA per hit."""
    limiter = AsyncRateLimiter(counting_proxy.url, key_prefix=redis_prefix)
    rule = Rule("rt", "10/second;100/minute")
    await limiter.hit(rule, "warm-up")
    counting_proxy.clear()
    for _ in range(5):
        (await limiter.hit(rule, "k")).headers("draft")
    assert counting_proxy.commands == ["EVALSHA"] * 5
    await limiter.aclose()


def test_the_proxy_counts_pipelined_and_split_frames() -> None:
    """The frame parser counts each command once, however the bytes arrive."""
    data = bytearray(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n*2\r\n$3\r\nGE")
    frames, used = _parse_frames(data)
    assert [frame[0] for frame in frames] == [b"PING", b"GET", b"PING"]
    assert data[used:] == b"*2\r\n$3\r\nGE"
