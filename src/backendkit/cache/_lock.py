"""The cross-process load lock on Redis: scripts and reply parsing (no I/O here).

One process loads a cold key while the others wait, and the waiters cost a fixed number of
commands, never a polling loop:

1. ``FETCH`` is a cached call's read (one script call, atomic): the entry when one of the
   current namespace generation exists; otherwise ``SET lock token NX PX lock_ttl``, and
   if someone else holds the lock, the last id of the key's wake-up stream. A hit costs
   this one round trip; a miss that takes the lock costs it plus the store. ``ACQUIRE``
   does the same for a caller whose read returned an entry it cannot use (undecodable,
   or expired on its own clock), re-checking freshness at the caller's time.
   A caller that finds the lock held makes sure the wake-up stream exists (appending a
   ``w`` marker when it does not) and keeps it for ``lock_ttl``: that is how the holder
   learns that someone waits.
2. The holder loads, then ``STORE`` (one script call) sets the entry, deletes the lock
   only if it still holds the token (compare-and-delete), and, when the wake-up stream
   exists, appends the entry to it (``XADD ... MAXLEN 1``, expiring with the lock). On
   failure, ``RELEASE`` frees the lock and appends an empty marker the same way. A miss
   nobody waited for creates no stream: a new stream is the costliest write a miss
   could make on the server.
3. A waiter blocks on ``XREAD BLOCK lock_wait STREAMS wake <id from step 1>``: one command
   that returns as soon as the holder appends, even if the append happened before the
   ``XREAD`` arrived (the id is explicit, not ``$``), so there is no lost wake-up. The
   value comes back in the same reply. An empty marker or a timeout (a crashed holder, or
   one that outlived its lock and the stream) makes the waiter load by itself: nothing
   ever waits longer than ``lock_wait``.

Per waiting process: the read and one ``XREAD``. Every key involved
carries the namespace hash tag, so each script touches a single Cluster slot.

Why scripts: both steps are check-then-act. The read must take the lock only when no
usable entry exists (a lock taken on a hit would be left behind, and a later invalidation
would make readers wait for a load nobody runs); the store must delete the lock only while
it holds our token (Redis 7.0 has no compare-and-delete command) and wake waiters only
when they exist. ``MULTI`` cannot branch, and the connectors send one command per call
(redis-py's pipeline costs the client more than a script costs the server). What a script
costs Redis (instructions of redis-server 7.0, ``valgrind --tool=callgrind``): a round trip
of an empty ``EVALSHA`` 13k where one of a ``GET`` costs 5k; 3k more per ``redis.call``,
1.4k per key or argument plus about 12 per byte of them (Redis's Lua hashes every string
it is given), 5k for a table reply. So the replies
of the common paths are plain strings, and a value of 50 KB in ``STORE``'s arguments
costs the server about 600k instructions -- the case a two-command store (``SET``, then
a script that never sees the value) would win, given a connector call that sends two
commands in one round trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from backendkit.cache._ops import AcquireReply

__all__ = ["ACQUIRE", "FETCH", "RELEASE", "STORE", "parse_acquire", "parse_fetch", "parse_wake"]

FETCH = """
local gen = redis.call('GET', KEYS[1])
if gen then
  local v = redis.call('GET', KEYS[2])
  if v and string.sub(v, 1, #gen + 3) == '1|' .. gen .. '|' then
    return v
  end
else
  gen = ARGV[1]
  redis.call('SET', KEYS[1], gen)
end
if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return gen
end
local last = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)
local id
if last[1] then id = last[1][1] else id = redis.call('XADD', KEYS[4], '*', 'w', '') end
redis.call('PEXPIRE', KEYS[4], ARGV[2])
return {'wait', gen, id}
"""
"""KEYS: generation, entry, lock, wake. ARGV: token (also the generation if absent), lock px.

Replies: the entry (its bytes start with ``1|``); the generation alone when the read took
the lock (a generation never contains ``|``); ``{'wait', gen, id}`` when another holds it.
The lock reply, a cold key's, is a plain string: a table reply costs the server more than
one of the script's ``redis.call``. Freshness is left to the caller's clock (it wrote the
header): a stale entry is returned so that it can be served while one caller refreshes it.
"""

ACQUIRE = """
local gen = redis.call('GET', KEYS[1])
if not gen then
  gen = ARGV[3]
  redis.call('SET', KEYS[1], gen)
else
  local v = redis.call('GET', KEYS[2])
  if v then
    local g, fresh = string.match(v, '^1|([^|]*)|(%d+)|')
    if g == gen and tonumber(fresh) > tonumber(ARGV[4]) then
      return {'hit', gen, v}
    end
  end
end
if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {'lock', gen}
end
local last = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)
local id
if last[1] then id = last[1][1] else id = redis.call('XADD', KEYS[4], '*', 'w', '') end
redis.call('PEXPIRE', KEYS[4], ARGV[2])
return {'wait', gen, id}
"""
"""KEYS: generation, entry, lock, wake. ARGV: token, lock px, generation if absent, now ms."""

STORE = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '1', '*', 'v', ARGV[1])
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
end
return 1
"""
"""KEYS: entry, lock, wake. ARGV: entry bytes, entry px, token, wake-stream px."""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '1', '*', 'v', '')
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 1
"""
"""KEYS: lock, wake. ARGV: token, wake-stream px."""


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def parse_acquire(reply: Sequence[Any]) -> AcquireReply:
    """Turn the ``ACQUIRE`` script's reply into an `AcquireReply`."""
    state = _bytes(reply[0])
    gen = _bytes(reply[1])
    if state == b"hit":
        return AcquireReply("hit", gen, entry=_bytes(reply[2]))
    if state == b"lock":
        return AcquireReply("lock", gen)
    return AcquireReply("wait", gen, wake_id=_bytes(reply[2]))


def parse_fetch(reply: Any) -> bytes | AcquireReply:
    """Turn the ``FETCH`` script's reply into entry bytes or an `AcquireReply`."""
    if isinstance(reply, bytes):
        # An entry, or the generation of the lock the read just took (no "|" in it).
        return reply if reply.startswith(b"1|") else AcquireReply("lock", reply)
    return parse_acquire(reply)


def parse_wake(reply: Any) -> bytes | None:
    """The entry carried by an ``XREAD`` reply; ``b""`` for "nothing stored", None if empty.

    Handles both RESP2 (``[[stream, [(id, fields)]]]``) and RESP3 (``{stream: [...]}``).
    """
    if not reply:
        return None
    streams = list(reply.values()) if isinstance(reply, Mapping) else [s[1] for s in reply]
    for messages in streams:
        for message in messages or ():
            fields = message[1]
            if isinstance(fields, Mapping):
                value = fields.get(b"v", fields.get("v"))
            else:  # a flat [field, value, ...] list
                pairs = dict(zip(fields[::2], fields[1::2], strict=False))
                value = pairs.get(b"v", pairs.get("v"))
            return _bytes(value) if value is not None else b""
    return None
