"""In-process single-flight: concurrent misses of one key share one load.

The first caller of a key becomes the *leader* and runs the load; callers arriving while
it runs become *followers* and receive the leader's result (or its exception). The sync
version parks followers on a ``threading.Event``; the async version on an
``asyncio.Future`` of the running loop (flights never cross event loops).

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
    __slots__ = ("error", "event", "refresh", "result", "waiters")

    def __init__(self, refresh: bool = False) -> None:
        self.refresh = refresh
        self.event = threading.Event()
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
                flight = self._flights[key] = _Flight(refresh=try_only)
                return True, flight
            if try_only:
                return False, None
            flight.waiters += 1
            return False, flight

    def peek(self, key: str) -> _Flight | None:
        """Follow the load of ``key`` already under way, if any (no flight is created).

        A refresh of a readable entry is not joined: the caller reads that entry instead.
        """
        flight = self._flights.get(key)  # a dict read is atomic; re-checked under the lock
        if flight is None or flight.refresh:
            return None
        with self._lock:
            if self._flights.get(key) is not flight:
                return None
            flight.waiters += 1
            return flight

    def wait(self, flight: _Flight) -> T:
        """Block until the leader finishes; return its result or raise its exception."""
        flight.event.wait()
        if flight.error is not None:
            raise flight.error
        result: T = flight.result
        return result

    def finish(self, key: str, flight: _Flight, result: Any = None) -> None:
        """Publish the leader's result (``RETRY`` when it vanished) and end the flight."""
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
        flight.result = result
        flight.event.set()

    def fail(self, key: str, flight: _Flight, error: BaseException) -> None:
        """Publish the leader's exception; non-``Exception`` errors make followers retry."""
        if isinstance(error, Exception):
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.error = error
            flight.event.set()
        else:
            self.finish(key, flight, RETRY)

    def waiters(self, key: str) -> int:
        """How many followers currently wait on ``key``'s flight (0 without a flight)."""
        with self._lock:
            flight = self._flights.get(key)
            return flight.waiters if flight is not None else 0


class _AsyncFlight:
    __slots__ = ("future", "refresh", "waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop, refresh: bool = False) -> None:
        self.refresh = refresh
        self.future: asyncio.Future[Any] = loop.create_future()
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
            if flight is None or flight.future.get_loop() is not loop:
                flight = self._flights[slot] = _AsyncFlight(loop, refresh=try_only)
                return True, flight
            if try_only:
                return False, None
            flight.waiters += 1
            return False, flight

    def peek(self, key: str) -> _AsyncFlight | None:
        """Follow the load of ``key`` under way on the running loop, if any (see `SingleFlight`)."""
        loop = asyncio.get_running_loop()
        slot = (id(loop), key)
        flight = self._flights.get(slot)
        if flight is None or flight.refresh or flight.future.get_loop() is not loop:
            return None
        with self._lock:
            if self._flights.get(slot) is not flight:
                return None
            flight.waiters += 1
            return flight

    async def wait(self, flight: _AsyncFlight) -> T:
        """Wait for the leader; a cancelled follower does not cancel the flight."""
        result: T = await asyncio.shield(flight.future)
        return result

    def finish(self, key: str, flight: _AsyncFlight, result: Any = None) -> None:
        """Publish the leader's result (``RETRY`` when it vanished) and end the flight."""
        self._forget(key, flight)
        if not flight.future.done():
            flight.future.set_result(result)

    def fail(self, key: str, flight: _AsyncFlight, error: BaseException) -> None:
        """Publish the leader's exception; a cancelled leader makes followers retry."""
        if not isinstance(error, Exception):
            self.finish(key, flight, RETRY)
            return
        self._forget(key, flight)
        if not flight.future.done():
            flight.future.set_exception(error)
            # Mark it retrieved: with no follower nobody awaits it, and asyncio would log
            # "Future exception was never retrieved" for an error the leader re-raises.
            flight.future.exception()

    def waiters(self, key: str) -> int:
        """Followers waiting on ``key``'s flight on the running loop."""
        slot = (id(asyncio.get_running_loop()), key)
        with self._lock:
            flight = self._flights.get(slot)
            return flight.waiters if flight is not None else 0

    def _forget(self, key: str, flight: _AsyncFlight) -> None:
        slot = (id(flight.future.get_loop()), key)
        with self._lock:
            if self._flights.get(slot) is flight:
                del self._flights[slot]
