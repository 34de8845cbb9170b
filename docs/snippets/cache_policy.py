import contextlib
import random

from backendkit.cache import Cache, Outcome
from backendkit.testing import FakeClock

clock = FakeClock()
# A seeded random source makes the jitter reproducible (it is not used for security).
cache = Cache("memory://", clock=clock, rng=random.Random(1), early_recompute=0)  # noqa: S311


@cache.cached(
    ttl=600,
    jitter=0.1,  # each entry lives between 540 and 600 s, so they do not expire together
    cache_none=True,
    none_ttl=30,  # "no such user" is remembered, but only briefly
    condition=lambda user: user is None or user["active"],  # only store what you want
    max_value_bytes=64_000,  # bigger values are returned but not stored
)
def find_user(email: str) -> dict[str, bool] | None:
    return None if email.startswith("nobody") else {"active": not email.startswith("old")}


find_user("nobody@example.com")
assert find_user.call_detailed("nobody@example.com").outcome is Outcome.HIT
find_user("old@example.com")  # condition is false: not stored
assert find_user.call_detailed("old@example.com").outcome is Outcome.LOADED

clock.advance(30)  # the negative entry expired; others live on
assert find_user.call_detailed("nobody@example.com").outcome is Outcome.LOADED


# Exceptions are never cached: the next call tries again.
attempts = []


@cache.cached(ttl=60)
def flaky() -> int:
    attempts.append(1)
    if len(attempts) == 1:
        raise TimeoutError("database timeout")
    return 1


with contextlib.suppress(TimeoutError):
    flaky()
assert flaky() == 1
assert len(attempts) == 2
