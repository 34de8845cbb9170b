"""In-process single-flight, sync and async: real overlap, shared errors, cancellation."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from backendkit.cache._singleflight import RETRY, AsyncSingleFlight, SingleFlight


def test_threads_share_one_leader() -> None:
    """50 threads joining one key: one leads, 49 follow and get its result."""
    sf: SingleFlight[str] = SingleFlight()
    lead, flight = sf.join("k")
    assert lead
    assert flight is not None
    results: list[Any] = []
    start = threading.Barrier(50)

    def follower() -> None:
        start.wait()
        is_lead, f = sf.join("k")
        assert not is_lead
        assert f is not None
        results.append(sf.wait(f))

    threads = [threading.Thread(target=follower) for _ in range(49)]
    for t in threads:
        t.start()
    start.wait()
    while sf.waiters("k") < 49:
        threading.Event().wait(0.001)
    sf.finish("k", flight, "value")
    for t in threads:
        t.join()
    assert results == ["value"] * 49
    assert sf.waiters("k") == 0


def test_try_only_does_not_follow() -> None:
    """A try-only join of a busy key returns (False, None) instead of waiting."""
    sf: SingleFlight[str] = SingleFlight()
    _, flight = sf.join("k")
    assert sf.join("k", try_only=True) == (False, None)
    assert flight is not None
    sf.finish("k", flight, "v")
    lead, _ = sf.join("k", try_only=True)
    assert lead


def test_leader_exception_reaches_followers_and_interrupt_means_retry() -> None:
    """An Exception is shared; a BaseException (interrupt) tells followers to retry."""
    sf: SingleFlight[str] = SingleFlight()
    _, flight = sf.join("k")
    _, follower = sf.join("k")
    assert flight is not None
    assert follower is not None
    sf.fail("k", flight, ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        sf.wait(follower)
    _, flight2 = sf.join("k")
    _, follower2 = sf.join("k")
    assert flight2 is not None
    assert follower2 is not None
    sf.fail("k", flight2, KeyboardInterrupt())
    assert sf.wait(follower2) is RETRY
    assert repr(RETRY) == "RETRY"


async def test_tasks_share_one_leader_and_survive_a_cancelled_follower() -> None:
    """Followers get the leader's result; cancelling one follower does not cancel the rest."""
    sf: AsyncSingleFlight[str] = AsyncSingleFlight()
    lead, flight = sf.join("k")
    assert lead
    assert flight is not None

    async def follow() -> str:
        is_lead, f = sf.join("k")
        assert not is_lead
        assert f is not None
        return await sf.wait(f)

    tasks = [asyncio.create_task(follow()) for _ in range(20)]
    while sf.waiters("k") < 20:  # noqa: ASYNC110 - polling a probe, not an event
        await asyncio.sleep(0)
    tasks[0].cancel()
    await asyncio.sleep(0)
    sf.finish("k", flight, "value")
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert results[1:] == ["value"] * 19
    assert sf.waiters("k") == 0


async def test_async_errors_and_cancelled_leader() -> None:
    """A leader's Exception is shared; a cancelled leader makes followers retry."""
    sf: AsyncSingleFlight[str] = AsyncSingleFlight()
    _, flight = sf.join("k")
    assert flight is not None
    assert sf.join("k", try_only=True) == (False, None)
    _, follower = sf.join("k")
    assert follower is not None
    sf.fail("k", flight, ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        await sf.wait(follower)
    _, lonely = sf.join("k")
    assert lonely is not None
    sf.fail("k", lonely, ValueError("nobody waits"))  # no "never retrieved" warning
    _, flight3 = sf.join("k")
    _, follower3 = sf.join("k")
    assert flight3 is not None
    assert follower3 is not None
    sf.fail("k", flight3, asyncio.CancelledError())
    assert await sf.wait(follower3) is RETRY
    sf.finish("k", flight3, "late")  # finishing twice is harmless


def test_a_lone_leader_creates_no_event_and_finishing_twice_is_harmless() -> None:
    """The event exists only once a follower waits; a second finish changes nothing."""
    sf: SingleFlight[str] = SingleFlight()
    _, alone = sf.join("k")
    assert alone is not None
    assert alone.event is None
    sf.finish("k", alone, "v")
    _, flight = sf.join("k")
    _, follower = sf.join("k")
    assert flight is not None
    assert follower is flight
    assert flight.event is not None
    sf.finish("k", flight, "first")
    sf.fail("k", flight, ValueError("late"))
    assert sf.wait(follower) == "first"
    assert sf.waiters("k") == 0


async def test_async_lone_leader_creates_no_future() -> None:
    """The async twin: the future exists only once a follower waits."""
    sf: AsyncSingleFlight[str] = AsyncSingleFlight()
    _, alone = sf.join("k")
    assert alone is not None
    assert alone.future is None
    sf.fail("k", alone, ValueError("nobody waits"))
    _, flight = sf.join("k")
    _, follower = sf.join("k")
    assert flight is not None
    assert follower is flight
    assert flight.future is not None
    sf.finish("k", flight, "v")
    assert await sf.wait(follower) == "v"
