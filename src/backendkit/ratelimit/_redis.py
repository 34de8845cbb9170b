"""The Redis backend: ONE script call per hit decides every limit of a rule.

The script mirrors ``_decision`` line for line (tests check that both backends give the
same replies for the same sequence). It reads the server's clock (``TIME``), so every
app host sees one time; it checks every limit first and charges all or none; it returns
the numbers for the headers in the same reply. A rule's state for one key is a single
Redis key, ``<prefix>{<rule>:<key>}:<strategy>`` - the braces make it a Redis Cluster
hash tag, and a single key per call means the script runs unchanged on a cluster.

Only the I/O is doubled here (`RedisStore` / `AsyncRedisStore`): both build the same
arguments and parse the same reply, and both go through the foundation's connector
(timeouts, no retries, circuit breaker), so a timed-out script is never sent again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backendkit.clock import Clock
from backendkit.ratelimit._rules import Rule

if TYPE_CHECKING:
    from backendkit.redis import AsyncRedisConnector, RedisConnector

__all__ = [
    "SCRIPT",
    "AsyncRedisStore",
    "RedisStore",
    "parse_reply",
    "script_args",
    "storage_key",
]

SCRIPT = r"""
-- backendkit rate limiter: one call decides every limit of a rule, all-or-nothing.
-- KEYS[1]  the state of one (rule, key): a hash for the fixed window and the sliding
--          window counter; a list of stamps, newest first, for the moving window.
-- ARGV[1]  one space-separated string (one argument and one reply string keep the
--          client's encoding and parsing cheap): cost, charge ('1' hit, '0' peek),
--          now in ms ('-' reads the server's TIME), strategy ('f' | 's' | 'm'),
--          retention in ms, then amount and window (ms) of every limit.
-- Reply    'now allowed ok_1 remaining_1 reset_1 retry_1 ok_2 ...': integers, times in
--          ms; the same shape as backendkit.ratelimit._decision's replies.
-- Numbers are exact: Rule keeps amount * window below 2^50.
if redis.replicate_commands then redis.replicate_commands() end
local key = KEYS[1]
local argv = {}
for token in string.gmatch(ARGV[1], '%S+') do argv[#argv + 1] = token end
local cost = tonumber(argv[1])
local charge = argv[2] == '1'
local now
if argv[3] == '-' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(argv[3])
end
local strategy = argv[4]
local retention = tonumber(argv[5])
local n = (#argv - 5) / 2
local amounts, windows = {}, {}
for i = 1, n do
  amounts[i] = tonumber(argv[4 + 2 * i])
  windows[i] = tonumber(argv[5 + 2 * i])
end

local function fixed(amount, window, count, c)
  local window_end = (math.floor(now / window) + 1) * window
  local ok = count + c <= amount
  local remaining = 0
  if count < amount then remaining = amount - count end
  local reset = now
  if count > 0 then reset = window_end end
  local retry = 0
  if not ok then
    if c > amount then retry = window else retry = window_end - now end
  end
  if reset < now + retry then reset = now + retry end
  return ok, remaining, reset, retry
end

local function sliding(amount, window, current, previous, c)
  local start = now - now % window
  local elapsed = now - start
  local weight = previous * (window - elapsed) + current * window
  local budget = amount * window
  local ok = weight + c * window <= budget
  local remaining = 0
  if weight < budget then remaining = math.floor((budget - weight) / window) end
  local reset = now
  if current > 0 or previous > 0 then reset = start + window end
  local retry = 0
  if not ok then
    if c > amount then
      retry = window
    elseif current + c <= amount then
      retry = start + window - math.floor((amount - current - c) * window / previous) - now
    else
      local wait = window - math.floor((amount - c) * window / current)
      if wait < 0 then wait = 0 end
      retry = start + window + wait - now
    end
  end
  if reset < now + retry then reset = now + retry end
  return ok, remaining, reset, retry
end

local function moving(amount, window, stamps, c)
  local size = #stamps
  local count = 0
  local horizon = now - window
  while count < size and stamps[count + 1] > horizon do count = count + 1 end
  local ok = count + c <= amount
  local remaining = 0
  if count < amount then remaining = amount - count end
  local reset = now
  if count > 0 then reset = stamps[count] + window end
  local retry = 0
  if not ok then
    if c > amount then retry = window else retry = stamps[amount - c + 1] + window - now end
  end
  if reset < now + retry then reset = now + retry end
  return ok, remaining, reset, retry
end

local out = {now, 1}
local function put(ok, remaining, reset, retry)
  if ok then out[#out + 1] = 1 else out[#out + 1] = 0; out[2] = 0 end
  out[#out + 1] = remaining
  out[#out + 1] = reset
  out[#out + 1] = retry
end

if strategy == 'm' then
  local keep = 0
  for i = 1, n do if amounts[i] > keep then keep = amounts[i] end end
  local raw = redis.call('LRANGE', key, 0, keep - 1)
  local stamps = {}
  for i = 1, #raw do stamps[i] = tonumber(raw[i]) end
  for i = 1, n do put(moving(amounts[i], windows[i], stamps, cost)) end
  if out[2] == 0 or not charge then return table.concat(out, ' ') end
  local stamp = now
  if #stamps > 0 and stamps[1] > now then stamp = stamps[1] end
  -- In chunks: unpack() has a stack limit of a few thousand values.
  local left = cost
  while left > 0 do
    local push = {}
    for i = 1, math.min(left, 1000) do push[i] = stamp end
    redis.call('LPUSH', key, unpack(push))
    left = left - #push
  end
  redis.call('LTRIM', key, 0, keep - 1)
  redis.call('PEXPIRE', key, retention)
  for i = 1, cost do table.insert(stamps, 1, stamp) end
  out = {now, 1}
  for i = 1, n do put(moving(amounts[i], windows[i], stamps, 0)) end
  return table.concat(out, ' ')
end

local sliding_mode = strategy == 's'
local per = 2
if sliding_mode then per = 3 end
local fields = {}
for i = 1, n do
  local name = amounts[i] .. ':' .. windows[i]
  fields[#fields + 1] = name .. ':w'
  fields[#fields + 1] = name .. ':c'
  if sliding_mode then fields[#fields + 1] = name .. ':p' end
end
local raw = redis.call('HMGET', key, unpack(fields))
local indexes, currents, previouses = {}, {}, {}
for i = 1, n do
  local window = windows[i]
  local index = math.floor(now / window)
  local stored = tonumber(raw[per * (i - 1) + 1])
  local current, previous = 0, 0
  if stored == index then
    current = tonumber(raw[per * (i - 1) + 2]) or 0
    if sliding_mode then previous = tonumber(raw[per * (i - 1) + 3]) or 0 end
  elseif sliding_mode and stored == index - 1 then
    previous = tonumber(raw[per * (i - 1) + 2]) or 0
  end
  indexes[i], currents[i], previouses[i] = index, current, previous
  if sliding_mode then
    put(sliding(amounts[i], window, current, previous, cost))
  else
    put(fixed(amounts[i], window, current, cost))
  end
end
if out[2] == 0 or not charge then return table.concat(out, ' ') end
local writes = {}
out = {now, 1}
for i = 1, n do
  local current = currents[i] + cost
  writes[#writes + 1] = fields[per * (i - 1) + 1]
  writes[#writes + 1] = indexes[i]
  writes[#writes + 1] = fields[per * (i - 1) + 2]
  writes[#writes + 1] = current
  if sliding_mode then
    writes[#writes + 1] = fields[per * (i - 1) + 3]
    writes[#writes + 1] = previouses[i]
    put(sliding(amounts[i], windows[i], current, previouses[i], 0))
  else
    put(fixed(amounts[i], windows[i], current, 0))
  end
end
redis.call('HSET', key, unpack(writes))
redis.call('PEXPIRE', key, retention)
return table.concat(out, ' ')
"""


def storage_key(prefix: str, rule: Rule, key: str) -> str:
    """The Redis key holding ``rule``'s state for ``key``.

    ``<prefix>{<rule name>:<key>}:<strategy code>``: the prefix comes first so that a
    ``SCAN MATCH <prefix>*`` finds every key of a limiter; the braces are the Cluster hash
    tag. Rule names contain no ``:``, so a rule and a key can never be read differently.
    """
    return f"{prefix}{{{rule.name}:{key}}}:{rule._code}"


def script_args(rule: Rule, cost: int, charge: bool, now_ms: int | None) -> list[str]:
    """The script's ARGV for one call (``now_ms=None``: the script reads ``TIME``)."""
    now = "-" if now_ms is None else str(now_ms)
    return [f"{cost} {'1' if charge else '0'} {now} {rule._script_spec}"]


def parse_reply(raw: bytes | str) -> list[int]:
    """The script's reply string as integers (the ``_decision`` reply shape)."""
    return list(map(int, raw.split()))


class RedisStore:
    """Runs the script through a [`RedisConnector`][backendkit.redis.RedisConnector].

    ``clock`` is a test seam only: when given, its time is sent instead of letting the
    script read ``TIME``, so tests can compare this backend with the memory one under a
    [`FakeClock`][backendkit.testing.FakeClock]. Production code never passes it.
    """

    def __init__(self, connector: RedisConnector, prefix: str, clock: Clock | None = None) -> None:
        self.connector = connector
        self.prefix = prefix
        self._clock = clock
        self._script = connector.register_script(SCRIPT)

    def run(self, rule: Rule, key: str, cost: int, charge: bool) -> list[int]:
        """One script call: decide and, when allowed and ``charge``, record the hit.

        Raises:
            BackendUnavailable: Redis is down, hung or the breaker is open.
        """
        keys = [storage_key(self.prefix, rule, key)]
        now = None if self._clock is None else round(self._clock.now() * 1000)
        args = script_args(rule, cost, charge, now)
        script = self._script
        return self.connector.execute(lambda r: parse_reply(script(keys=keys, args=args, client=r)))

    def clear(self, rule: Rule, key: str) -> None:
        """Delete ``key``'s state under ``rule`` (one ``DEL`` of a known key; no ``KEYS``)."""
        name = storage_key(self.prefix, rule, key)
        self.connector.execute(lambda r: r.delete(name))


class AsyncRedisStore:
    """The async twin of [`RedisStore`][backendkit.ratelimit._redis.RedisStore]."""

    def __init__(
        self, connector: AsyncRedisConnector, prefix: str, clock: Clock | None = None
    ) -> None:
        self.connector = connector
        self.prefix = prefix
        self._clock = clock
        self._script = connector.register_script(SCRIPT)

    async def run(self, rule: Rule, key: str, cost: int, charge: bool) -> list[int]:
        """One script call (see ``RedisStore.run``).

        Raises:
            BackendUnavailable: Redis is down, hung or the breaker is open.
        """
        keys = [storage_key(self.prefix, rule, key)]
        now = None if self._clock is None else round(self._clock.now() * 1000)
        args = script_args(rule, cost, charge, now)
        script = self._script

        async def op(client: Any) -> list[int]:
            return parse_reply(await script(keys=keys, args=args, client=client))

        return await self.connector.execute(op)

    async def clear(self, rule: Rule, key: str) -> None:
        """Delete ``key``'s state under ``rule``."""
        name = storage_key(self.prefix, rule, key)

        async def op(client: Any) -> Any:
            return await client.delete(name)

        await self.connector.execute(op)
