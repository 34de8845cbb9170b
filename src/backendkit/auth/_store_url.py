"""`token_store_from_url`: a token store from a storage URI.

It sits above both stores: the memory store is always there, the Redis store is imported
only for a Redis URL, since it needs the ``redis`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backendkit._storage_url import storage_kind
from backendkit.auth._store import MemoryTokenStore
from backendkit.clock import Clock, system_clock

if TYPE_CHECKING:
    from backendkit.auth._redis_store import RedisTokenStore

__all__ = ["token_store_from_url"]


def token_store_from_url(
    url: str, *, key_prefix: str = "backendkit:tokens:", clock: Clock = system_clock
) -> MemoryTokenStore | RedisTokenStore:
    """Build a token store from a storage URI.

    ``memory://`` gives a [`MemoryTokenStore`][backendkit.auth.MemoryTokenStore];
    ``redis://``, ``rediss://``, ``unix://``, ``redis+cluster://`` and ``redis+sentinel://``
    give a [`RedisTokenStore`][backendkit.auth.RedisTokenStore] (needs the ``redis`` extra)
    with both sync and async connectors (``clock`` drives their circuit breaker).
    A SQL database has no URL here: build a
    [`SQLTokenStore`][backendkit.auth.sql.SQLTokenStore] from the app's own engines
    (one pool per database), and pass it as ``store``.

    Raises:
        ConfigurationError: not a URL, or an unknown scheme (the message names the supported
            ones, never the URL).
        MissingDependencyError: a Redis URL without the ``redis`` extra.
    """
    if storage_kind(url, refusal="unknown token store URL") == "memory":
        return MemoryTokenStore()
    from backendkit.auth._redis_store import RedisTokenStore

    return RedisTokenStore(url, key_prefix=key_prefix, clock=clock)
