"""Fetching a provider's JSON documents (discovery, JWKS) with httpx, within one deadline.

The HTTP client is [httpx](https://www.python-httpx.org/) (the ``oidc`` extra): a sync
``Client`` for WSGI apps and an ``AsyncClient`` under ASGI, one per fetch (fetches happen
a few times an hour, and a client is then never bound to an event loop that has gone).
TLS is verified with one shared context; redirects are not followed (a discovery
document or key set that moved is a configuration change, not something to chase).

Every fetch is bounded by a **total** deadline, not only httpx's per-operation timeouts:
a provider that accepts and never answers, or trickles one byte at a time, is given up on
when the deadline passes, and a body over ``MAX_DOCUMENT_BYTES`` is refused as it arrives.
Every failure is a ``FetchFailed`` with a short reason for the log; nothing else escapes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from backendkit._extras import require
from backendkit.errors import ConfigurationError

require("httpx", "oidc")

import httpx

__all__ = ["MAX_DOCUMENT_BYTES", "FetchFailed", "afetch_json", "check_url", "fetch_json"]

#: The largest discovery document or JWKS accepted (real ones are a few KiB).
MAX_DOCUMENT_BYTES = 256 * 1024
_HEADERS = {"Accept": "application/json"}
_tls_lock = threading.Lock()
_tls: list[ssl.SSLContext] = []


class FetchFailed(Exception):
    """A document could not be fetched or read; ``reason`` is a short code for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_url(url: str, what: str) -> str:
    """``url`` if it is ``https://`` (or ``http://`` to a loopback host), else refuse it.

    A key set fetched over plain HTTP can be replaced by anyone on the path, and every
    token it "verifies" with it; loopback is allowed for local development and tests.

    Raises:
        ConfigurationError: another scheme, no host, or plain HTTP to a remote host.
    """
    if not isinstance(url, str):
        raise ConfigurationError(f"the {what} must be a URL string")
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return url
    raise ConfigurationError(
        f"the {what} must be an https:// URL (plain http only to localhost): {url!r}"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls_context() -> ssl.SSLContext:
    # Built once: loading the CA bundle costs milliseconds, and a context is reusable.
    with _tls_lock:
        if not _tls:
            _tls.append(httpx.create_ssl_context())
        return _tls[0]


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchFailed("timeout")
    return left


def _check_status(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise FetchFailed(f"http_{response.status_code}")


def _add(body: bytearray, chunk: bytes, deadline: float) -> None:
    body += chunk
    if len(body) > MAX_DOCUMENT_BYTES:
        raise FetchFailed("too_large")
    _remaining(deadline)


def _decode(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise FetchFailed("bad_json") from None
    if not isinstance(value, dict):
        raise FetchFailed("bad_json")
    return value


def _client_options(deadline: float) -> dict[str, Any]:
    return {
        "timeout": httpx.Timeout(_remaining(deadline)),
        "verify": _tls_context(),
        "follow_redirects": False,
    }


@contextmanager
def _translated() -> Iterator[None]:
    """httpx's failures as ``FetchFailed`` (by kind: their messages may quote the URL)."""
    try:
        yield
    except httpx.TimeoutException:
        raise FetchFailed("timeout") from None
    except httpx.HTTPError as exc:
        raise FetchFailed(type(exc).__name__) from None


def fetch_json(url: str, deadline: float) -> dict[str, Any]:
    """GET ``url`` and return its JSON object, all before ``deadline`` (``time.monotonic``).

    Raises:
        FetchFailed: timeout, connection error, a status other than 200, a body too
            large, or not a JSON object.
    """
    body = bytearray()
    with (
        _translated(),
        httpx.Client(**_client_options(deadline)) as client,
        client.stream("GET", url, headers=_HEADERS) as response,
    ):
        _check_status(response)
        for chunk in response.iter_bytes():
            _add(body, chunk, deadline)
    return _decode(bytes(body))


async def afetch_json(url: str, deadline: float) -> dict[str, Any]:
    """Async twin of ``fetch_json``; the deadline also bounds the whole exchange by
    cancellation."""
    left = _remaining(deadline)  # before the coroutine exists: it would never be awaited
    try:
        return await asyncio.wait_for(_aget(url, deadline), left)
    except asyncio.TimeoutError:
        raise FetchFailed("timeout") from None


async def _aget(url: str, deadline: float) -> dict[str, Any]:
    body = bytearray()
    with _translated():
        async with (
            httpx.AsyncClient(**_client_options(deadline)) as client,
            client.stream("GET", url, headers=_HEADERS) as response,
        ):
            _check_status(response)
            async for chunk in response.aiter_bytes():
                _add(body, chunk, deadline)
    return _decode(bytes(body))
