"""Early recomputation, so a hot key never expires for everyone at once.

Two mechanisms, both deciding on one caller only while every other caller keeps reading:

* XFetch (Vattani, Chierichetti, Lowenstein, "Optimal Probabilistic Cache Stampede
  Prevention", VLDB 2015): each read refreshes early with a probability that rises as
  expiry nears and with how long the last load took. With ``delta`` the load time and
  ``beta`` the eagerness, a read at ``now`` refreshes when
  ``now - delta * beta * ln(U) >= expiry`` for ``U`` uniform in ``(0, 1]``.
* Serve-stale-while-refreshing: an entry kept ``stale_ttl`` past its TTL is served stale
  while a single caller (the one that wins the lock) reloads it.
"""

from __future__ import annotations

import math
import random
from enum import Enum

from backendkit.cache._serde import Entry

__all__ = ["Freshness", "classify"]


class Freshness(Enum):
    """How a readable entry should be treated."""

    FRESH = "fresh"
    EARLY = "early"
    STALE = "stale"


def classify(entry: Entry, now: float, beta: float, rng: random.Random) -> Freshness:
    """Decide whether ``entry`` is served as is, refreshed early, or stale."""
    if now >= entry.fresh_until:
        return Freshness.STALE
    if beta > 0.0 and entry.delta > 0.0:
        gap = -entry.delta * beta * math.log(1.0 - rng.random())
        if now + gap >= entry.fresh_until:
            return Freshness.EARLY
    return Freshness.FRESH
