"""FakeClock: time moves only when the test says so."""

from __future__ import annotations

import threading

import pytest

from backendkit.clock import Clock
from backendkit.testing import FakeClock


def test_is_a_clock() -> None:
    """FakeClock satisfies the Clock protocol every component takes."""
    assert isinstance(FakeClock(), Clock)


def test_starts_at_the_given_time_and_stands_still() -> None:
    """Reading the clock never moves it."""
    clock = FakeClock(start=1_000.0)
    assert clock.now() == 1_000.0
    assert clock.now() == 1_000.0
    assert clock.monotonic() == clock.monotonic()


def test_default_start_is_a_realistic_epoch() -> None:
    """The default start is a plausible recent epoch time (2023-11-14)."""
    assert FakeClock().now() == 1_700_000_000.0


def test_advance_moves_both_readings() -> None:
    """advance() moves wall-clock and monotonic time by the same amount."""
    clock = FakeClock(start=0.0)
    mono = clock.monotonic()
    clock.advance(2.5)
    assert clock.now() == 2.5
    assert clock.monotonic() == mono + 2.5
    clock.advance(0)
    assert clock.now() == 2.5


def test_advance_refuses_negative_time() -> None:
    """Time does not run backwards through advance()."""
    clock = FakeClock()
    with pytest.raises(ValueError, match="non-negative"):
        clock.advance(-1)


def test_set_forward_counts_as_elapsed_time() -> None:
    """Setting the wall clock forward also moves monotonic time (time passed)."""
    clock = FakeClock(start=100.0)
    mono = clock.monotonic()
    clock.set(160.0)
    assert clock.now() == 160.0
    assert clock.monotonic() == mono + 60.0


def test_set_backward_moves_only_the_wall_clock() -> None:
    """Stepping the wall clock back (NTP) leaves monotonic time where it was."""
    clock = FakeClock(start=100.0)
    mono = clock.monotonic()
    clock.set(40.0)
    assert clock.now() == 40.0
    assert clock.monotonic() == mono


def test_monotonic_is_not_zero() -> None:
    """Monotonic readings start away from 0.0, which code may treat as 'never'."""
    assert FakeClock().monotonic() > 0


def test_repr_shows_both_readings() -> None:
    """The repr helps when a time-dependent assertion fails."""
    assert "now=5.0" in repr(FakeClock(start=5.0))


def test_concurrent_advances_are_not_lost() -> None:
    """Threads advancing at once: every advance counts."""
    clock = FakeClock(start=0.0)
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(1000):
            clock.advance(1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.now() == 8000.0
