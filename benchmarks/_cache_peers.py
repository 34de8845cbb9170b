"""Typed payloads and peer adapters for bench_cache.py (importable in every bench venv).

Every adapter decorates the same async loader with the same TTL and an explicit key under
the run's prefix, in the library's most type-preserving mode, and is checked (hit value
equal to the loader's, same types) before it is timed.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

TTL = 300
Loader = Callable[[int], Awaitable[Any]]


class User(BaseModel):
    """The small payload (~250 bytes of JSON)."""

    id: uuid.UUID
    name: str
    email: str
    created: datetime.datetime
    balance: decimal.Decimal
    tags: list[str]


class Row(BaseModel):
    """One line of the large payload."""

    id: int
    sku: str
    qty: int
    price: decimal.Decimal
    at: datetime.datetime
    note: str


class Report(BaseModel):
    """The large payload (~50 KB of JSON)."""

    id: uuid.UUID
    rows: list[Row]


def small_payload(n: int = 1) -> User:
    """A User with a UUID, a datetime and a Decimal."""
    return User(
        id=uuid.UUID(int=n),
        name=f"User {n}",
        email=f"user{n}@example.com",
        created=datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc),
        balance=decimal.Decimal("1234.56"),
        tags=["admin", "beta", "eu"],
    )


def large_payload(n: int = 1, target: int = 50_000) -> Report:
    """A Report whose JSON is about ``target`` bytes."""
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    rows = []
    size = 0
    i = 0
    while size < target:
        row = Row(
            id=i,
            sku=f"SKU-{i:06d}",
            qty=i % 17,
            price=decimal.Decimal(f"{i % 1000}.{i % 100:02d}"),
            at=when + datetime.timedelta(seconds=i),
            note="lorem ipsum dolor sit amet " * 2,
        )
        rows.append(row)
        size += len(row.model_dump_json()) + 1
        i += 1
    return Report(id=uuid.UUID(int=n), rows=rows)


PAYLOADS: dict[str, Callable[[int], BaseModel]] = {"small": small_payload, "50KB": large_payload}
TYPES: dict[str, type[BaseModel]] = {"small": User, "50KB": Report}


def same(a: Any, b: Any) -> bool:
    """Equal and of the same type (a dict of strings is not a model)."""
    return type(a) is type(b) and a == b


class Peer:
    """One library, set up on one Redis URL with one key prefix."""

    name = "peer"

    async def setup(self, url: str, prefix: str) -> None:
        self.url, self.prefix = url, prefix

    def decorate(self, fn: Loader, kind: str, variant: str = "") -> Loader:
        raise NotImplementedError

    async def close(self) -> None:
        return None


class Backendkit(Peer):
    """backendkit.cache on Redis (the async path)."""

    name = "backendkit"

    async def setup(self, url: str, prefix: str) -> None:
        from backendkit.cache import Cache
        from backendkit.redis import RedisConfig

        await super().setup(url, prefix)
        # Generous timeouts for 200 connections opened at once through the counting proxy.
        config = RedisConfig(url, connect_timeout=5, command_timeout=5)
        self.cache = Cache(config, key_prefix=prefix, lock_ttl=10, lock_wait=10)

    def decorate(self, fn: Loader, kind: str, variant: str = "") -> Loader:
        returns = TYPES.get(kind, Any)

        @self.cache.cached(ttl=TTL, namespace=f"{kind}{variant}", returns=returns)
        async def cached(n: int) -> Any:
            return await fn(n)

        return cached

    async def close(self) -> None:
        await self.cache.aclose()


class Cashews(Peer):
    """cashews @cache (pickle serializer by default); variant "lock" adds lock=True."""

    name = "cashews"

    async def setup(self, url: str, prefix: str) -> None:
        from cashews import Cache

        await super().setup(url, prefix)
        self.cache = Cache()
        self.cache.setup(url, socket_timeout=5)

    def decorate(self, fn: Loader, kind: str, variant: str = "") -> Loader:
        lock = variant == "lock"

        @self.cache(ttl=TTL, key=f"{self.prefix}{kind}{variant}:{{n}}", lock=lock)
        async def cached(n: int) -> Any:
            return await fn(n)

        return cached

    async def close(self) -> None:
        await self.cache.close()


class Aiocache(Peer):
    """aiocache @cached with PickleSerializer (its JSON serializer cannot store a model);
    variant "stampede" uses @cached_stampede."""

    name = "aiocache"

    async def setup(self, url: str, prefix: str) -> None:
        from urllib.parse import urlsplit

        await super().setup(url, prefix)
        parts = urlsplit(url)
        self.endpoint, self.port = parts.hostname, parts.port or 6379
        self._caches: list[Any] = []

    def decorate(self, fn: Loader, kind: str, variant: str = "") -> Loader:
        from aiocache import RedisCache, cached, cached_stampede
        from aiocache.serializers import PickleSerializer

        prefix = f"{self.prefix}{kind}{variant}:"
        deco = cached_stampede if variant == "stampede" else cached
        extra = {"lease": 10} if variant == "stampede" else {}
        decorator = deco(
            ttl=TTL,
            cache=RedisCache,
            endpoint=self.endpoint,
            port=self.port,
            serializer=PickleSerializer(),
            key_builder=lambda f, n: f"{prefix}{n}",
            pool_max_size=1000,
            create_connection_timeout=5,
            **extra,
        )

        async def loader(n: int) -> Any:
            return await fn(n)

        wrapped = decorator(loader)
        self._caches.append(decorator.cache)
        return wrapped  # type: ignore[no-any-return]

    async def close(self) -> None:
        for cache in self._caches:
            await cache.close()


class FastapiCache2(Peer):
    """fastapi-cache2 @cache on its RedisBackend; variant "pickle" uses PickleCoder
    (the default JsonCoder returns dicts on a hit)."""

    name = "fastapi-cache2"

    async def setup(self, url: str, prefix: str) -> None:
        from fastapi_cache import FastAPICache
        from fastapi_cache.backends.redis import RedisBackend
        from redis import asyncio as aioredis

        await super().setup(url, prefix)
        self.client = aioredis.from_url(url, socket_timeout=5)
        FastAPICache.init(RedisBackend(self.client), prefix=prefix.rstrip(":"))

    def decorate(self, fn: Loader, kind: str, variant: str = "") -> Loader:
        from fastapi_cache.coder import JsonCoder, PickleCoder
        from fastapi_cache.decorator import cache

        coder = PickleCoder if variant == "pickle" else JsonCoder
        prefix = f"{self.prefix}{kind}{variant}:"

        def key_builder(func: Any, namespace: str = "", **kw: Any) -> str:
            return f"{prefix}{kw['args'][0] if kw['args'] else kw['kwargs']['n']}"

        returns = TYPES.get(kind, Any)

        async def loader(n: int) -> returns:  # type: ignore[valid-type]
            return await fn(n)

        return cache(expire=TTL, coder=coder, key_builder=key_builder)(loader)  # type: ignore[return-value]

    async def close(self) -> None:
        close = getattr(self.client, "aclose", None) or self.client.close  # redis < 5: close()
        await close()


PEERS: dict[str, type[Peer]] = {
    "backendkit": Backendkit,
    "cashews": Cashews,
    "aiocache": Aiocache,
    "fastapi-cache2": FastapiCache2,
}

#: (peer, variant) pairs timed for hits and misses.
HIT_VARIANTS = [
    ("backendkit", ""),
    ("cashews", ""),
    ("aiocache", ""),
    ("fastapi-cache2", ""),
    ("fastapi-cache2", "pickle"),
]
#: (peer, variant) pairs run in the stampede section.
STAMPEDE_VARIANTS = [
    ("backendkit", ""),
    ("cashews", ""),
    ("cashews", "lock"),
    ("aiocache", ""),
    ("aiocache", "stampede"),
    ("fastapi-cache2", ""),
]
