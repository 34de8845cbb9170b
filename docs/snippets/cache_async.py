import asyncio

from backendkit.cache import Cache, Outcome

cache = Cache("memory://")


class UserRepository:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    # self is never part of the key (no memory addresses in keys); self_attr keys the
    # instance by one attribute instead, so tenants never share entries.
    @cache.cached(ttl=60, self_attr="tenant_id")
    async def count_users(self, active: bool = True) -> int:
        await asyncio.sleep(0)  # stands for an async query
        return 42 if self.tenant_id == "acme" else 7


async def main() -> None:
    acme, globex = UserRepository("acme"), UserRepository("globex")
    assert await acme.count_users() == 42
    assert await globex.count_users() == 7  # another tenant: another entry
    hit = await UserRepository("acme").count_users.call_detailed(active=True)
    assert hit.outcome is Outcome.HIT  # a new instance of the same tenant hits
    assert await acme.count_users.invalidate() is True
    await cache.aclose()


asyncio.run(main())
