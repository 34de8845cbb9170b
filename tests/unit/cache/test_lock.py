"""Parsing of the lock scripts' and XREAD's replies (RESP2 and RESP3 shapes)."""

from __future__ import annotations

from backendkit.cache._lock import parse_acquire, parse_fetch, parse_wake
from backendkit.cache._ops import AcquireReply


def test_parse_acquire_states() -> None:
    """hit/lock/wait replies become AcquireReply, str or bytes alike."""
    hit = parse_acquire([b"hit", b"g1", b"1|g1|..."])
    assert (hit.state, hit.gen, hit.entry) == ("hit", b"g1", b"1|g1|...")
    lock = parse_acquire(["lock", "g2"])
    assert (lock.state, lock.gen) == ("lock", b"g2")
    wait = parse_acquire([b"wait", b"g3", b"0-0"])
    assert (wait.state, wait.gen, wait.wake_id) == ("wait", b"g3", b"0-0")


def test_parse_wake_shapes() -> None:
    """XREAD replies in RESP2 list form and RESP3 map form give the value; empty is None."""
    assert parse_wake(None) is None
    assert parse_wake([]) is None
    assert parse_wake([[b"k", [(b"1-0", {b"v": b"entry"})]]]) == b"entry"
    assert parse_wake({b"k": [[(b"1-0"), {b"v": b""}]]}) == b""
    assert parse_wake([[b"k", [(b"1-0", [b"v", b"x"])]]]) == b"x"
    assert parse_wake([[b"k", [(b"1-0", {b"other": b"x"})]]]) == b""
    assert parse_wake([[b"k", []]]) is None


def test_parse_fetch_entry_or_lock() -> None:
    """A read's reply: the entry bytes as they are, the bare generation of a lock just
    taken, or the wait state."""
    assert parse_fetch(b"1|g|0|0|1") == b"1|g|0|0|1"
    lock = parse_fetch(b"g2.1a")
    assert isinstance(lock, AcquireReply)
    assert (lock.state, lock.gen) == ("lock", b"g2.1a")
    wait = parse_fetch([b"wait", b"g3", b"5-0"])
    assert isinstance(wait, AcquireReply)
    assert wait.wake_id == b"5-0"
