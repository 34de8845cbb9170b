from backendkit.cache import Cache, Outcome
from backendkit.testing import FakeClock


def build_service(cache: Cache):  # your code takes the cache it should use
    @cache.cached(ttl=60, early_recompute=0)
    def exchange_rate(currency: str) -> float:
        return 1.1

    return exchange_rate


# In tests: an in-process cache on a clock you move, so TTLs need no sleeping.
clock = FakeClock()
rate = build_service(Cache("memory://", clock=clock))
rate("EUR")
assert rate.call_detailed("EUR").outcome is Outcome.HIT
clock.advance(60)
assert rate.call_detailed("EUR").outcome is Outcome.LOADED
