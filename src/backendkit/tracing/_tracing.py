"""`Tracing`: OpenTelemetry spans for requests, Redis commands, SQL and password hashing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

import backendkit
from backendkit.tracing._official import official_redis, official_sqlalchemy
from backendkit.tracing._redis import RedisCommands
from backendkit.tracing._requests import ServerSpans

if TYPE_CHECKING:
    from backendkit.auth import PasswordHasher
    from backendkit.redis import AsyncRedisConnector, RedisConnector
    from backendkit.web import RequestCycle, WebKit

__all__ = ["INSTRUMENTATION_NAME", "Tracing"]

INSTRUMENTATION_NAME = "backendkit"
"""The instrumentation scope of every span backendkit makes."""


class Tracing:
    """OpenTelemetry traces of every request and of the work done for it.

    Pass it to a kit (``WebKit.from_settings(settings, tracing=Tracing())``): each request
    the pipeline starts gets a server span named by its route template
    (``GET /api/v1/users/{user_id}``) that continues an incoming ``traceparent``; the
    kit's Redis connectors get a client span per command. ``watch_engine`` and
    ``watch_passwords`` add SQL statements and bcrypt work. Child spans are opened only
    inside a recording span, so background work (health pings) makes no trace.

    Spans go to the global ``TracerProvider`` (set by the OpenTelemetry SDK or
    ``opentelemetry-instrument``), or to ``tracer_provider``. Without one, the API's
    no-op tracer records nothing.

    Args:
        tracer_provider: where spans go (default: the global provider, looked up when
            the first span starts, so it may be set after the kit is built).

    Example:
        >>> tracing = Tracing()
        >>> tracing
        Tracing(provider='global')
    """

    __slots__ = ("_provider", "_requests", "_tracer")

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self._provider = tracer_provider
        self._tracer = trace.get_tracer(
            INSTRUMENTATION_NAME, backendkit.__version__, tracer_provider
        )
        self._requests = ServerSpans(self._tracer)

    @property
    def tracer(self) -> trace.Tracer:
        """The tracer backendkit's spans come from (for spans of your own beside them)."""
        return self._tracer

    # ------------------------------------------------------------ RequestObserver

    def attach(self, kit: WebKit) -> None:
        """Trace the commands of ``kit``'s Redis connectors (``WebKit`` calls it)."""
        for connector in (kit.redis, kit.async_redis):
            if connector is not None:
                self.watch_redis(connector)

    def request_started(self, cycle: RequestCycle) -> None:
        """Start the request's server span and make it current."""
        self._requests.start(cycle)

    def request_finished(self, cycle: RequestCycle) -> None:
        """Name the span by the route template, set its status, end it."""
        self._requests.finish(cycle)

    def request_dropped(self, cycle: RequestCycle) -> None:
        """Leave the request untraced (the metrics and health routes)."""
        self._requests.drop(cycle)

    # ------------------------------------------------------------ components

    def watch_redis(self, connector: RedisConnector | AsyncRedisConnector) -> None:
        """A client span for each command of ``connector`` (scripts are ``EVALSHA``)."""
        from backendkit.redis import AsyncRedisConnector

        official_redis.instrumentor()  # looked up now, not on a request's first command
        connector.on_client = RedisCommands(
            self._tracer,
            connector=connector.name,
            is_async=isinstance(connector, AsyncRedisConnector),
        )

    def watch_engine(self, engine: Any) -> None:
        """A client span for each statement a SQLAlchemy ``Engine``/``AsyncEngine`` runs
        (its text with placeholders, never the parameter values)."""
        from backendkit.tracing._sql import SqlStatements

        official_sqlalchemy.instrumentor()  # looked up now, not on a request's first statement
        SqlStatements(self._tracer, engine).listen()

    def watch_passwords(self, hasher: PasswordHasher) -> None:
        """A span around each bcrypt hash and verification ``hasher`` does."""
        hasher.on_work = self._password_span

    @contextlib.contextmanager
    def _password_span(self, operation: str) -> Iterator[None]:
        if not trace.get_current_span().is_recording():
            yield
            return
        with self._tracer.start_as_current_span(
            f"bcrypt.{operation}", attributes={"backendkit.password.operation": operation}
        ):
            yield

    def __repr__(self) -> str:
        provider = "global" if self._provider is None else type(self._provider).__name__
        return f"Tracing(provider={provider!r})"
