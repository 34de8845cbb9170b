"""The Clock protocol and the system clock."""

from __future__ import annotations

import time

from backendkit.clock import Clock, SystemClock, system_clock


def test_system_clock_is_a_clock() -> None:
    """The shared default satisfies the Clock protocol."""
    assert isinstance(system_clock, Clock)
    assert isinstance(system_clock, SystemClock)


def test_now_reads_the_wall_clock() -> None:
    """now() is time.time(): between two readings taken around it."""
    before = time.time()
    value = system_clock.now()
    after = time.time()
    assert before <= value <= after


def test_monotonic_reads_the_monotonic_clock() -> None:
    """monotonic() is time.monotonic(): between two readings and never decreasing."""
    before = time.monotonic()
    first = system_clock.monotonic()
    second = system_clock.monotonic()
    after = time.monotonic()
    assert before <= first <= second <= after


def test_any_object_with_both_methods_is_a_clock() -> None:
    """Clock is structural: user clocks need no base class."""

    class Frozen:
        def now(self) -> float:
            return 0.0

        def monotonic(self) -> float:
            return 0.0

    assert isinstance(Frozen(), Clock)
    assert not isinstance(object(), Clock)
