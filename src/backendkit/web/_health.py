"""Health checks: is the database reachable, is Redis reachable, each within a short timeout.

Each check is a probe: a SQLAlchemy ``Engine``/``AsyncEngine`` (runs ``SELECT 1``), an
object with ``ping()`` (a [`RedisConnector`][backendkit.redis.RedisConnector] or its async
twin), or any zero-argument callable (sync or async) that returns ``False`` or raises when
the dependency is down. A probe that does not answer within ``timeout`` counts as down.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from backendkit.errors import DEFAULT_RETRY_AFTER, ErrorDetail, ServiceUnavailable
from backendkit.logging import get_logger
from backendkit.responses import RenderedResponse, error_response, render_json, success
from backendkit.web._headers import JSON_CONTENT_TYPE

__all__ = ["HealthReport", "acheck_health", "check_health", "health_response"]

_log = get_logger("backendkit.health")


OK = "ok"
UNAVAILABLE = "unavailable"
TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The outcome of a health check.

    Attributes:
        checks: each probe's name and outcome: ``"ok"``, ``"unavailable"`` or ``"timeout"``.
    """

    checks: Mapping[str, str] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        """True when every probe answered ``ok``."""
        return all(outcome == OK for outcome in self.checks.values())

    @property
    def status(self) -> int:
        """``200`` when healthy, else ``503``."""
        return 200 if self.healthy else 503


def _probes(database: Any, redis: Any, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    probes: dict[str, Any] = {}
    if database is not None:
        probes["database"] = database
    if redis is not None:
        probes["redis"] = redis
    probes.update(extra or {})
    return probes


def _is_async_engine(target: Any) -> bool:
    return hasattr(target, "sync_engine") and hasattr(target, "connect")


def _is_engine(target: Any) -> bool:
    return hasattr(target, "dialect") and hasattr(target, "connect")


def _sync_call(target: Any) -> Callable[[], Any]:
    """A blocking callable for ``target`` (used directly or from a worker thread)."""
    if _is_engine(target) and not _is_async_engine(target):

        def select_one() -> bool:
            from sqlalchemy import text

            with target.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True

        return select_one
    ping = getattr(target, "ping", None)
    if callable(ping):
        return cast("Callable[[], Any]", ping)
    if callable(target):
        return cast("Callable[[], Any]", target)
    raise TypeError(f"cannot probe {type(target).__name__}: pass an engine, connector or callable")


def _outcome(name: str, result: Any, exc: BaseException | None) -> str:
    if exc is not None or result is False:
        # The reason goes to the log; the response only says which dependency is down.
        _log.warning("health_check_failed", check=name, error=type(exc).__name__ if exc else None)
        return UNAVAILABLE
    return OK


def check_health(
    *,
    database: Any = None,
    redis: Any = None,
    checks: Mapping[str, Any] | None = None,
    timeout: float = 1.0,
) -> HealthReport:
    """Run every probe in parallel, each bounded by ``timeout`` seconds (sync twin).

    Args:
        database: a SQLAlchemy engine or a callable.
        redis: a Redis connector (``ping()``) or a callable.
        checks: more named probes.
        timeout: seconds each probe may take.

    Raises:
        TypeError: a probe is an async object (use
            [`acheck_health`][backendkit.web.acheck_health]).
    """
    probes = {
        name: _Probe(_sync_call(target))
        for name, target in _probes(database, redis, checks).items()
    }
    outcomes: dict[str, str] = {}
    for name, probe in probes.items():
        if not probe.done.wait(timeout):
            _log.warning("health_check_timeout", check=name, timeout=timeout)
            outcomes[name] = TIMEOUT
            continue
        if inspect.isawaitable(probe.result):
            _close(probe.result)
            raise TypeError(f"health probe {name!r} is async: use acheck_health()")
        outcomes[name] = _outcome(name, probe.result, probe.error)
    return HealthReport(checks=outcomes)


class _Probe:
    """Runs one blocking probe on a daemon thread.

    Daemon threads, not a pool: a probe that never returns must neither hold a worker the
    next check needs nor keep the process from exiting.
    """

    def __init__(self, call: Callable[[], Any]) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self._call = call
        threading.Thread(target=self._run, name="bk-health", daemon=True).start()

    def _run(self) -> None:
        try:
            self.result = self._call()
        except Exception as exc:
            self.error = exc
        finally:
            self.done.set()


def _close(awaitable: Any) -> None:
    close = getattr(awaitable, "close", None)
    if callable(close):
        close()


async def _async_probe(target: Any) -> Any:
    if _is_async_engine(target):
        from sqlalchemy import text

        async with target.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    call = _sync_call(target)
    if inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(
        getattr(call, "__call__", None)  # noqa: B004 - async callable objects
    ):
        return await call()
    if _is_engine(target):
        return await asyncio.to_thread(call)  # a sync engine must not block the loop
    result = call()
    if inspect.isawaitable(result):
        return await result
    return result


async def acheck_health(
    *,
    database: Any = None,
    redis: Any = None,
    checks: Mapping[str, Any] | None = None,
    timeout: float = 1.0,
) -> HealthReport:
    """Run every probe concurrently, each bounded by ``timeout`` seconds (async twin).

    Async engines, async connectors and coroutine functions are awaited; a sync engine runs
    in a worker thread so the event loop never blocks.
    """
    probes = _probes(database, redis, checks)

    async def run(name: str, target: Any) -> tuple[str, str]:
        try:
            result = await asyncio.wait_for(_async_probe(target), timeout)
        except asyncio.TimeoutError:
            _log.warning("health_check_timeout", check=name, timeout=timeout)
            return name, TIMEOUT
        except Exception as exc:
            return name, _outcome(name, None, exc)
        return name, _outcome(name, result, None)

    results = await asyncio.gather(*(run(name, target) for name, target in probes.items()))
    return HealthReport(checks=dict(results))


def health_response(
    report: HealthReport,
    *,
    request_id: str | None,
    problem: bool = False,
    retry_after: float = DEFAULT_RETRY_AFTER,
) -> RenderedResponse:
    """Render a report: ``200`` success envelope, or ``503 SERVICE_UNAVAILABLE`` naming each
    failing check in ``details``, with ``Retry-After: retry_after`` (the adapters pass the
    ``retry_after`` setting).

    Example:
        >>> health_response(HealthReport({"redis": "ok"}), request_id="r1").status
        200
    """
    if report.healthy:
        body = render_json(success({"status": "ok", "checks": dict(report.checks)}))
        return RenderedResponse(status=200, headers={}, body=body, media_type=JSON_CONTENT_TYPE)
    error = ServiceUnavailable(
        "A dependency is unavailable",
        retry_after=retry_after,
        details=[
            ErrorDetail(name, outcome) for name, outcome in report.checks.items() if outcome != OK
        ],
    )
    return error_response(error, request_id=request_id, problem=problem)
