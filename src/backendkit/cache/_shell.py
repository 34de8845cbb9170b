"""The two shells that drive the I/O-free flow: plain calls for sync, ``await`` for async.

With an in-process L1 (``_local.py``, opt-in), a call first looks there: a fresh entry
held is served before any flight or round trip, and an entry a leader reads fresh from
Redis goes into it. Otherwise each shell first joins the key's in-process flight: only
its leader touches the backend, so concurrent callers of one key cost one read (and at
most one load) per process, however many they are and however slow the network. The
leader reads -- with ``fetch`` (the entry, or else the lock) unless the runtime's hints
expect a hit, then with a plain ``read`` (see ``_hints``). An entry it found goes to the
followers at once (a fresh hit never starts the flow); otherwise it drives
``_flow.call_flow`` and hands the followers its result at the end: backend operations go
to the cache's backend (through its ``CacheRuntime``), ``Load`` calls the decorated
function, ``Join`` claims the key's early refresh. The two functions are line-for-line
twins; everything they decide comes from ``_flow``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from backendkit.cache._early import Freshness
from backendkit.cache._flow import (
    FAILED_READ,
    FlowResult,
    Plan,
    Shared,
    call_flow,
    follower_result,
)
from backendkit.cache._keys import EntryKeys
from backendkit.cache._local import MISS, serve
from backendkit.cache._ops import Join, Load, lock_token
from backendkit.cache._result import CacheResult, Outcome
from backendkit.cache._runtime import CacheRuntime
from backendkit.cache._singleflight import RETRY
from backendkit.errors import BackendUnavailable

__all__ = ["arun", "run"]


def run(
    runtime: CacheRuntime,
    plan: Plan,
    keys: EntryKeys,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    detailed: bool,
) -> Any:
    """Lead the key's flight (read, then the flow unless it was a fresh hit), or follow it.

    ``fn(*args, **kwargs)`` is the loader (no closure per call). Returns the `CacheResult`
    when ``detailed``, else only its value (a plain call's hit builds no result object).
    """
    key = keys.entry
    local = runtime.local
    if local is not None:
        # The in-process L1 (off by default): a hit needs no flight and no round trip.
        value = serve(local, key, plan, plan.clock.now())
        if value is not MISS:
            plan.stats.incr("hits")
            return CacheResult(value, Outcome.HIT) if detailed else value
    flights = runtime.flights
    while True:
        lead, joined = flights.join(key)
        assert joined is not None  # only a try-only join comes back without a flight
        if lead:
            break
        shared = flights.wait(joined)
        if shared is not RETRY:
            followed = follower_result(plan, shared)
            return followed if detailed else followed.value
    flight: Any = joined
    refresh: Any = None
    try:
        backend = runtime.sync_backend()
        hints = runtime.hints
        # Taken before the read: an invalidation that overtakes it keeps it out of the L1.
        seen = local.token() if local is not None else 0
        try:
            now = plan.clock.now()
            if hints.likely_hit(key, now):
                gen, raw = backend.read(keys)
                reading = plan.examine_read(keys, gen, raw, now)
            else:
                token = lock_token()
                reply = backend.fetch(keys, token, plan.lock_px)
                reading = plan.examine(keys, reply, token, now)
            runtime.degraded = False
        except BackendUnavailable:
            runtime.failed(plan.stats)
            reading = FAILED_READ
        if reading.entry is None:
            hints.forget(key)
        else:
            hints.saw(key, reading.entry.fresh_until)
            # Followers serve what was read; only this caller may go on to refresh it.
            flights.finish(key, flight, reading)
            flight = None
            if reading.freshness is Freshness.FRESH:
                if local is not None:
                    local.insert(key, reading.entry, seen)
                plan.stats.incr("hits")
                return CacheResult(reading.value, Outcome.HIT) if detailed else reading.value
        flow = call_flow(plan, keys, reading)
        send: Any = None
        error: BaseException | None = None
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
                    send = fn(*args, **kwargs)
                except BaseException as exc:
                    error = exc
            elif kind is Join:
                send, refresh = runtime.refreshes.join(key, try_only=True)
            else:
                try:
                    send = backend.run(op)
                    runtime.degraded = False
                except BackendUnavailable as exc:
                    runtime.failed(plan.stats)
                    error = exc
    except BaseException as exc:
        if flight is not None:
            flights.fail(key, flight, exc)
        raise
    finally:
        if refresh is not None:
            runtime.refreshes.finish(key, refresh)
    return _finish(plan, outcome, key, flight, flights, detailed)


async def arun(
    runtime: CacheRuntime,
    plan: Plan,
    keys: EntryKeys,
    fn: Callable[..., Awaitable[Any]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    detailed: bool,
) -> Any:
    """Async twin of `run`: lead the key's flight on this event loop, or follow it."""
    key = keys.entry
    local = runtime.local
    if local is not None:
        # The in-process L1 (off by default): a hit needs no flight and no round trip.
        value = serve(local, key, plan, plan.clock.now())
        if value is not MISS:
            plan.stats.incr("hits")
            return CacheResult(value, Outcome.HIT) if detailed else value
    flights = runtime.aflights
    while True:
        lead, joined = flights.join(key)
        assert joined is not None  # only a try-only join comes back without a flight
        if lead:
            break
        shared = await flights.wait(joined)
        if shared is not RETRY:
            followed = follower_result(plan, shared)
            return followed if detailed else followed.value
    flight: Any = joined
    refresh: Any = None
    try:
        backend = runtime.async_backend()
        hints = runtime.hints
        # Taken before the read: an invalidation that overtakes it keeps it out of the L1.
        seen = local.token() if local is not None else 0
        try:
            now = plan.clock.now()
            if hints.likely_hit(key, now):
                gen, raw = await backend.aread(keys)
                reading = plan.examine_read(keys, gen, raw, now)
            else:
                token = lock_token()
                reply = await backend.afetch(keys, token, plan.lock_px)
                reading = plan.examine(keys, reply, token, now)
            runtime.degraded = False
        except BackendUnavailable:
            runtime.failed(plan.stats)
            reading = FAILED_READ
        if reading.entry is None:
            hints.forget(key)
        else:
            hints.saw(key, reading.entry.fresh_until)
            # Followers serve what was read; only this caller may go on to refresh it.
            flights.finish(key, flight, reading)
            flight = None
            if reading.freshness is Freshness.FRESH:
                if local is not None:
                    local.insert(key, reading.entry, seen)
                plan.stats.incr("hits")
                return CacheResult(reading.value, Outcome.HIT) if detailed else reading.value
        flow = call_flow(plan, keys, reading)
        send: Any = None
        error: BaseException | None = None
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
                    send = await fn(*args, **kwargs)
                except BaseException as exc:
                    error = exc
            elif kind is Join:
                send, refresh = runtime.arefreshes.join(key, try_only=True)
            else:
                try:
                    send = await backend.arun(op)
                    runtime.degraded = False
                except BackendUnavailable as exc:
                    runtime.failed(plan.stats)
                    error = exc
    except BaseException as exc:
        if flight is not None:
            flights.fail(key, flight, exc)
        raise
    finally:
        if refresh is not None:
            runtime.arefreshes.finish(key, refresh)
    return _finish(plan, outcome, key, flight, flights, detailed)


def _finish(
    plan: Plan, outcome: FlowResult, key: str, flight: Any, flights: Any, detailed: bool
) -> Any:
    result = outcome.result
    if flight is not None:
        flights.finish(key, flight, Shared(result.value, outcome.payload, result.degraded))
    if result.degraded:
        plan.stats.incr("degraded")
    return result if detailed else result.value
