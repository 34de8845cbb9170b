"""What a ``/metrics`` route answers, framework-free: the text format (or OpenMetrics when
the scraper asks for it), every worker's metrics in multiprocess mode, and an optional
bearer token compared in constant time. The adapters' ``add_metrics_route`` (Flask,
FastAPI) and ``metrics_view`` (Django) translate it; ``serve_metrics`` serves it on a
port of its own instead (under gunicorn, from the master process)."""

from __future__ import annotations

import hmac
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from backendkit.errors import ConfigurationError, Unauthenticated
from backendkit.metrics._metrics import Metrics, multiprocess_dir
from backendkit.responses import RenderedResponse

__all__ = ["MetricsEndpoint", "exposition_registry", "serve_metrics"]


def exposition_registry(metrics: Metrics | None = None) -> CollectorRegistry:
    """The registry to expose: in multiprocess mode a fresh one reading every worker's
    files (``PROMETHEUS_MULTIPROC_DIR``), else ``metrics``' own (default: the global one)."""
    if multiprocess_dir() is not None:
        mirror = (metrics or Metrics()).mirror
        if mirror is not None:
            mirror.copy()  # this process's component values, as of now
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return (metrics or Metrics()).registry


class MetricsEndpoint:
    """The answer of a ``/metrics`` route.

    Args:
        metrics: whose registry to expose (default: the global registry's ``Metrics``).
        token: when set, a scrape must send ``Authorization: Bearer <token>`` (Prometheus's
            ``authorization`` scrape option); anything else is ``401 UNAUTHENTICATED``.

    Raises:
        ConfigurationError: an empty ``token``.
    """

    __slots__ = ("_metrics", "_token")

    def __init__(self, metrics: Metrics | None = None, *, token: str | None = None) -> None:
        if token is not None and not token:
            raise ConfigurationError("the metrics token must not be empty (None: no token)")
        self._metrics = metrics
        self._token = None if token is None else token.encode("utf-8")

    @classmethod
    def for_kit(
        cls, kit: Any, metrics: Metrics | None = None, *, token: str | None = None
    ) -> MetricsEndpoint:
        """The endpoint of ``metrics``, else of the ``Metrics`` of ``kit`` (a ``WebKit``),
        else of the global registry: what the adapters' ``/metrics`` helpers serve."""
        own = kit.metrics
        return cls(metrics or (own if isinstance(own, Metrics) else None), token=token)

    def answer(self, authorization: str | None, accept: str | None = None) -> RenderedResponse:
        """The exposition for a scrape with these headers.

        Raises:
            Unauthenticated: a token is required and the request does not carry it.
        """
        if self._token is not None:
            scheme, _, sent = (authorization or "").partition(" ")
            given = sent.strip().encode("utf-8")
            # compare_digest first: its time does not depend on where the values differ.
            if not hmac.compare_digest(given, self._token) or scheme.lower() != "bearer":
                raise Unauthenticated()
        encode, content_type = choose_encoder(accept or "")
        body = encode(exposition_registry(self._metrics))
        return RenderedResponse(200, {"Cache-Control": "no-store"}, body, content_type)


def serve_metrics(port: int, addr: str = "0.0.0.0", metrics: Metrics | None = None) -> Any:  # noqa: S104
    """Serve the metrics on their own port (prometheus-client's HTTP server, in a thread),
    away from the app and its proxy; under gunicorn call it in the master (``when_ready``),
    where it reads every worker's files.

    Returns:
        What ``prometheus_client.start_http_server`` returns (the server and its thread).
    """
    return start_http_server(port, addr, registry=exposition_registry(metrics))
