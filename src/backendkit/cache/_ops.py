"""The operations the flow yields, performed by a backend or by the shell (data only).

Each is a small frozen record: the Redis and memory backends carry out the backend ones
(``Acquire`` ... ``Bump``; a call's reads are backend methods), the shells the others
(``Load`` runs the loader, ``Join`` claims an early refresh). Lock tokens come from here.
"""

from __future__ import annotations

import itertools
import os
import secrets
from dataclasses import dataclass
from typing import Literal

from backendkit.cache._keys import EntryKeys

__all__ = [
    "Acquire",
    "AcquireReply",
    "Bump",
    "Delete",
    "Join",
    "Load",
    "Op",
    "Release",
    "Store",
    "TryLock",
    "Wait",
    "lock_token",
    "new_token",
]


@dataclass(frozen=True, slots=True)
class Acquire:
    """Atomically: re-check the entry, else take the lock, else report who to wait for.

    ``new_gen`` initializes the namespace generation when it does not exist yet; an entry
    counts only while fresh at ``now_ms`` (the caller's clock, which wrote the header).
    Result: [`AcquireReply`][backendkit.cache._ops.AcquireReply].
    """

    keys: EntryKeys
    token: bytes
    lock_px: int
    new_gen: bytes
    now_ms: int


@dataclass(frozen=True, slots=True)
class AcquireReply:
    """What ``Acquire`` found: an entry (``hit``), the lock (``lock``), or a holder."""

    state: Literal["hit", "lock", "wait"]
    gen: bytes
    entry: bytes | None = None
    wake_id: bytes | None = None


@dataclass(frozen=True, slots=True)
class TryLock:
    """Take the lock if free (for an early refresh) -> ``bool``."""

    keys: EntryKeys
    token: bytes
    lock_px: int


@dataclass(frozen=True, slots=True)
class Wait:
    """Block until the lock holder finishes or ``timeout`` passes.

    Result: the stored entry bytes, ``b""`` when the holder stored nothing, ``None`` on
    timeout.
    """

    keys: EntryKeys
    wake_id: bytes
    timeout: float


@dataclass(frozen=True, slots=True)
class Store:
    """Store ``raw`` for ``px`` ms; with a ``token``, also release the lock and wake waiters."""

    keys: EntryKeys
    raw: bytes
    px: int
    token: bytes | None
    notify_px: int


@dataclass(frozen=True, slots=True)
class Release:
    """Release the lock (if still ours) and wake waiters with "nothing stored"."""

    keys: EntryKeys
    token: bytes
    notify_px: int


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete one entry -> ``bool`` (whether it existed)."""

    key: str


@dataclass(frozen=True, slots=True)
class Bump:
    """Give a namespace a new generation: every entry written before is a miss."""

    key: str
    gen: bytes


@dataclass(frozen=True, slots=True)
class Load:
    """Run the loader (performed by the shell: a call, or an await)."""


@dataclass(frozen=True, slots=True)
class Join:
    """Become this process's refresher of the key -> ``True``, or ``False`` when another
    caller already refreshes it (this one serves the value it has)."""


Op = Acquire | TryLock | Wait | Store | Release | Delete | Bump | Load | Join


def new_token() -> bytes:
    """A random token: a namespace generation, or a lock token outside the read."""
    return secrets.token_hex(8).encode()


class _TokenSource:
    """Lock tokens for every read: a random per-process prefix and a counter.

    A token only has to be unique among the holders of one lock; drawing it from the OS
    on every read (a hit included) would cost a system call. A forked child draws a new
    prefix, so parent and child never hand out the same token.
    """

    def __init__(self) -> None:
        self.reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self._prefix = secrets.token_hex(6).encode() + b"."
        self._count = itertools.count()

    def __call__(self) -> bytes:
        return b"%s%x" % (self._prefix, next(self._count))


#: A fresh lock token (also the namespace generation a read initializes).
lock_token = _TokenSource()
