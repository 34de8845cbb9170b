"""A client span for each Redis command a connector's client sends.

Every redis-py call backendkit makes (a command, a script by ``EVALSHA``, its ``SCRIPT
LOAD`` after a ``NOSCRIPT``) ends in the client's ``execute_command``; the connector
hands each client it builds to [`RedisCommands`][backendkit.tracing._redis.RedisCommands],
which wraps that one method on that one client (no class is patched, so other clients
in the process are untouched). A span is opened only inside a recording span (a
request's, or one of your own): the background health pings would otherwise each be a
trace. Command arguments are never recorded (they hold keys, tokens and values).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from backendkit.tracing._official import official_redis

__all__ = ["RedisCommands", "command_name"]

_WRAPPED = "_backendkit_traced"


def command_name(args: tuple[Any, ...]) -> str:
    """The command of ``execute_command``'s arguments, upper case (``SCRIPT LOAD``).

    Example:
        >>> command_name(("evalsha", "abc", 1, "k")), command_name((b"GET", "k"))
        ('EVALSHA', 'GET')
    """
    if not args:
        return "REDIS"
    first = args[0]
    name = first.decode("latin-1") if isinstance(first, bytes) else str(first)
    return name.upper()


def _server(client: Any) -> dict[str, Any]:
    """``server.address``, ``server.port`` and ``db.namespace`` of a client with one pool
    (a cluster's node changes from call to call; a sentinel's master has no fixed host)."""
    pool = getattr(client, "connection_pool", None)
    kwargs = getattr(pool, "connection_kwargs", None) or {}
    found: dict[str, Any] = {}
    for key, attribute, kind in (
        ("host", "server.address", str),
        ("port", "server.port", int),
        ("db", "db.namespace", int),
    ):
        value = kwargs.get(key)
        if isinstance(value, kind):
            found[attribute] = str(value) if attribute == "db.namespace" else value
    return found


class RedisCommands:
    """Wraps a redis-py client's ``execute_command`` in client spans (a ``ClientHook``).

    Args:
        tracer: where spans are made.
        connector: the connector's name (``backendkit.redis.connector``).
        is_async: whether the connector's clients are asyncio clients.
    """

    __slots__ = ("_attributes", "_is_async", "_tracer")

    def __init__(self, tracer: trace.Tracer, *, connector: str, is_async: bool) -> None:
        self._tracer = tracer
        self._is_async = is_async
        self._attributes: dict[str, Any] = {
            "db.system": "redis",
            "db.system.name": "redis",
            "backendkit.redis.connector": connector,
        }

    def __call__(self, client: Any) -> None:
        """Wrap ``client.execute_command`` (once: a client wrapped already is left)."""
        original = client.execute_command
        if getattr(original, _WRAPPED, False):
            return
        attributes = {**self._attributes, **_server(client)}
        wrapped = (
            self._async_wrapper(original, attributes)
            if self._is_async
            else self._sync_wrapper(original, attributes)
        )
        setattr(wrapped, _WRAPPED, True)
        client.execute_command = wrapped

    def _sync_wrapper(
        self, original: Callable[..., Any], attributes: dict[str, Any]
    ) -> Callable[..., Any]:
        tracer = self._tracer

        @functools.wraps(original)
        def execute_command(*args: Any, **options: Any) -> Any:
            if _untraced():
                return original(*args, **options)
            with _command_span(tracer, attributes, args) as span:
                try:
                    return original(*args, **options)
                except Exception as exc:
                    _failed(span, exc)
                    raise

        return execute_command

    def _async_wrapper(
        self, original: Callable[..., Awaitable[Any]], attributes: dict[str, Any]
    ) -> Callable[..., Awaitable[Any]]:
        tracer = self._tracer

        @functools.wraps(original)
        async def execute_command(*args: Any, **options: Any) -> Any:
            if _untraced():
                return await original(*args, **options)
            with _command_span(tracer, attributes, args) as span:
                try:
                    return await original(*args, **options)
                except Exception as exc:
                    _failed(span, exc)
                    raise

        return execute_command


def _untraced() -> bool:
    # Outside a recording span, or inside the official instrumentation's own span.
    return not trace.get_current_span().is_recording() or official_redis.active()


def _command_span(
    tracer: trace.Tracer, attributes: dict[str, Any], args: tuple[Any, ...]
) -> AbstractContextManager[trace.Span]:
    name = command_name(args)
    return tracer.start_as_current_span(
        name,
        kind=SpanKind.CLIENT,
        attributes={**attributes, "db.operation.name": name},
        record_exception=False,
        set_status_on_exception=False,
    )


def _failed(span: trace.Span, exc: BaseException) -> None:
    # The error's type, never its message: a reply or a driver error may quote a value.
    span.set_attribute("error.type", type(exc).__qualname__)
    span.set_status(Status(StatusCode.ERROR))
