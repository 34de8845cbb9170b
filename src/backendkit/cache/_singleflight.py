"""In-process single-flight: concurrent calls of one key share one read, and one load.

The first caller of a key becomes the *leader*: it reads the entry and, on a miss, runs
the load; callers arriving meanwhile become *followers* and receive the leader's result
(or its exception). The sync version parks followers on a ``threading.Event``; the async
version on an ``asyncio.Future`` of the running loop (flights never cross event loops).
Both are created by the first follower only, so a caller that meets nobody (the common
hit) pays for a dictionary entry and a lock, not for an event.

If a leader stops without a result of its own (a cancelled task, a ``KeyboardInterrupt``),
its followers are told to retry: one of them becomes the new leader, so a cancellation
never fails callers that were not cancelled.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Generic, TypeVar

__all__ = ["RETRY", "AsyncSingleFlight", "SingleFlight"]

T = TypeVar("T")


class _Retry:
    def __repr__(self) -> str:
        return "RETRY"


#: What a follower receives when its leader vanished without a result.
RETRY: Any = _Retry()


class _Flight:
    __slots__ = ("done", "error", "event", "result", "waiters")

    def __init__(self) -> None:
        self.event: threading.Event | None = None
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.waiters = 0


class SingleFlight(Generic[T]):
    """Thread-based single-flight keyed by string."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}

    def join(self, key: str, *, try_only: bool = False) -> tuple[bool, _Flight | None]:
        """Lead or follow the flight for ``key``.

        Returns:
            ``(True, flight)`` for the leader; ``(False, flight)`` for a follower, or
            ``(False, None)`` with ``try_only`` when another caller already leads.
        """
        with self._lock:
            flight = self._flights.get(key)
            if flight is None:
                flight = self._flights[key] = _Flight()
                return True, flight
            if try_only:
                return False, None
            flight.waiters += 1
            if flight.event is None:
                flight.event = threading.Event()
            return False, flight

    def wait(self, flight: _Flight) -> T:
        """Block until the leader finishes; return its result or raise its exception."""
        assert flight.event is not None  # a follower's join created it
        flight.event.wait()
        if flight.error is not None:
            raise flight.error
        result: T = flight.result
        return result

    def _end(self, key: str, flight: _Flight, result: Any, error: BaseException | None) -> None:
        with self._lock:
            if flight.done:
                return
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.done = True
            flight.result, flight.error = result, error
            event = flight.event
        if event is not None:
            event.set()

    def finish(self, key: str, flight: _Flight, result: Any = None) -> None:
        """Publish the leader's result (``RETRY`` when it vanished) and end the flight."""
        self._end(key, flight, result, None)

    def fail(self, key: str, flight: _Flight, error: BaseException) -> None:
        """Publish the leader's exception; non-``Exception`` errors make followers retry."""
        if isinstance(error, Exception):
            self._end(key, flight, None, error)
        else:
            self._end(key, flight, RETRY, None)

    def waiters(self, key: str) -> int:
        """How many followers currently wait on ``key``'s flight (0 without a flight)."""
        with self._lock:
            flight = self._flights.get(key)
            return flight.waiters if flight is not None else 0


class _AsyncFlight:
    __slots__ = ("future", "loop", "waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[Any] | None = None
        self.waiters = 0


class AsyncSingleFlight(Generic[T]):
    """asyncio single-flight keyed by (event loop, string)."""

    def __init__(self) -> None:
        # Only touched from event-loop threads; the lock covers several loops in threads.
        self._lock = threading.Lock()
        self._flights: dict[tuple[int, str], _AsyncFlight] = {}

    def join(self, key: str, *, try_only: bool = False) -> tuple[bool, _AsyncFlight | None]:
        """Lead or follow the flight for ``key`` on the running loop (see `SingleFlight`)."""
        loop = asyncio.get_running_loop()
        slot = (id(loop), key)
        with self._lock:
            flight = self._flights.get(slot)
            if flight is None or flight.loop is not loop:
                flight = self._flights[slot] = _AsyncFlight(loop)
                return True, flight
            if try_only:
                return False, None
            flight.waiters += 1
            if flight.future is None:
                flight.future = loop.create_future()
            return False, flight

    async def wait(self, flight: _AsyncFlight) -> T:
        """Wait for the leader; a cancelled follower does not cancel the flight."""
        assert flight.future is not None  # a follower's join created it
        result: T = await asyncio.shield(flight.future)
        return result

    def finish(self, key: str, flight: _AsyncFlight, result: Any = None) -> None:
        """Publish the leader's result (``RETRY`` when it vanished) and end the flight."""
        future = self._forget(key, flight)
        if future is not None and not future.done():
            future.set_result(result)

    def fail(self, key: str, flight: _AsyncFlight, error: BaseException) -> None:
        """Publish the leader's exception; a cancelled leader makes followers retry."""
        if not isinstance(error, Exception):
            self.finish(key, flight, RETRY)
            return
        future = self._forget(key, flight)
        if future is not None and not future.done():
            future.set_exception(error)
            # Mark it retrieved: a follower cancelled meanwhile no longer awaits it, and
            # asyncio would log "Future exception was never retrieved".
            future.exception()

    def waiters(self, key: str) -> int:
        """Followers waiting on ``key``'s flight on the running loop."""
        slot = (id(asyncio.get_running_loop()), key)
        with self._lock:
            flight = self._flights.get(slot)
            return flight.waiters if flight is not None else 0

    def _forget(self, key: str, flight: _AsyncFlight) -> asyncio.Future[Any] | None:
        slot = (id(flight.loop), key)
        with self._lock:
            if self._flights.get(slot) is flight:
                del self._flights[slot]
            return flight.future
