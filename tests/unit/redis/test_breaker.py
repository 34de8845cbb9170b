"""CircuitBreaker: opens after the threshold, fails fast, lets one trial through."""

from __future__ import annotations

import threading

import pytest

from backendkit.redis import BreakerState, CircuitBreaker
from backendkit.testing import FakeClock


def test_starts_closed_and_allows_calls(fake_clock: FakeClock) -> None:
    """A new breaker is closed and lets every call through."""
    breaker = CircuitBreaker(clock=fake_clock)
    assert breaker.state is BreakerState.CLOSED
    assert all(breaker.allow() for _ in range(5))


def test_first_failure_opens_with_threshold_one(fake_clock: FakeClock) -> None:
    """With the default threshold of 1 the first failure opens the breaker."""
    breaker = CircuitBreaker(clock=fake_clock)
    assert breaker.record_failure() is True
    assert breaker.state is BreakerState.OPEN
    assert breaker.allow() is False


def test_opens_only_after_threshold_consecutive_failures(fake_clock: FakeClock) -> None:
    """Failures below the threshold keep it closed; a success resets the count."""
    breaker = CircuitBreaker(threshold=3, clock=fake_clock)
    assert breaker.record_failure() is False
    assert breaker.record_failure() is False
    breaker.record_success()
    assert breaker.failures == 0
    assert breaker.record_failure() is False
    assert breaker.record_failure() is False
    assert breaker.allow() is True
    assert breaker.record_failure() is True
    assert breaker.allow() is False


def test_stays_open_until_cooldown_passes(fake_clock: FakeClock) -> None:
    """Calls are refused for the whole cooldown, then one trial is allowed."""
    breaker = CircuitBreaker(cooldown=5.0, clock=fake_clock)
    breaker.record_failure()
    fake_clock.advance(4.999)
    assert breaker.allow() is False
    fake_clock.advance(0.001)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() is True


def test_half_open_lets_exactly_one_trial_through(fake_clock: FakeClock) -> None:
    """While a trial is in flight other callers still fail fast."""
    breaker = CircuitBreaker(cooldown=5.0, clock=fake_clock)
    breaker.record_failure()
    fake_clock.advance(5.0)
    assert breaker.allow() is True
    assert [breaker.allow() for _ in range(3)] == [False, False, False]


def test_successful_trial_closes(fake_clock: FakeClock) -> None:
    """A success after the cooldown closes the breaker and reports the recovery."""
    breaker = CircuitBreaker(cooldown=5.0, clock=fake_clock)
    breaker.record_failure()
    fake_clock.advance(5.0)
    assert breaker.allow()
    assert breaker.record_success() is True
    assert breaker.state is BreakerState.CLOSED
    assert breaker.record_success() is False


def test_failed_trial_reopens_for_a_full_cooldown(fake_clock: FakeClock) -> None:
    """A failed trial re-opens it (not reported as a new opening) for another cooldown."""
    breaker = CircuitBreaker(cooldown=5.0, clock=fake_clock)
    assert breaker.record_failure() is True
    fake_clock.advance(5.0)
    assert breaker.allow()
    fake_clock.advance(1.0)
    assert breaker.record_failure() is False
    fake_clock.advance(4.9)
    assert breaker.allow() is False
    fake_clock.advance(0.1)
    assert breaker.allow() is True


def test_lost_trial_does_not_wedge_the_breaker(fake_clock: FakeClock) -> None:
    """If a trial never reports back, another trial is allowed one cooldown later."""
    breaker = CircuitBreaker(cooldown=2.0, clock=fake_clock)
    breaker.record_failure()
    fake_clock.advance(2.0)
    assert breaker.allow() is True
    fake_clock.advance(1.0)
    assert breaker.allow() is False
    fake_clock.advance(1.0)
    assert breaker.allow() is True


def test_reset_closes(fake_clock: FakeClock) -> None:
    """reset() closes an open breaker and clears the count."""
    breaker = CircuitBreaker(clock=fake_clock)
    breaker.record_failure()
    breaker.reset()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.failures == 0
    assert "closed" in repr(breaker)


@pytest.mark.parametrize(("threshold", "cooldown"), [(0, 1.0), (-1, 1.0), (1, 0.0), (1, -2.0)])
def test_rejects_invalid_parameters(threshold: int, cooldown: float) -> None:
    """A threshold below 1 or a non-positive cooldown is refused."""
    with pytest.raises(ValueError, match=r"threshold|cooldown"):
        CircuitBreaker(threshold=threshold, cooldown=cooldown)


def test_accepts_smallest_valid_parameters() -> None:
    """The valid twin: threshold 1 and a tiny positive cooldown are accepted."""
    breaker = CircuitBreaker(threshold=1, cooldown=0.001)
    assert breaker.threshold == 1
    assert breaker.cooldown == 0.001


def test_state_is_a_string_enum() -> None:
    """States compare equal to their wire names (handy in logs and health checks)."""
    assert BreakerState.HALF_OPEN == "half_open"
    assert BreakerState.OPEN.value == "open"


def test_concurrent_failures_report_opening_once(fake_clock: FakeClock) -> None:
    """Many threads failing at once: exactly one of them is told it opened the breaker."""
    breaker = CircuitBreaker(threshold=4, clock=fake_clock)
    workers = 16
    barrier = threading.Barrier(workers)
    results: list[bool] = []
    lock = threading.Lock()

    def fail() -> None:
        barrier.wait()
        opened = breaker.record_failure()
        with lock:
            results.append(opened)

    threads = [threading.Thread(target=fail) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    assert breaker.failures == workers


def test_concurrent_callers_get_one_trial(fake_clock: FakeClock) -> None:
    """After the cooldown, of many simultaneous callers only one is let through."""
    breaker = CircuitBreaker(cooldown=1.0, clock=fake_clock)
    breaker.record_failure()
    fake_clock.advance(1.0)
    workers = 16
    barrier = threading.Barrier(workers)
    allowed: list[bool] = []
    lock = threading.Lock()

    def call() -> None:
        barrier.wait()
        ok = breaker.allow()
        with lock:
            allowed.append(ok)

    threads = [threading.Thread(target=call) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 1
