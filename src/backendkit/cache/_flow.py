"""The cache-aside decisions, written once, free of I/O.

``call_flow`` is a generator: it *yields* operations (take the lock, wait, run the loader,
store) and receives their results, and decides everything else itself. The sync and async
shells in ``_shell.py`` drive the same generator, one with plain calls and one with
``await`` (the pattern of ``httpx.Auth.auth_flow``); only the I/O is doubled. A failed
backend operation is thrown into the generator as ``BackendUnavailable``; a failed loader
is thrown in as its own exception (the flow releases the lock and re-raises it).

One call, as the shell and the flow see it::

    join the key's in-process flight ─ another caller leads: get its answer ─> HIT/STALE/SHARED
        │ lead: one read that returns the entry, or else takes the lock (fetch)
        ├ fresh ────────────────── (followers get the same entry) ──────────> HIT
        ├ near expiry (XFetch) / stale ─ one refresher per process and per cluster
        │                                 (others serve the current value) ─> LOADED
        ├ lock taken by the read: load, store, release, wake waiters ───────> LOADED
        ├ lock held elsewhere: block on the wake-up (bounded);
        │   got the value ──> SHARED; holder failed or timed out ───────────> LOADED
        └ entry unusable (undecodable, expired on this clock): atomically
          re-check, or take the lock, or learn who holds it (Acquire) ─ as above

A miss whose read took the lock costs two round trips: the read and the store.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, NamedTuple

from backendkit._write_scope import replica_safe
from backendkit.cache._early import Freshness, classify
from backendkit.cache._keys import EntryKeys
from backendkit.cache._ops import (
    Acquire,
    AcquireReply,
    Join,
    Load,
    Op,
    Release,
    Store,
    TryLock,
    Wait,
    lock_token,
)
from backendkit.cache._policy import Policy
from backendkit.cache._result import CacheResult, Outcome
from backendkit.cache._serde import (
    Codec,
    DecodeError,
    EncodeError,
    Entry,
    decode_entry,
    encode_entry,
)
from backendkit.cache._stats import CacheStats
from backendkit.clock import Clock
from backendkit.errors import BackendUnavailable
from backendkit.logging import get_logger

__all__ = [
    "FAILED_READ",
    "FlowResult",
    "Plan",
    "Reading",
    "Shared",
    "call_flow",
    "follower_result",
]

_log = get_logger("backendkit.cache")


@dataclass(frozen=True, slots=True)
class Shared:
    """What a flight's leader that loaded (or waited for a load) hands its followers.

    A leader whose read found the entry hands them its `Reading` instead.
    """

    value: Any
    payload: bytes | None
    degraded: bool


@dataclass(frozen=True, slots=True)
class FlowResult:
    """The flow's answer, plus the payload followers decode their own copy from."""

    result: CacheResult[Any]
    payload: bytes | None


class Reading(NamedTuple):
    """What the shell's read found, examined (`Plan.examine`); a tuple, built per call.

    ``entry``/``value``/``freshness`` are set when a usable entry was read; ``lock`` when
    the read took the lock with ``token`` or learned who holds it; ``failed`` when the
    backend was unavailable.
    """

    failed: bool
    gen: bytes | None = None
    raw: bytes | None = None
    entry: Entry | None = None
    value: Any = None
    freshness: Freshness | None = None
    lock: AcquireReply | None = None
    token: bytes | None = None


#: The reading of a read that failed (the backend is unavailable).
FAILED_READ = Reading(failed=True)


# --- the per-function context -----------------------------------------------------------


class Plan:
    """Everything the flow needs about one cached function (built once per decorator)."""

    def __init__(
        self,
        *,
        policy: Policy,
        codec: Codec[Any],
        clock: Clock,
        rng: random.Random,
        stats: CacheStats,
        name: str,
    ) -> None:
        self.policy = policy
        self.codec = codec
        self.clock = clock
        self.rng = rng
        self.stats = stats
        self.name = name
        self.lock_px = policy.lock_px()
        self.notify_px = self.lock_px
        self.stale_px = round(policy.stale_ttl * 1000)

    def decode(self, raw: bytes | None, gen: bytes | None, key: str) -> tuple[Entry, Any] | None:
        """Decode stored bytes of generation ``gen``; ``None`` means a miss."""
        if raw is None:
            return None
        entry = decode_entry(raw)
        if entry is None or entry.gen != gen:
            return None
        try:
            return entry, self.codec.loads(entry.payload)
        except DecodeError as exc:
            self._decode_failed(key, exc)
            return None

    def _decode_failed(self, key: str, exc: DecodeError) -> None:
        self.stats.incr("errors")
        _log.warning("cache_decode_failed", function=self.name, key=key, error=str(exc)[:300])

    def examine(
        self, keys: EntryKeys, reply: bytes | AcquireReply, token: bytes, now: float
    ) -> Reading:
        """Decode and classify what a ``fetch`` returned at ``now`` (pure)."""
        if isinstance(reply, AcquireReply):
            return Reading(False, reply.gen, lock=reply, token=token)
        entry = decode_entry(reply)
        # The script returned the entry only because its generation is the current one.
        return self._classify(keys, reply, entry, None if entry is None else entry.gen, now)

    def examine_read(
        self, keys: EntryKeys, gen: bytes | None, raw: bytes | None, now: float
    ) -> Reading:
        """Decode and classify what a plain ``read`` returned, ``(gen, raw)``, at ``now``."""
        entry = None if raw is None else decode_entry(raw)
        if entry is not None and entry.gen != gen:
            entry = None  # written before the namespace was invalidated
        return self._classify(keys, raw, entry, gen, now)

    def _classify(
        self,
        keys: EntryKeys,
        raw: bytes | None,
        entry: Entry | None,
        gen: bytes | None,
        now: float,
    ) -> Reading:
        if entry is None:
            return Reading(False, gen, raw)
        if now < entry.fresh_until and not entry.delta:
            # Fresh, and XFetch has no load time to weigh (most hits): no draw needed.
            freshness = Freshness.FRESH
        else:
            freshness = classify(entry, now, self.policy.early_recompute, self.rng)
            if freshness is Freshness.STALE and now >= entry.fresh_until + self.policy.stale_ttl:
                # Past ttl + stale_ttl on our clock (the backend's expiry may lag it): a miss.
                return Reading(False, gen, raw)
        try:
            value = self.codec.loads(entry.payload)
        except DecodeError as exc:
            self._decode_failed(keys.entry, exc)
            return Reading(False, gen, raw)
        # tuple.__new__: a NamedTuple's own __new__ is a Python function, on every hit.
        return tuple.__new__(Reading, (False, gen, raw, entry, value, freshness, None, None))

    def payload_for(self, value: Any, key: str) -> bytes | None:
        """The encoded value if it should be stored, else ``None`` (logged, counted)."""
        policy = self.policy
        if value is None and not policy.cache_none:
            self.stats.incr("not_stored")
            return None
        if policy.condition is not None and not policy.condition(value):
            self.stats.incr("not_stored")
            return None
        if not replica_safe():  # loaded in a scope that read a replica and wrote: may lag
            self.stats.incr("not_stored")
            return None
        try:
            payload = self.codec.dumps(value)
        except EncodeError as exc:
            self.stats.incr("not_stored")
            self.stats.incr("errors")
            _log.warning("cache_encode_failed", function=self.name, key=key, error=str(exc)[:300])
            return None
        if len(payload) > policy.max_value_bytes:
            self.stats.incr("not_stored")
            _log.warning(
                "cache_value_too_large",
                function=self.name,
                key=key,
                size=len(payload),
                limit=policy.max_value_bytes,
            )
            return None
        return payload


# --- the flow ---------------------------------------------------------------------------

Flow = Generator[Op, Any, FlowResult]


def call_flow(plan: Plan, keys: EntryKeys, reading: Reading) -> Flow:
    """Decide a call the read did not answer (see the module docstring).

    The read itself happens in the shell, so a fresh hit never starts a generator; the
    shell hands what it found (`Plan.examine`) to this flow. Only the key's flight leader
    gets here: every other caller of the key in this process waits for its answer.
    """
    stats = plan.stats
    if reading.failed:
        # An outage: still one load per key in this process, then nothing else on Redis.
        stats.incr("misses")
        return (yield from _load(plan, degraded=True))
    if reading.entry is not None and reading.freshness is not None:
        assert reading.gen is not None  # a decoded entry carries it
        return (
            yield from _refresh(
                plan, keys, reading.gen, reading.entry, reading.value, reading.freshness
            )
        )
    stats.incr("misses")
    reply, token = reading.lock, reading.token
    if reply is None or token is None:
        # The read returned an entry this caller cannot use (undecodable, or expired on
        # its clock), so it did not lock: re-check and lock atomically now.
        token = lock_token()
        try:
            reply = yield Acquire(keys, token, plan.lock_px, token, round(plan.clock.now() * 1000))
        except BackendUnavailable:
            return (yield from _load(plan, degraded=True))
        if reply.state == "hit":
            # The same bytes that just failed to decode are not decoded (and logged) twice.
            raw = reading.raw
            found = None if reply.entry == raw else plan.decode(reply.entry, reply.gen, keys.entry)
            if found is not None:
                stats.incr("shared")
                return FlowResult(CacheResult(found[1], Outcome.SHARED), found[0].payload)
            return (yield from _load_and_store(plan, keys, reply.gen, None))
    if reply.state == "lock":
        return (yield from _load_and_store(plan, keys, reply.gen, token))
    stats.incr("lock_waits")
    assert reply.wake_id is not None
    try:
        woken = yield Wait(keys, reply.wake_id, plan.policy.lock_wait)
    except BackendUnavailable:
        return (yield from _load(plan, degraded=True))
    if woken:
        found = plan.decode(woken, reply.gen, keys.entry)
        if found is not None:
            stats.incr("shared")
            return FlowResult(CacheResult(found[1], Outcome.SHARED), found[0].payload)
    # The holder stored nothing, failed, or outlived lock_wait: load without the lock.
    return (yield from _load_and_store(plan, keys, reply.gen, None))


def _refresh(
    plan: Plan, keys: EntryKeys, gen: bytes, entry: Entry, value: Any, freshness: Freshness
) -> Flow:
    """One caller reloads a stale or nearly expired entry; everyone else serves it."""
    stale = freshness is Freshness.STALE
    current = FlowResult(CacheResult(value, Outcome.STALE if stale else Outcome.HIT), entry.payload)
    lead = yield Join()
    if not lead:
        return _serve(plan, current)
    token = lock_token()
    try:
        locked = yield TryLock(keys, token, plan.lock_px)
    except BackendUnavailable:
        locked = False
    if not locked:
        return _serve(plan, current)
    plan.stats.incr("misses")
    plan.stats.incr("early_refreshes")
    return (yield from _load_and_store(plan, keys, gen, token))


def _serve(plan: Plan, current: FlowResult) -> FlowResult:
    if current.result.outcome is Outcome.STALE:
        plan.stats.incr("stale_serves")
    else:
        plan.stats.incr("hits")
    return current


def _load(plan: Plan, *, degraded: bool) -> Flow:
    """Run the loader and touch nothing else (the backend is unavailable)."""
    value = yield Load()
    plan.stats.incr("loads")
    return FlowResult(CacheResult(value, Outcome.LOADED, degraded), None)


def _load_and_store(plan: Plan, keys: EntryKeys, gen: bytes, token: bytes | None) -> Flow:
    """Run the loader, store what the policy allows, and release the lock if held."""
    started = plan.clock.monotonic()
    try:
        value = yield Load()
    except GeneratorExit:
        raise
    except BaseException:
        # Exceptions are never cached: free the lock so waiters stop waiting, then re-raise.
        if token is not None:
            with contextlib.suppress(BackendUnavailable):
                yield Release(keys, token, plan.notify_px)
        raise
    delta = max(0.0, plan.clock.monotonic() - started)
    plan.stats.record_load(delta)
    payload = plan.payload_for(value, keys.entry)
    degraded = False
    try:
        if payload is not None:
            ttl = plan.policy.fresh_ttl(value is None, plan.rng)
            raw = encode_entry(gen, plan.clock.now() + ttl, delta, payload)
            px = max(1, round(ttl * 1000) + plan.stale_px)
            yield Store(keys, raw, px, token, plan.notify_px)
        elif token is not None:
            yield Release(keys, token, plan.notify_px)
    except BackendUnavailable:
        degraded = True
    return FlowResult(CacheResult(value, Outcome.LOADED, degraded), payload)


def follower_result(plan: Plan, shared: Shared | Reading) -> CacheResult[Any]:
    """A follower's answer: its own decoded copy of the leader's value when possible.

    Counted as what it is for this caller: a hit (or a stale serve) when the leader's read
    found the entry (a `Reading`), a miss answered by another caller's load otherwise.
    """
    stats = plan.stats
    payload: bytes | None
    if isinstance(shared, Reading):
        assert shared.entry is not None  # only a read that found the entry is handed on
        stale = shared.freshness is Freshness.STALE
        stats.incr("stale_serves" if stale else "hits")
        outcome = Outcome.STALE if stale else Outcome.HIT
        value, payload, degraded = shared.value, shared.entry.payload, False
    else:
        stats.incr("misses")
        stats.incr("shared")
        outcome = Outcome.SHARED
        value, payload, degraded = shared.value, shared.payload, shared.degraded
        if degraded:
            stats.incr("degraded")
    if payload is not None:
        # Bytes the leader could not round-trip leave the leader's own object to share.
        with contextlib.suppress(DecodeError):
            value = plan.codec.loads(payload)
    return CacheResult(value, outcome, degraded)
