"""The memory backend forgets stale keys lazily and answers in the script's reply shape."""

from __future__ import annotations

from backendkit.ratelimit import Rule
from backendkit.ratelimit._memory import MemoryStore
from backendkit.testing import FakeClock


def test_reply_shape_matches_the_script() -> None:
    """[now, allowed, (ok, remaining, reset, retry) per limit], integers in ms."""
    clock = FakeClock(start=1_700_000_040.0)
    store = MemoryStore(clock)
    reply = store.run(Rule("r", "2/minute;5/hour", strategy="fixed-window"), "k", 1, True)
    now = 1_700_000_040_000
    assert reply == [now, 1, 1, 1, now + 60_000, 0, 1, 4, 1_700_002_800_000, 0]


def test_stale_keys_are_purged_on_later_writes() -> None:
    """Once a rule's retention has passed, a later charge drops the stale keys."""
    clock = FakeClock()
    store = MemoryStore(clock)
    rule = Rule("r", "1/second", strategy="fixed-window")
    for i in range(50):
        store.run(rule, f"k{i}", 1, True)
    assert store.size() == 50
    clock.advance(1.0)
    store.run(rule, "fresh", 1, True)
    assert store.size() == 1


def test_keys_still_needed_are_kept() -> None:
    """Valid twin: within the retention nothing is dropped (sliding keeps two windows)."""
    clock = FakeClock()
    store = MemoryStore(clock)
    rule = Rule("r", "1/second")
    store.run(rule, "a", 1, True)
    clock.advance(1.5)
    store.run(rule, "b", 1, True)
    assert store.size() == 2


def test_expired_entry_reads_as_empty_and_peek_stores_nothing() -> None:
    """An expired entry is ignored even before it is purged; peeks never create state."""
    clock = FakeClock()
    store = MemoryStore(clock)
    rule = Rule("r", "1/second", strategy="moving-window")
    store.run(rule, "a", 1, True)
    clock.advance(5)
    assert store.run(rule, "a", 1, False)[1] == 1
    store.run(rule, "never-hit", 1, False)
    assert store.size() == 1
    store.clear(rule, "a")
    store.clear(Rule("unknown", "1/second"), "a")
    assert store.size() == 0


def test_moving_window_keeps_at_most_the_largest_amount_of_stamps() -> None:
    """The stamp list is trimmed to the rule's largest amount."""
    clock = FakeClock()
    store = MemoryStore(clock)
    rule = Rule("m", "3/second;5/minute", strategy="moving-window")
    for _ in range(4):
        store.run(rule, "k", 1, True)
        clock.advance(1.0)
    table = store._tables[rule._ident]
    assert len(table["k"][1]) == 4
    for _ in range(3):
        store.run(rule, "k", 1, True)
        clock.advance(1.0)
    assert len(table["k"][1]) == 5


def test_stamps_never_go_backwards_when_the_clock_does() -> None:
    """A wall-clock step back does not unsort the moving window's stamps."""
    clock = FakeClock(start=2_000.0)
    store = MemoryStore(clock)
    rule = Rule("m", "5/minute", strategy="moving-window")
    store.run(rule, "k", 1, True)
    clock.set(1_990.0)
    reply = store.run(rule, "k", 1, True)
    assert reply[1] == 1
    stamps = store._tables[rule._ident]["k"][1]
    assert stamps == sorted(stamps) == [2_000_000, 2_000_000]
