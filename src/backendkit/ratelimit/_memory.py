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


class _Table(OrderedDict[str, list[Any]]):
    """One rule's entries, oldest expiry first, and when the first one expires."""

    # Nothing can be stale before this time (ms): the expiry of the entry at the front,
    # as of the last purge. Lets most charges skip the purge entirely.
    next_purge: int = 0


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

    def run(self, rule: Rule, key: str, cost: int, charge: bool) -> list[int]:
        """Decide (and, when ``charge`` and allowed, record) a hit of ``cost`` on ``key``."""
        now = round(self._clock.now() * 1000)
        with self._lock:
            table = self._tables.get(rule._ident)
            if table is None:
                table = self._tables[rule._ident] = _Table()
            entry = table.get(key)
            if entry is not None and entry[0] <= now:
                entry = None
            reply = _BY_CODE[rule._code](rule, entry, now, cost, charge, table, key)
            if charge and reply[1] and now >= table.next_purge:
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
            table.next_purge = entry[0]
            return
        del table[key]


def _store(table: _Table, key: str, entry: list[Any]) -> None:
    table[key] = entry
    table.move_to_end(key)


def _charged(stats: list[int], cost: int, resets: list[int]) -> None:
    """Turn the stats computed before an allowed hit into those after charging it.

    Equal to running the strategy again on the charged state with cost 0 (what the Lua
    script does; the agreement tests compare both): the hit fitted, so each limit's
    ``remaining`` drops by exactly ``cost``, nothing needs waiting for, and ``reset`` is
    the strategy's reset for a key that holds a fresh charge.
    """
    for i, reset in enumerate(resets):
        base = 2 + 4 * i
        stats[base + 1] -= cost
        stats[base + 2] = reset


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
    stats: list[int] = [now, 1]
    fresh: list[Any] = [now + rule.retention_ms]
    resets: list[int] = []
    i = 1
    for amount, window in rule._spec:
        index = now // window
        count = entry[i + 1] if entry is not None and entry[i] == index else 0
        i += 2
        stat = fixed_window(amount, window, now, count, cost)
        if not stat[0]:
            stats[1] = 0
        stats += stat
        fresh += (index, count + cost)
        resets.append((index + 1) * window)
    if charge and stats[1]:
        _charged(stats, cost, resets)
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
    stats: list[int] = [now, 1]
    fresh: list[Any] = [now + rule.retention_ms]
    resets: list[int] = []
    i = 1
    for amount, window in rule._spec:
        index = now // window
        current = previous = 0
        if entry is not None:
            stored = entry[i]
            if stored == index:
                current = entry[i + 1]
                previous = entry[i + 2]
            elif stored == index - 1:
                previous = entry[i + 1]
        i += 3
        stat = sliding_window(amount, window, now, current, previous, cost)
        if not stat[0]:
            stats[1] = 0
        stats += stat
        fresh += (index, current + cost, previous)
        resets.append((index + 1) * window)
    if charge and stats[1]:
        _charged(stats, cost, resets)
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
    for amount, window in rule._spec:
        stat = moving_window(amount, window, now, stamps, cost)
        if not stat[0]:
            stats[1] = 0
        stats += stat
    if not (charge and stats[1]):
        return stats
    # Stamps never go backwards, even if the clock does, so the list stays sorted.
    stamp = max(now, stamps[-1]) if stamps else now
    stamps.extend([stamp] * cost)
    keep = rule._most
    if len(stamps) > keep:
        del stamps[: len(stamps) - keep]
    # Reset: when the oldest entry still counted leaves each limit's window.
    _charged(stats, cost, [moving_window(a, w, now, stamps, 0)[2] for a, w in rule._spec])
    _store(table, key, [now + rule.retention_ms, stamps])
    return stats


_BY_CODE = {"f": _fixed, "s": _sliding, "m": _moving}
