"""Which entries this process last read fresh: it picks the cheaper read of a call.

A cached call reads one of two ways. The ``FETCH`` script returns the entry or else takes
the load lock, so a miss costs two round trips (the read and the store); but a script
costs Redis several times the CPU of a plain ``MGET``, on every hit. A plain ``MGET`` is
the cheapest hit, but a miss behind it needs a third round trip to take the lock.

The hints choose per key: while this process last saw the key's entry fresh (and its
expiry, which the entry carries, has not passed on this clock), a hit is likely and the
call reads with ``MGET``; otherwise -- a key never read here, one that missed, one past
its expiry -- a miss is likely and the call reads with ``FETCH``. A wrong guess costs one
round trip, never a wrong answer: both reads see the same entry and generation.
"""

from __future__ import annotations

__all__ = ["FreshHints"]


class FreshHints:
    """A bounded map from entry key to the expiry of the entry last read fresh.

    Args:
        size: Keys remembered; reaching it empties the map (a forgotten key only makes
            its next read a ``FETCH``).
    """

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        # Plain dict operations are atomic under the GIL; a lost update is only a hint.
        self._until: dict[str, float] = {}

    def likely_hit(self, key: str, now: float) -> bool:
        """True while the entry of ``key`` was last read fresh until after ``now``."""
        until = self._until.get(key)
        return until is not None and now < until

    def saw(self, key: str, fresh_until: float) -> None:
        """Remember that ``key``'s entry was read and is fresh until ``fresh_until``."""
        until = self._until
        if until.get(key) != fresh_until:
            if len(until) >= self._size:
                until.clear()
            until[key] = fresh_until

    def forget(self, key: str) -> None:
        """``key`` missed or was deleted: its next read should be able to take the lock."""
        self._until.pop(key, None)

    def __len__(self) -> int:
        return len(self._until)
