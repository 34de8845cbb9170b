"""Fixtures for the rate limiter's Redis tests: a counting proxy in front of the real Redis."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from tests.integration.ratelimit._proxy import CountingProxy


@pytest.fixture
def counting_proxy(redis_url: str) -> Iterator[CountingProxy]:
    """A loopback proxy to the shared Redis that counts the commands clients send."""
    parts = urlsplit(redis_url)
    proxy = CountingProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
    proxy.url = parts._replace(netloc=netloc).geturl()
    try:
        yield proxy
    finally:
        proxy.close()
