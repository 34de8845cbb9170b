"""The fresh-entry hints that pick a call's read (MGET when a hit is likely)."""

from __future__ import annotations

from backendkit.cache._hints import FreshHints


def test_fresh_hints_are_bounded_and_expire() -> None:
    """A hint holds until the entry's expiry; a full map starts over; forget drops one."""
    hints = FreshHints(size=2)
    assert not hints.likely_hit("a", 0.0)
    hints.saw("a", 10.0)
    assert hints.likely_hit("a", 9.9)
    assert not hints.likely_hit("a", 10.0)
    hints.saw("a", 10.0)  # unchanged: no rewrite
    hints.saw("b", 5.0)
    assert len(hints) == 2
    hints.saw("c", 5.0)  # full: starts over with just this one
    assert len(hints) == 1
    assert not hints.likely_hit("a", 0.0)
    hints.forget("c")
    hints.forget("never-seen")
    assert len(hints) == 0
