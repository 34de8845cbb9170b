"""Whether the official OpenTelemetry instrumentations of redis-py or SQLAlchemy are on.

Where one is, backendkit opens none of its own spans for that library: the official
instrumentation already traces every command or statement, and two spans for one call
would double every database span in a trace. Each check is made per call (an
instrumentation may be turned on after the kit is built), on the instrumentor's own
flag, so it costs an attribute read; a library whose instrumentation package is not
installed is never looked at again.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "OfficialInstrumentation",
    "engine_traced_officially",
    "official_redis",
    "official_sqlalchemy",
]


class OfficialInstrumentation:
    """One official instrumentation: its instrumentor, if its package is installed.

    Args:
        module: the instrumentation's module (``opentelemetry.instrumentation.redis``).
        instrumentor: the name of its ``BaseInstrumentor`` subclass.
    """

    __slots__ = ("_instrumentor", "_loaded", "_module", "_name")

    def __init__(self, module: str, instrumentor: str) -> None:
        self._module, self._name = module, instrumentor
        self._instrumentor: Any = None
        self._loaded = False

    def instrumentor(self) -> Any:
        """The instrumentor (a process-wide singleton), ``None`` when not installed."""
        if not self._loaded:
            try:
                module = importlib.import_module(self._module)
            except ImportError:  # not installed: only ours can trace this library
                module = None
            self._instrumentor = None if module is None else getattr(module, self._name)()
            self._loaded = True
        return self._instrumentor

    def active(self) -> bool:
        """True while the official instrumentation is instrumenting its library."""
        instrumentor = self.instrumentor()
        return instrumentor is not None and bool(instrumentor.is_instrumented_by_opentelemetry)


official_redis = OfficialInstrumentation("opentelemetry.instrumentation.redis", "RedisInstrumentor")
official_sqlalchemy = OfficialInstrumentation(
    "opentelemetry.instrumentation.sqlalchemy", "SQLAlchemyInstrumentor"
)


def engine_traced_officially(engine: Any) -> bool:
    """True when the official SQLAlchemy instrumentation traces ``engine``: instrumented
    globally, or this engine alone (``SQLAlchemyInstrumentor().instrument(engine=...)``
    and ``EngineTracer``, which keeps the engines it listens to)."""
    if official_sqlalchemy.active():
        return True
    if official_sqlalchemy.instrumentor() is None:
        return False
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    registered = getattr(EngineTracer, "_remove_event_listener_params", ())
    return any(entry[0]() is engine for entry in registered)
