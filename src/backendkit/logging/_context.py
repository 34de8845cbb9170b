"""Request context in contextvars, and request ids (behind ``backendkit.logging``)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

__all__ = [
    "REQUEST_ID_MAX_LENGTH",
    "accept_request_id",
    "bind_request_context",
    "clear_request_context",
    "current_request_id",
    "get_request_context",
    "merge_request_context",
    "new_request_id",
    "request_context",
    "start_request_context",
]

#: Longest incoming ``X-Request-ID`` that is accepted as it is.
REQUEST_ID_MAX_LENGTH = 128

# Letters, digits and ``. _ : -``: covers UUIDs (with or without dashes), ULIDs, AWS/GCP
# trace ids and dotted/colon-separated ids, while excluding spaces, quotes, slashes, "="
# and control characters, so an id is safe in a log line, a header and a file name.
_SAFE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._:\-]{{1,{REQUEST_ID_MAX_LENGTH}}}")

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_context: ContextVar[Mapping[str, Any]] = ContextVar("backendkit_request_context", default=_EMPTY)


def new_request_id() -> str:
    """Return a fresh request id: 32 lower-case hex characters (128 random bits).

    The same shape as a dashless UUID4, from the same source (``os.urandom``), without
    building a ``UUID`` object on every request.
    """
    return os.urandom(16).hex()


def accept_request_id(header_value: str | bytes | None) -> str:
    """Return the incoming ``X-Request-ID`` if it is safe, else a new id.

    Safe means 1 to 128 characters, each a letter, digit, ``.``, ``_``, ``:`` or ``-``
    (surrounding whitespace is ignored). Anything else (too long, spaces, quotes, control
    characters, non-ASCII) is replaced, so a client cannot inject text into log lines or
    response headers.

    Example:
        >>> accept_request_id("req-42")
        'req-42'
        >>> len(accept_request_id("evil\\nInjected: header"))
        32
    """
    if isinstance(header_value, bytes):
        try:
            header_value = header_value.decode("ascii")
        except UnicodeDecodeError:
            return new_request_id()
    if header_value:
        candidate = header_value.strip()
        if _SAFE_REQUEST_ID.fullmatch(candidate):
            return candidate
    return new_request_id()


def bind_request_context(
    *,
    request_id: str | None = None,
    user_id: str | int | None = None,
    method: str | None = None,
    path: str | None = None,
    **extra: Any,
) -> None:
    """Add fields to the current request's context; every log event then carries them.

    Only the fields given (not ``None``) are set; the others keep their values, so an
    adapter binds ``request_id``/``method``/``path`` when a request starts and the auth
    layer adds ``user_id`` later. The context lives in a contextvar: it follows the
    request through threads' and tasks' copies of the context and never leaks into
    another request.
    """
    fields: dict[str, Any] = {
        "request_id": request_id,
        "user_id": user_id,
        "method": method,
        "path": path,
        **extra,
    }
    current = dict(_context.get())
    current.update({k: v for k, v in fields.items() if v is not None})
    _context.set(MappingProxyType(current))


def start_request_context(*, request_id: str, method: str, path: str) -> None:
    """Bind a new request's id, method and path (what adapters call first).

    The same as ``bind_request_context`` with these three fields, without its generality:
    this runs on every request.
    """
    fields = {"request_id": request_id, "method": method, "path": path}
    current = _context.get()
    # A new dict that nothing else holds (every read copies it): no read-only view needed.
    _context.set({**current, **fields} if current else fields)


def clear_request_context() -> None:
    """Forget every request-context field (call when a request ends)."""
    _context.set(_EMPTY)


def get_request_context() -> dict[str, Any]:
    """Return a copy of the current request context."""
    return dict(_context.get())


def current_request_id() -> str | None:
    """Return the current request id, or ``None`` outside a request."""
    value = _context.get().get("request_id")
    return None if value is None else str(value)


@contextmanager
def request_context(
    *,
    request_id: str | None = None,
    user_id: str | int | None = None,
    method: str | None = None,
    path: str | None = None,
    **extra: Any,
) -> Iterator[dict[str, Any]]:
    """Bind request fields for the duration of a ``with`` block, then restore the previous.

    Yields:
        The context as bound at the start of the block.

    Example:
        >>> with request_context(request_id="abc", method="GET", path="/users"):
        ...     current_request_id()
        'abc'
        >>> current_request_id() is None
        True
    """
    token = _context.set(_context.get())
    try:
        bind_request_context(
            request_id=request_id, user_id=user_id, method=method, path=path, **extra
        )
        yield get_request_context()
    finally:
        _context.reset(token)


def merge_request_context(_logger: Any, _method: str, event_dict: Any) -> Any:
    """structlog processor: add the request context; explicit event keys win."""
    context = _context.get()
    if context:
        for key, value in context.items():
            event_dict.setdefault(key, value)
    return event_dict
