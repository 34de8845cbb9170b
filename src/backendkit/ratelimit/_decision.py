"""The decision, written once: per-strategy window arithmetic and the rule-level choice.

Everything is integer milliseconds so the in-memory backend and the Lua script in
``_redis.py`` (which mirrors these functions line for line) compute identical numbers.
Each strategy function looks at one limit *before* a hit and returns a ``Stat``:

* ``ok`` - a hit of ``cost`` would fit under this limit now;
* ``remaining`` - the largest cost that would fit now (0 when full);
* ``reset`` - epoch ms at which the limit's quota resets, the ``RateLimit-Reset`` of the
  IETF rate-limit headers draft ("the number of seconds until the quota resets"): the
  end of the current window (fixed window, sliding window counter: the window's count
  becomes the decaying one and the window before it stops weighing), or the moment the
  oldest counted hit leaves the window (moving window); ``now`` when nothing is counted.
  Never more than one window away, except that on a denial it is never before ``now +
  retry`` (a client is never told the quota resets before it may retry; only a sliding
  counter whose current window alone is full has to wait past the window's end);
* ``retry`` - ms until a hit of ``cost`` would fit (0 when it fits now).

A cost above a limit's amount never fits; its ``retry`` is one window (there is no
honest answer, and a bounded one keeps clients from hammering).

The rule-level outcome (``choose``) is the same for every backend: allowed only when
every limit is ``ok`` (all-or-nothing), and the limit reported is the one a client
should care about.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

__all__ = ["Reply", "Stat", "choose", "fixed_window", "moving_window", "sliding_window"]

#: ``(ok, remaining, reset_ms, retry_ms)`` for one limit (``ok`` is 0 or 1).
Stat = tuple[int, int, int, int]

#: What a backend returns for one call: ``[now_ms, allowed, ok_1, remaining_1, reset_1,
#: retry_1, ok_2, ...]`` - the exact shape of the Lua script's reply.
Reply = Sequence[int]


def fixed_window(amount: int, window: int, now: int, count: int, cost: int) -> Stat:
    """One fixed-window limit: ``count`` hits so far in the aligned window holding ``now``."""
    end = (now // window + 1) * window
    ok = count + cost <= amount
    remaining = amount - count if count < amount else 0
    reset = end if count > 0 else now
    if ok:
        retry = 0
    elif cost > amount:
        retry = window
    else:
        retry = end - now
    if reset < now + retry:
        reset = now + retry
    return (1 if ok else 0), remaining, reset, retry


def sliding_window(
    amount: int, window: int, now: int, current: int, previous: int, cost: int
) -> Stat:
    """One sliding-window-counter limit.

    The estimate is ``previous * (1 - elapsed / window) + current`` where ``elapsed`` is
    the time since the aligned window holding ``now`` began; a hit fits when the estimate
    plus ``cost`` stays within ``amount``. Scaled by ``window`` so it is exact in integers.
    """
    start = now - now % window
    elapsed = now - start
    weight = previous * (window - elapsed) + current * window
    budget = amount * window
    ok = weight + cost * window <= budget
    remaining = (budget - weight) // window if weight < budget else 0
    # The window's end: its count starts to decay and the one before stops weighing.
    reset = start + window if current > 0 or previous > 0 else now
    if ok:
        retry = 0
    elif cost > amount:
        retry = window
    elif current + cost <= amount:
        # Fits later in this window, once the previous window's weight has decayed enough
        # (previous > 0 here, or it would fit now).
        retry = start + window - (amount - current - cost) * window // previous - now
    else:
        # Not before the next window, where this window's count becomes the decaying one
        # (current > 0 here, since cost <= amount).
        wait = window - (amount - cost) * window // current
        retry = start + window + (wait if wait > 0 else 0) - now
    if reset < now + retry:
        reset = now + retry
    return (1 if ok else 0), remaining, reset, retry


def moving_window(amount: int, window: int, now: int, stamps: Sequence[int], cost: int) -> Stat:
    """One moving-window limit: ``stamps`` holds one entry per unit charged, oldest first.

    An entry counts while ``stamp > now - window``.
    """
    size = len(stamps)
    count = size - bisect_right(stamps, now - window)
    ok = count + cost <= amount
    remaining = amount - count if count < amount else 0
    # When the oldest counted entry leaves the window.
    reset = stamps[size - count] + window if count > 0 else now
    if ok:
        retry = 0
    elif cost > amount:
        retry = window
    else:
        # The (amount - cost)-th newest entry must leave the window first.
        retry = stamps[size - 1 - (amount - cost)] + window - now
    if reset < now + retry:
        reset = now + retry
    return (1 if ok else 0), remaining, reset, retry


def choose(reply: Reply) -> int:
    """Return the index (0-based) of the limit that decided ``reply``.

    Denied: the denying limit with the longest wait (waiting that long satisfies every
    limit, since no count grows while nothing is charged). Allowed: the limit with the
    fewest units left. Ties go to the limit listed first.
    """
    n = (len(reply) - 2) // 4
    if n == 1:
        return 0
    best = 0
    if reply[1]:
        low = reply[3]
        for i in range(1, n):
            value = reply[3 + 4 * i]
            if value < low:
                low, best = value, i
        return best
    longest = -1
    for i in range(n):
        base = 2 + 4 * i
        if not reply[base] and reply[base + 3] > longest:
            longest, best = reply[base + 3], i
    return best
