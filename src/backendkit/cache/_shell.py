"""The two shells that drive the I/O-free flow: plain calls for sync, ``await`` for async.

Each shell reads the entry first (a fresh hit never starts the flow), then drives
``_flow.call_flow``: backend operations go to the cache's backend (through its
``CacheRuntime``), ``Load`` calls the decorated function, ``Join`` goes to the in-process
single-flight. The two functions are line-for-line twins; everything they decide comes
from ``_flow``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from backendkit.cache._flow import (
    FAILED_READ,
    FlowResult,
    Join,
    Load,
    Plan,
    Read,
    Shared,
    call_flow,
    follower_result,
)
from backendkit.cache._keys import EntryKeys
from backendkit.cache._result import CacheResult
from backendkit.cache._runtime import CacheRuntime
from backendkit.cache._singleflight import RETRY, AsyncSingleFlight, SingleFlight
from backendkit.errors import BackendUnavailable

__all__ = ["arun", "run"]


def run(
    runtime: CacheRuntime, plan: Plan, keys: EntryKeys, loader: Callable[[], Any]
) -> CacheResult[Any]:
    """Read, and drive the flow with plain calls unless the read was a fresh hit."""
    backend = runtime.sync_backend()
    # A load of this key already under way answers this call too: no read needed.
    pending = runtime.flights.peek(keys.entry)
    if pending is not None:
        shared = runtime.flights.wait(pending)
        if shared is not RETRY:
            plan.stats.incr("misses")
            return follower_result(plan, shared).result
    try:
        reading = plan.examine(keys, backend.run(Read(keys)))
        runtime.degraded = False
    except BackendUnavailable:
        runtime.failed(plan.stats)
        reading = FAILED_READ
    hit = plan.hit(reading)
    if hit is not None:
        return hit
    flow = call_flow(plan, keys, reading)
    flights = runtime.flights
    flight: Any = None
    send: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                op = flow.send(send) if error is None else flow.throw(error)
            except StopIteration as stop:
                outcome: FlowResult = stop.value
                break
            send = error = None
            kind = type(op)
            if kind is Load:
                try:
                    send = loader()
                except BaseException as exc:
                    error = exc
            elif kind is Join:
                send, flight = _join(flights, keys.entry, cast(Join, op).try_only)
            else:
                try:
                    send = backend.run(op)
                    runtime.degraded = False
                except BackendUnavailable as exc:
                    runtime.failed(plan.stats)
                    error = exc
    except BaseException as exc:
        if flight is not None:
            flights.fail(keys.entry, flight, exc)
        raise
    return _finish(plan, keys, outcome, flight, flights)


def _join(flights: SingleFlight[Shared], key: str, try_only: bool) -> tuple[Any, Any]:
    while True:
        lead, flight = flights.join(key, try_only=try_only)
        if lead:
            return None, flight
        if flight is None:
            return False, None
        shared = flights.wait(flight)
        if shared is not RETRY:
            return shared, None


async def arun(
    runtime: CacheRuntime, plan: Plan, keys: EntryKeys, loader: Callable[[], Awaitable[Any]]
) -> CacheResult[Any]:
    """Read, and drive the flow with awaits unless the read was a fresh hit."""
    backend = runtime.async_backend()
    pending = runtime.aflights.peek(keys.entry)
    if pending is not None:
        shared = await runtime.aflights.wait(pending)
        if shared is not RETRY:
            plan.stats.incr("misses")
            return follower_result(plan, shared).result
    try:
        reading = plan.examine(keys, await backend.arun(Read(keys)))
        runtime.degraded = False
    except BackendUnavailable:
        runtime.failed(plan.stats)
        reading = FAILED_READ
    hit = plan.hit(reading)
    if hit is not None:
        return hit
    flow = call_flow(plan, keys, reading)
    flights = runtime.aflights
    flight: Any = None
    send: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                op = flow.send(send) if error is None else flow.throw(error)
            except StopIteration as stop:
                outcome: FlowResult = stop.value
                break
            send = error = None
            kind = type(op)
            if kind is Load:
                try:
                    send = await loader()
                except BaseException as exc:
                    error = exc
            elif kind is Join:
                send, flight = await _ajoin(flights, keys.entry, cast(Join, op).try_only)
            else:
                try:
                    send = await backend.arun(op)
                    runtime.degraded = False
                except BackendUnavailable as exc:
                    runtime.failed(plan.stats)
                    error = exc
    except BaseException as exc:
        if flight is not None:
            flights.fail(keys.entry, flight, exc)
        raise
    return _finish(plan, keys, outcome, flight, flights)


async def _ajoin(flights: AsyncSingleFlight[Shared], key: str, try_only: bool) -> tuple[Any, Any]:
    while True:
        lead, flight = flights.join(key, try_only=try_only)
        if lead:
            return None, flight
        if flight is None:
            return False, None
        shared = await flights.wait(flight)
        if shared is not RETRY:
            return shared, None


def _finish(
    plan: Plan,
    keys: EntryKeys,
    outcome: FlowResult,
    flight: Any,
    flights: SingleFlight[Shared] | AsyncSingleFlight[Shared],
) -> CacheResult[Any]:
    result = outcome.result
    if flight is not None:
        flights.finish(keys.entry, flight, Shared(result.value, outcome.payload, result.degraded))
    if result.degraded:
        plan.stats.incr("degraded")
    return result
