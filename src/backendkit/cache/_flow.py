"""The cache-aside decisions, written once, free of I/O.

``call_flow`` is a generator: it *yields* operations (read the entry, take the lock, wait,
run the loader, store) and receives their results, and decides everything else itself. The
sync and async shells in ``_cache.py`` drive the same generator, one with plain calls and
one with ``await`` (the pattern of ``httpx.Auth.auth_flow``); only the I/O is doubled. A
failed backend operation is thrown into the generator as ``BackendUnavailable``; a failed
loader is thrown in as its own exception (the flow releases the lock and re-raises it).

One call, as the flow sees it::

    read entry + namespace generation ─ fresh ──────────────────────────────> HIT
        │ near expiry (XFetch) / stale ─ one refresher per process and per cluster
        │                                 (others serve the current value) ─> LOADED
        │ absent / invalidated / undecodable
        └ join the in-process flight (followers get the leader's value) ────> SHARED
            └ leader: atomically re-check, or take the lock, or learn who holds it
                ├ entry appeared ──────────────────────────────────────────> SHARED
                ├ lock taken: load, store, release, wake waiters ──────────> LOADED
                └ lock held elsewhere: block on the wake-up (bounded);
                  got the value ──> SHARED; holder failed or timed out ────> LOADED
"""

from __future__ import annotations

import contextlib
import random
import secrets
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from backendkit.cache._early import Freshness, classify
from backendkit.cache._keys import EntryKeys
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
    "Acquire",
    "AcquireReply",
    "Bump",
    "Delete",
    "FlowResult",
    "Join",
    "Load",
    "Op",
    "Plan",
    "Read",
    "Reading",
    "Release",
    "Shared",
    "Store",
    "TryLock",
    "Wait",
    "call_flow",
    "follower_result",
    "new_token",
]

_log = get_logger("backendkit.cache")


# --- operations the flow yields (performed by a backend or by the shell) -------------------


@dataclass(frozen=True, slots=True)
class Read:
    """Read the namespace generation and the entry together -> ``(gen, raw)``."""

    keys: EntryKeys


@dataclass(frozen=True, slots=True)
class Acquire:
    """Atomically: re-check the entry, else take the lock, else report who to wait for.

    ``new_gen`` initializes the namespace generation when it does not exist yet; an entry
    counts only while fresh at ``now_ms`` (the caller's clock, which wrote the header).
    Result: [`AcquireReply`][backendkit.cache._flow.AcquireReply].
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
    """Join the in-process flight for this key.

    The shell answers ``None`` when this caller leads (it continues the flow), or the
    leader's [`Shared`][backendkit.cache._flow.Shared] result. With ``try_only`` a caller
    that would have to follow gets ``False`` instead (it serves the value it has).
    """

    try_only: bool = False


Op = Read | Acquire | TryLock | Wait | Store | Release | Delete | Bump | Load | Join


@dataclass(frozen=True, slots=True)
class Shared:
    """What a flight's leader hands its followers."""

    value: Any
    payload: bytes | None
    degraded: bool


@dataclass(frozen=True, slots=True)
class FlowResult:
    """The flow's answer, plus the payload followers decode their own copy from."""

    result: CacheResult[Any]
    payload: bytes | None


def new_token() -> bytes:
    """A random lock token (also the initial namespace generation)."""
    return secrets.token_hex(8).encode()


class Reading(NamedTuple):
    """What the shell's read found, examined (`Plan.examine`); a tuple, built per call.

    ``entry``/``value``/``freshness`` are set when a usable entry was read; ``failed``
    when the backend was unavailable.
    """

    failed: bool
    gen: bytes | None = None
    raw: bytes | None = None
    entry: Entry | None = None
    value: Any = None
    freshness: Freshness | None = None


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
        """Decode stored bytes of the current generation; ``None`` means a miss."""
        if raw is None or gen is None:
            return None
        entry = decode_entry(raw)
        if entry is None or entry.gen != gen:
            return None
        try:
            return entry, self.codec.loads(entry.payload)
        except DecodeError as exc:
            self.stats.incr("errors")
            _log.warning("cache_decode_failed", function=self.name, key=key, error=str(exc)[:300])
            return None

    def examine(self, keys: EntryKeys, reply: tuple[bytes | None, bytes | None]) -> Reading:
        """Decode and classify what a read returned (pure; the first half of a call)."""
        gen, raw = reply
        found = self.decode(raw, gen, keys.entry)
        if found is None:
            return Reading(False, gen, raw)
        entry, value = found
        now = self.clock.now()
        freshness = classify(entry, now, self.policy.early_recompute, self.rng)
        if freshness is Freshness.STALE and now >= entry.fresh_until + self.policy.stale_ttl:
            # Past ttl + stale_ttl on our clock (the backend's expiry may lag it): a miss.
            return Reading(False, gen, raw)
        return Reading(False, gen, raw, entry, value, freshness)

    def hit(self, reading: Reading) -> CacheResult[Any] | None:
        """The answer when the reading is a fresh entry, else ``None`` (run the flow)."""
        if reading.freshness is Freshness.FRESH:
            self.stats.incr("hits")
            return CacheResult(reading.value, Outcome.HIT)
        return None

    def payload_for(self, value: Any, key: str) -> bytes | None:
        """The encoded value if it should be stored, else ``None`` (logged, counted)."""
        policy = self.policy
        if value is None and not policy.cache_none:
            self.stats.incr("not_stored")
            return None
        if policy.condition is not None and not policy.condition(value):
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
    shell hands what it found (`Plan.examine`) to this flow.
    """
    stats = plan.stats
    if reading.failed:
        # An outage: still one load per key in this process, then nothing else on Redis.
        stats.incr("misses")
        shared = yield Join()
        if shared is not None:
            return follower_result(plan, shared)
        return (yield from _load(plan, degraded=True))
    if reading.entry is not None and reading.freshness is not None:
        assert reading.gen is not None  # a decoded entry matched it
        return (
            yield from _refresh(
                plan, keys, reading.gen, reading.entry, reading.value, reading.freshness
            )
        )
    raw = reading.raw
    stats.incr("misses")
    shared = yield Join()
    if shared is not None:
        return follower_result(plan, shared)
    token = new_token()
    try:
        reply = yield Acquire(keys, token, plan.lock_px, token, round(plan.clock.now() * 1000))
    except BackendUnavailable:
        return (yield from _load(plan, degraded=True))
    if reply.state == "hit":
        # The same bytes that just failed to decode are not decoded (and logged) twice.
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
    lead = yield Join(try_only=True)
    if lead is not None:
        return _serve(plan, current)
    token = new_token()
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
    plan.stats.incr("loads")
    delta = max(0.0, plan.clock.monotonic() - started)
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


def follower_result(plan: Plan, shared: Shared) -> FlowResult:
    """A follower's answer: its own decoded copy of the leader's value when possible."""
    plan.stats.incr("shared")
    value = shared.value
    if shared.payload is not None:
        try:
            value = plan.codec.loads(shared.payload)
        except DecodeError:
            value = shared.value
    return FlowResult(CacheResult(value, Outcome.SHARED, shared.degraded), shared.payload)
