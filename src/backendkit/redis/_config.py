"""Redis connection settings and URL parsing (pure: no I/O, no client objects)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from backendkit.errors import ConfigurationError

if TYPE_CHECKING:
    from backendkit.settings import Settings

__all__ = ["RedisConfig"]

_STANDALONE_SCHEMES = frozenset({"redis", "rediss", "unix"})
_CLUSTER_SCHEMES = frozenset({"redis+cluster", "rediss+cluster"})
_SENTINEL_SCHEMES = frozenset({"redis+sentinel", "rediss+sentinel"})
_SUPPORTED = (
    "redis://, rediss://, unix://, redis+cluster://, rediss+cluster://, "
    "redis+sentinel://, rediss+sentinel://"
)
# The timeouts and retry policy come from RedisConfig only: a URL query option would
# otherwise silently override them (redis-py lets URL options win over keyword arguments).
_RESERVED_QUERY = frozenset(
    {"socket_timeout", "socket_connect_timeout", "retry_on_timeout", "retry_on_error", "retry"}
)
_DEFAULT_PORT = 6379
_DEFAULT_SENTINEL_PORT = 26379


@dataclass(frozen=True)
class RedisConfig:
    """How to reach Redis, and how hard to try.

    The defaults keep a dead or hung Redis from stalling a request: a quarter-second to
    connect, a quarter-second per command, no retries, and a breaker that stops trying
    after the first failure for five seconds.

    Args:
        url: ``redis://``, ``rediss://``, ``unix://``, ``redis+cluster://`` or
            ``redis+sentinel://`` URL (see the Redis guide for every form).
        connect_timeout: seconds to establish a TCP connection.
        command_timeout: seconds to wait for any reply (socket read/write timeout).
        breaker_threshold: consecutive failures that open the circuit breaker.
        breaker_cooldown: seconds the breaker stays open before one trial call.
        warn_interval: at most one ``redis_unavailable`` warning per this many seconds.

    Raises:
        ConfigurationError: the URL or a number is invalid (raised at construction, so a
            bad configuration fails at start-up).

    Example:
        >>> RedisConfig("redis://localhost:6379/0").command_timeout
        0.25
    """

    url: str
    connect_timeout: float = 0.25
    command_timeout: float = 0.25
    breaker_threshold: int = 1
    breaker_cooldown: float = 5.0
    warn_interval: float = 30.0

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "command_timeout", "breaker_cooldown", "warn_interval"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ConfigurationError(f"RedisConfig.{name} must be a positive number")
        if not isinstance(self.breaker_threshold, int) or self.breaker_threshold < 1:
            raise ConfigurationError("RedisConfig.breaker_threshold must be an integer >= 1")
        parse_redis_url(self.url)

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisConfig:
        """Build the config from [`Settings`][backendkit.settings.Settings].

        Raises:
            ConfigurationError: ``BACKENDKIT_REDIS_URL`` is not set, or is invalid.
        """
        if not settings.redis_url:
            raise ConfigurationError("BACKENDKIT_REDIS_URL is not set")
        try:
            return cls(
                url=settings.redis_url,
                connect_timeout=settings.redis_connect_timeout,
                command_timeout=settings.redis_command_timeout,
                breaker_threshold=settings.redis_breaker_threshold,
                breaker_cooldown=settings.redis_breaker_cooldown,
                warn_interval=settings.redis_warn_interval,
            )
        except ConfigurationError as exc:
            raise ConfigurationError(f"BACKENDKIT_REDIS_URL: {exc}") from None

    @property
    def safe_url(self) -> str:
        """The URL with any password replaced by ``***`` (for logs and reprs)."""
        return redact_url(self.url)

    def __repr__(self) -> str:
        # The dataclass repr would print the password embedded in the URL.
        return (
            f"RedisConfig(url={self.safe_url!r}, connect_timeout={self.connect_timeout}, "
            f"command_timeout={self.command_timeout}, "
            f"breaker_threshold={self.breaker_threshold}, "
            f"breaker_cooldown={self.breaker_cooldown}, warn_interval={self.warn_interval})"
        )


@dataclass(frozen=True)
class ParsedRedisUrl:
    """A Redis URL taken apart. ``nodes`` is empty for standalone URLs."""

    kind: Literal["standalone", "cluster", "sentinel"]
    url: str
    tls: bool = False
    nodes: tuple[tuple[str, int], ...] = ()
    username: str | None = None
    password: str | None = None
    service_name: str | None = None
    db: int = 0


def redact_url(url: str) -> str:
    """Replace the password of a URL (if any) with ``***``."""
    if "://" not in url:
        return url
    scheme, userinfo, hosts, tail = _split(url)
    if userinfo is None:
        return url
    user, colon, _password = userinfo.partition(":")
    masked = f"{user}:***" if colon else "***"
    return f"{scheme}://{masked}@{hosts}{tail}"


def _split(url: str) -> tuple[str, str | None, str, str]:
    """Split into ``(scheme, userinfo or None, hosts, rest)``.

    The userinfo ends at the *last* ``@`` before the query, so a password holding an
    unencoded ``/`` or ``@`` is still recognised (and masked) as a password.
    """
    scheme, _, rest = url.partition("://")
    before_query, mark, query = rest.partition("?")
    userinfo, at, after = before_query.rpartition("@")
    hosts, slash, path = after.partition("/")
    return scheme, (userinfo if at else None), hosts, slash + path + mark + query


def parse_redis_url(url: str) -> ParsedRedisUrl:
    """Validate a Redis URL and split it into what the client builders need.

    Raises:
        ConfigurationError: unsupported scheme, bad host/port/db, or a reserved query
            option (timeouts and retries come from ``RedisConfig``, never from the URL).
    """
    if not isinstance(url, str) or "://" not in url:
        raise ConfigurationError(f"not a Redis URL (expected one of {_SUPPORTED})")
    scheme = url.partition("://")[0].lower()
    parts = urlsplit(url)
    reserved = _RESERVED_QUERY.intersection(parse_qs(parts.query))
    if reserved:
        raise ConfigurationError(
            f"Redis URL option(s) {', '.join(sorted(reserved))} are not allowed: "
            "timeouts and retries are set by RedisConfig / BACKENDKIT_REDIS_* settings"
        )
    if scheme in _STANDALONE_SCHEMES:
        return _parse_standalone(url, scheme, parts.path)
    if scheme in _CLUSTER_SCHEMES or scheme in _SENTINEL_SCHEMES:
        if parts.query:
            raise ConfigurationError(
                f"query options are not supported in {scheme}:// URLs ({redact_url(url)})"
            )
        return _parse_multi_host(url, scheme)
    raise ConfigurationError(
        f"unsupported Redis URL scheme {scheme!r} (expected one of {_SUPPORTED})"
    )


def _parse_standalone(url: str, scheme: str, path: str) -> ParsedRedisUrl:
    if scheme == "unix":
        if not path or path == "/":
            raise ConfigurationError("a unix:// Redis URL needs a socket path")
        return ParsedRedisUrl(kind="standalone", url=url)
    # redis-py silently ignores a path that is not a number; a typo must not pick db 0.
    db_text = path.strip("/")
    if db_text and not db_text.isdigit():
        raise ConfigurationError(f"invalid Redis database {db_text!r} in {redact_url(url)}")
    host, _port = _host_port(_authority(url)[1], _DEFAULT_PORT, url)
    if not host:
        raise ConfigurationError(f"a host is required in {redact_url(url)}")
    return ParsedRedisUrl(kind="standalone", url=url, tls=scheme == "rediss", db=int(db_text or 0))


def _parse_multi_host(url: str, scheme: str) -> ParsedRedisUrl:
    kind: Literal["cluster", "sentinel"] = "cluster" if "cluster" in scheme else "sentinel"
    userinfo, hosts_text = _authority(url)
    default_port = _DEFAULT_PORT if kind == "cluster" else _DEFAULT_SENTINEL_PORT
    nodes = tuple(_host_port(item.strip(), default_port, url) for item in hosts_text.split(","))
    if not nodes or any(not host for host, _ in nodes):
        raise ConfigurationError(f"every host must be named in {redact_url(url)}")
    username, password = _credentials(userinfo)
    path = _split(url.partition("#")[0])[3].partition("?")[0]
    segments = [unquote(s) for s in path.split("/") if s]
    if kind == "cluster":
        # Redis Cluster has a single database, 0.
        if segments and segments != ["0"]:
            raise ConfigurationError(f"Redis Cluster only has database 0: {redact_url(url)}")
        return ParsedRedisUrl(
            kind=kind,
            url=url,
            tls=scheme.startswith("rediss"),
            nodes=nodes,
            username=username,
            password=password,
        )
    if not segments or len(segments) > 2:
        raise ConfigurationError(
            "a sentinel URL is redis+sentinel://host:port[,host:port]/service_name[/db]: "
            + redact_url(url)
        )
    if len(segments) == 2 and not segments[1].isdigit():
        raise ConfigurationError(f"invalid Redis database {segments[1]!r} in {redact_url(url)}")
    return ParsedRedisUrl(
        kind=kind,
        url=url,
        tls=scheme.startswith("rediss"),
        nodes=nodes,
        username=username,
        password=password,
        service_name=segments[0],
        db=int(segments[1]) if len(segments) == 2 else 0,
    )


def _authority(url: str) -> tuple[str, str]:
    """Return ``(userinfo, hosts)`` of a URL whose authority may list several hosts."""
    _scheme, userinfo, hosts, _rest = _split(url.partition("#")[0])
    return userinfo or "", hosts


def _credentials(userinfo: str) -> tuple[str | None, str | None]:
    if not userinfo:
        return None, None
    user, colon, password = userinfo.partition(":")
    return (unquote(user) or None), (unquote(password) if colon and password else None)


def _host_port(text: str, default_port: int, url: str) -> tuple[str, int]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else rest
    else:
        host, _, port_text = text.rpartition(":") if ":" in text else (text, "", "")
    if port_text == "":
        return unquote(host), default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigurationError(f"invalid port {port_text!r} in {redact_url(url)}")
    return unquote(host), int(port_text)
