import asyncio

from backendkit.ratelimit import AsyncRateLimiter, Rule, user_key


async def main() -> None:
    # Same arguments as RateLimiter; a Redis URL gives an AsyncRedisConnector.
    limiter = AsyncRateLimiter("memory://")
    rule = Rule("upload", "2/second")
    results = [await limiter.hit(rule, user_key(7)) for _ in range(3)]
    assert [r.allowed for r in results] == [True, True, False]
    await limiter.aclose()


asyncio.run(main())
