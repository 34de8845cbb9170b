"""Storage URIs (``memory://`` or a Redis URL): the scheme is checked before any extra is needed.

The rate limiters, the cache and the token store take a storage URI, and the settings'
``redis_url`` feeds all three. A wrong URL must be reported as a wrong URL, naming the
schemes that work, and not as "install backendkit[redis]" because the Redis client happened
to be the next import. So every component asks `storage_kind` first; only a Redis scheme
then requires the ``redis`` extra. The full URL (hosts, ports, database) is still validated
by `backendkit.redis.RedisConfig` afterwards.

Errors never echo the URL: it may carry a password. At most the scheme is named.
"""

from __future__ import annotations

import re
from typing import Literal

from backendkit._extras import require
from backendkit.errors import ConfigurationError

__all__ = ["MEMORY_SCHEME", "REDIS_SCHEMES", "SETTINGS_REFUSAL", "StorageKind", "storage_kind"]

StorageKind = Literal["memory", "redis"]

#: The embedded, one-process backend.
MEMORY_SCHEME = "memory"
#: Every scheme the Redis connection layer accepts (backendkit.redis._config parses each one;
#: tests/unit/test_extras.py checks the two lists agree).
REDIS_SCHEMES = frozenset(
    {
        "redis",
        "rediss",
        "unix",
        "redis+cluster",
        "rediss+cluster",
        "redis+sentinel",
        "rediss+sentinel",
    }
)
#: The refusal for ``Settings.redis_url`` (``memory=False``): it names the variable.
SETTINGS_REFUSAL = "unsupported BACKENDKIT_REDIS_URL"
_REDIS_LIST = (
    "redis:// (rediss://, unix://, redis+cluster://, rediss+cluster://, redis+sentinel://, "
    "rediss+sentinel://)"
)
# RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). Anything else is not named back.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}")


def storage_kind(url: str, *, refusal: str, memory: bool = True) -> StorageKind:
    """Classify a storage URI by its scheme; require the ``redis`` extra only for Redis.

    Args:
        url: the URI as given (surrounding whitespace and the scheme's case are ignored).
        refusal: how the error starts, naming what was configured
            (``"unsupported rate-limit storage"``).
        memory: whether ``memory://`` is allowed here (not for ``BACKENDKIT_REDIS_URL``).

    Returns:
        ``"memory"`` or ``"redis"``.

    Raises:
        ConfigurationError: not a URI, or a scheme that is not supported here; the message
            names every supported scheme and never the URI itself.
        MissingDependencyError: a Redis URI while the ``redis`` extra is not installed.
    """
    text = url.strip() if isinstance(url, str) else ""
    scheme, found, _rest = text.partition("://")
    scheme = scheme.lower()
    if found and memory and scheme == MEMORY_SCHEME:
        return "memory"
    if found and scheme in REDIS_SCHEMES:
        require("redis", "redis")
        return "redis"
    if not text:
        problem = "an empty URL"
    elif not found:
        problem = "not a URL (no scheme://)"
    elif _SCHEME.fullmatch(scheme):
        problem = f"scheme {scheme!r}"
    else:
        problem = "a malformed scheme"
    supported = f"memory:// or {_REDIS_LIST}" if memory else _REDIS_LIST
    raise ConfigurationError(f"{refusal} ({problem}); use {supported}")
