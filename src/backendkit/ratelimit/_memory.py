"""The in-memory backend: one process, the injected clock, no threads.

`limits`' own memory storage reads ``time.time()`` and runs a timer thread; this one
reads the [`Clock`][backendkit.clock.Clock] it is given, so tests move time instead of
sleeping, and it forgets stale keys lazily (a key's state is dropped once its rule's
retention has passed since its last charge). It answers in exactly the shape of the Redis
script's reply, computed by the shared functions in ``_decision``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from backendkit.clock import Clock
from backendkit.ratelimit._decision import fixed_window, moving_window, sliding_window
from backendkit.ratelimit._rules import Rule

__all__ = ["MemoryStore"]

_Table = OrderedDict[str, list[Any]]


class MemoryStore:
    """Counters for every rule and key, in this process only (thread-safe).

    Each table (one per rule) is ordered by expiry: an entry moves to the end whenever it
    is charged and gets ``now + retention`` as its expiry, and all entries of a rule share
    the same retention, so expired entries are always at the front and are purged in
    amortised constant time.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tables: dict[tuple[Any, ...], _Table] = {}

    def now_ms(self) -> int:
        """The clock's time in integer milliseconds."""
        return round(self._clock.now() * 1000)

    def run(self, rule: Rule, key: str, cost: int, charge: bool) -> list[int]:
        """Decide (and, when ``charge`` and allowed, record) a hit of ``cost`` on ``key``."""
        now = self.now_ms()
        with self._lock:
            table = self._tables.get(rule._ident)
            if table is None:
                table = self._tables[rule._ident] = OrderedDict()
            entry = table.get(key)
            if entry is not None and entry[0] <= now:
                entry = None
            code = rule._code
            if code == "s":
                reply = _sliding(rule, entry, now, cost, charge, table, key)
            elif code == "f":
                reply = _fixed(rule, entry, now, cost, charge, table, key)
            else:
                reply = _moving(rule, entry, now, cost, charge, table, key)
            if charge and reply[1]:
                _purge(table, now)
            return reply

    def clear(self, rule: Rule, key: str) -> None:
        """Forget ``key``'s counters under ``rule``."""
        with self._lock:
            table = self._tables.get(rule._ident)
            if table is not None:
                table.pop(key, None)

    def size(self) -> int:
        """Keys currently held (stale ones included until purged)."""
        with self._lock:
            return sum(len(table) for table in self._tables.values())


def _purge(table: _Table, now: int) -> None:
    # Called right after a charge: the entry just stored sits at the end with a future
    # expiry, so the loop always stops before the table is empty.
    while True:
        key, entry = next(iter(table.items()))
        if entry[0] > now:
            return
        del table[key]


def _store(table: _Table, key: str, entry: list[Any]) -> None:
    table[key] = entry
    table.move_to_end(key)


def _fixed(
    rule: Rule,
    entry: list[Any] | None,
    now: int,
    cost: int,
    charge: bool,
    table: _Table,
    key: str,
) -> list[int]:
    # entry: [expires, window_index_1, count_1, window_index_2, count_2, ...]
    counts = []
    stats: list[int] = [now, 1]
    allowed = True
    for i, (amount, window) in enumerate(rule._spec):
        index = now // window
        count = entry[2 + 2 * i] if entry is not None and entry[1 + 2 * i] == index else 0
        counts.append(count)
        stat = fixed_window(amount, window, now, count, cost)
        allowed = allowed and stat[0] == 1
        stats.extend(stat)
    if not allowed:
        stats[1] = 0
        return stats
    if not charge:
        return stats
    fresh: list[Any] = [now + rule.retention_ms]
    stats = [now, 1]
    for (amount, window), count in zip(rule._spec, counts, strict=True):
        fresh.append(now // window)
        fresh.append(count + cost)
        stats.extend(fixed_window(amount, window, now, count + cost, 0))
    _store(table, key, fresh)
    return stats


def _sliding(
    rule: Rule,
    entry: list[Any] | None,
    now: int,
    cost: int,
    charge: bool,
    table: _Table,
    key: str,
) -> list[int]:
    # entry: [expires, window_index_1, current_1, previous_1, window_index_2, ...]
    loaded = []
    stats: list[int] = [now, 1]
    allowed = True
    for i, (amount, window) in enumerate(rule._spec):
        index = now // window
        current = previous = 0
        if entry is not None:
            stored = entry[1 + 3 * i]
            if stored == index:
                current, previous = entry[2 + 3 * i], entry[3 + 3 * i]
            elif stored == index - 1:
                previous = entry[2 + 3 * i]
        loaded.append((index, current, previous))
        stat = sliding_window(amount, window, now, current, previous, cost)
        allowed = allowed and stat[0] == 1
        stats.extend(stat)
    if not allowed:
        stats[1] = 0
        return stats
    if not charge:
        return stats
    fresh: list[Any] = [now + rule.retention_ms]
    stats = [now, 1]
    for (amount, window), (index, current, previous) in zip(rule._spec, loaded, strict=True):
        fresh.extend((index, current + cost, previous))
        stats.extend(sliding_window(amount, window, now, current + cost, previous, 0))
    _store(table, key, fresh)
    return stats


def _moving(
    rule: Rule,
    entry: list[Any] | None,
    now: int,
    cost: int,
    charge: bool,
    table: _Table,
    key: str,
) -> list[int]:
    # entry: [expires, stamps] - one stamp per charged unit, oldest first, shared by every
    # limit of the rule (they are charged together, so they see the same hits).
    stamps: list[int] = entry[1] if entry is not None else []
    stats: list[int] = [now, 1]
    allowed = True
    for amount, window in rule._spec:
        stat = moving_window(amount, window, now, stamps, cost)
        allowed = allowed and stat[0] == 1
        stats.extend(stat)
    if not allowed:
        stats[1] = 0
        return stats
    if not charge:
        return stats
    # Stamps never go backwards, even if the clock does, so the list stays sorted.
    stamp = max(now, stamps[-1]) if stamps else now
    stamps.extend([stamp] * cost)
    keep = max(amount for amount, _ in rule._spec)
    if len(stamps) > keep:
        del stamps[: len(stamps) - keep]
    stats = [now, 1]
    for amount, window in rule._spec:
        stats.extend(moving_window(amount, window, now, stamps, 0))
    _store(table, key, [now + rule.retention_ms, stamps])
    return stats
