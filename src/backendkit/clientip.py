"""Who is the client? The address behind your proxies, trusting only what you configured.

The TCP peer is the only address nobody can forge. Behind a reverse proxy or a load
balancer the peer is the proxy, and the client's address arrives in a header the proxy
appends to (``X-Forwarded-For``, or RFC 7239 ``Forwarded``). Anyone can send those
headers too, so they are read only when the peer is a trusted proxy, and only through
trusted hops: the chain is walked right to left (each proxy appends on the right) and
the first address that is not a trusted proxy is the client. A header sent by an
untrusted peer is ignored entirely.

For rate-limit keys, IPv6 addresses are grouped by /64 by default: one subscriber
usually owns a whole /64 and can pick any address in it, so per-address keys would be
trivially evaded.

Nothing here raises on request data: garbage in a header stops the walk at the last
trusted hop, and an unparsable peer gives ``None``.

This is the only place that should decide who the client is. A server that rewrites the
peer itself (uvicorn does by default: it believes ``X-Forwarded-For`` from 127.0.0.1) hands
backendkit an address taken from the header, with no sign that it did. So, with no trusted
proxies configured, the first client key (a rate-limit key) computed for a request whose
``X-Forwarded-For`` names the very peer it arrived from logs one
``client_address_rewritten`` warning per process: run uvicorn with
``--no-proxy-headers``, or set ``BACKENDKIT_TRUSTED_PROXIES`` and give uvicorn the same
list with ``--forwarded-allow-ips``.

Examples:
    >>> resolver = ClientIPResolver(["10.0.0.0/8"])
    >>> resolver.client_ip("10.0.0.2", "198.51.100.9, 203.0.113.7, 10.0.0.1")
    '203.0.113.7'
    >>> resolver.client_ip("192.0.2.1", "203.0.113.7")  # untrusted peer: header ignored
    '192.0.2.1'
    >>> ip_group("2001:db8:1:2:aaaa::1")
    '2001:db8:1:2::/64'
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from backendkit.errors import ConfigurationError
from backendkit.logging import get_logger

if TYPE_CHECKING:
    from backendkit.settings import Settings

__all__ = ["ClientIPResolver", "ForwardedHeader", "TrustedProxies", "ip_group"]

#: Which forwarding header a deployment's proxies write.
ForwardedHeader = Literal["x-forwarded-for", "forwarded"]

_HEADER_NAMES: dict[str, str] = {"x-forwarded-for": "X-Forwarded-For", "forwarded": "Forwarded"}

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Bound the work one request can cause: a header longer than this is not walked at all
# (the last trusted hop is used), and no chain is walked further than this many hops.
_MAX_HEADER = 16_384
_MAX_HOPS = 64

_log = get_logger("backendkit.clientip")
_REWRITTEN = "client_address_rewritten"

_REWRITE_HINT = (
    "the server replaced the client address with one from X-Forwarded-For, which "
    "BACKENDKIT_TRUSTED_PROXIES does not allow: anyone can pick their own address for rate "
    "limits. Run uvicorn with --no-proxy-headers, or set BACKENDKIT_TRUSTED_PROXIES and pass "
    "the same list to --forwarded-allow-ips"
)


class _Once:
    """A latch that lets exactly one caller of the process through (thread-safe)."""

    __slots__ = ("_lock", "fired")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: Read without the lock on the hot path: once True it never goes back.
        self.fired = False

    def claim(self) -> bool:
        """True for the first caller only."""
        if self.fired:
            return False
        with self._lock:
            if self.fired:
                return False
            self.fired = True
            return True

    def reset(self) -> None:
        """Arm again (a forked child warns for itself; tests start clean)."""
        # A new lock: one held by another thread at fork time would never be released.
        self._lock = threading.Lock()
        self.fired = False


_rewrite_warning = _Once()
if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_rewrite_warning.reset)


def _reset_rewrite_warning() -> None:
    """Re-arm the once-per-process ``client_address_rewritten`` warning (for tests)."""
    _rewrite_warning.reset()


def _address(text: str) -> _Address | None:
    """Parse one node (``1.2.3.4``, ``1.2.3.4:80``, ``::1``, ``[::1]:80``); None if not an IP."""
    text = text.strip()
    if not text or len(text) > 100:
        return None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        rest = text[end + 1 :]
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
        text = text[1:end]
    elif text.count(":") == 1:
        # IPv4 with a port (an IPv6 address has at least two colons).
        host, _, port = text.partition(":")
        if not port.isdigit():
            return None
        text = host
    text = text.partition("%")[0]  # an IPv6 zone id says nothing about who the client is
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def ip_group(address: str, *, ipv4_prefix: int = 32, ipv6_prefix: int = 64) -> str:
    """Normalize ``address`` for use in a key: IPv6 grouped by ``/ipv6_prefix``.

    IPv4 addresses are kept whole by default (``ipv4_prefix=32``); IPv4-mapped IPv6
    addresses count as IPv4. Text that is not an address is returned unchanged.

    Examples:
        >>> ip_group("2001:db8::1")
        '2001:db8::/64'
        >>> ip_group("::ffff:203.0.113.7")
        '203.0.113.7'
        >>> ip_group("203.0.113.7", ipv4_prefix=24)
        '203.0.113.0/24'
    """
    parsed = _address(address)
    if parsed is None:
        return address
    prefix = ipv4_prefix if parsed.version == 4 else ipv6_prefix
    if prefix == parsed.max_prefixlen:
        return str(parsed)
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))


class TrustedProxies:
    """A set of proxy addresses and networks (CIDR) whose forwarding headers are believed.

    Args:
        proxies: addresses (``"10.0.0.1"``, ``"::1"``) and networks (``"10.0.0.0/8"``,
            ``"fd00::/8"``). Empty: trust nobody (headers are never read).

    Raises:
        ConfigurationError: an entry is neither an address nor a network.

    Examples:
        >>> proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
        >>> ("10.1.2.3" in proxies, "192.0.2.1" in proxies, "junk" in proxies)
        (True, False, False)
    """

    __slots__ = ("_v4", "_v6", "entries")

    def __init__(self, proxies: Iterable[str] = ()) -> None:
        if isinstance(proxies, str):
            proxies = [part for part in proxies.split(",") if part.strip()]
        v4: list[ipaddress.IPv4Network] = []
        v6: list[ipaddress.IPv6Network] = []
        entries: list[str] = []
        for entry in proxies:
            try:
                network = ipaddress.ip_network(str(entry).strip(), strict=False)
            except ValueError:
                raise ConfigurationError(
                    f"trusted proxy {entry!r} is neither an IP address nor a CIDR network"
                ) from None
            if isinstance(network, ipaddress.IPv4Network):
                v4.append(network)
            else:
                v6.append(network)
            entries.append(str(network))
        self._v4 = tuple(v4)
        self._v6 = tuple(v6)
        #: The normalized entries, as networks (``"10.0.0.1/32"``).
        self.entries: tuple[str, ...] = tuple(entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __contains__(self, address: object) -> bool:
        if isinstance(address, str):
            parsed: _Address | None = _address(address)
        elif isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
            parsed = address
        else:
            return False
        return parsed is not None and self._trusts(parsed)

    def _trusts(self, address: _Address) -> bool:
        networks: tuple[_Network, ...] = self._v4 if address.version == 4 else self._v6
        return any(address in network for network in networks)

    def __repr__(self) -> str:
        return f"TrustedProxies({list(self.entries)!r})"


def _split_forwarded(value: str) -> list[str]:
    """Split a ``Forwarded`` value into elements at commas outside quoted strings."""
    elements: list[str] = []
    start = 0
    quoted = escaped = False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            elements.append(value[start:index])
            start = index + 1
    elements.append(value[start:])
    return elements


def _forwarded_for(element: str) -> _Address | None:
    """The ``for=`` node of one ``Forwarded`` element (None: absent, obfuscated, junk)."""
    for pair in element.split(";"):
        name, sep, value = pair.partition("=")
        if not sep or name.strip().lower() != "for":
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return _address(value)
    return None


class ClientIPResolver:
    """Resolves the client address of a request from its peer and forwarding header.

    Args:
        trusted_proxies: the proxies whose header is believed (addresses and CIDR
            networks, or a [`TrustedProxies`][backendkit.clientip.TrustedProxies]).
            Empty (default): the peer is the client and headers are ignored.
        header: which header your proxies write: ``"x-forwarded-for"`` (default) or
            ``"forwarded"`` (RFC 7239). Only that one is read: reading both would let a
            client slip a forged one past a proxy that only rewrites the other.
        ipv4_prefix: IPv4 grouping of
            [`client_key`][backendkit.clientip.ClientIPResolver.client_key] (default /32).
        ipv6_prefix: IPv6 grouping of ``client_key`` (default /64; 128 keeps addresses).

    Raises:
        ConfigurationError: a bad proxy entry, header name or prefix length.

    Examples:
        >>> resolver = ClientIPResolver(["10.0.0.0/8"], header="forwarded")
        >>> resolver.client_ip("10.0.0.1", 'for=192.0.2.60;proto=http, for="[2001:db8::17]:4711"')
        '2001:db8::17'
        >>> resolver.client_key("10.0.0.1", 'for="[2001:db8::17]:4711"')
        '2001:db8::/64'
    """

    __slots__ = ("header", "header_name", "ipv4_prefix", "ipv6_prefix", "trusted")

    def __init__(
        self,
        trusted_proxies: Iterable[str] | TrustedProxies = (),
        *,
        header: ForwardedHeader = "x-forwarded-for",
        ipv4_prefix: int = 32,
        ipv6_prefix: int = 64,
    ) -> None:
        if header not in _HEADER_NAMES:
            raise ConfigurationError(
                f"unknown forwarding header {header!r}; use 'x-forwarded-for' or 'forwarded'"
            )
        if not (isinstance(ipv4_prefix, int) and 1 <= ipv4_prefix <= 32):
            raise ConfigurationError("ipv4_prefix must be between 1 and 32")
        if not (isinstance(ipv6_prefix, int) and 1 <= ipv6_prefix <= 128):
            raise ConfigurationError("ipv6_prefix must be between 1 and 128")
        #: The trusted proxies.
        self.trusted: TrustedProxies = (
            trusted_proxies
            if isinstance(trusted_proxies, TrustedProxies)
            else TrustedProxies(trusted_proxies)
        )
        #: The header read, lower case (``"x-forwarded-for"`` or ``"forwarded"``).
        self.header: ForwardedHeader = header
        #: The header's canonical spelling, for frameworks that look headers up by name.
        self.header_name: str = _HEADER_NAMES[header]
        self.ipv4_prefix = ipv4_prefix
        self.ipv6_prefix = ipv6_prefix

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> ClientIPResolver:
        """A resolver trusting ``settings.trusted_proxies``; ``options`` go to the constructor.

        Raises:
            ConfigurationError: ``BACKENDKIT_TRUSTED_PROXIES`` has a bad entry.
        """
        try:
            proxies = TrustedProxies(settings.trusted_proxies)
        except ConfigurationError as exc:
            raise ConfigurationError(f"BACKENDKIT_TRUSTED_PROXIES: {exc}") from None
        return cls(proxies, **options)

    def client_ip(
        self, peer: str | None, header_values: str | Iterable[str] | None = None
    ) -> str | None:
        """The client's address, or None when even the peer is not an IP address.

        Args:
            peer: the TCP peer's address (``REMOTE_ADDR``, ``request.client.host``).
            header_values: the forwarding header's value, or every value in order when
                it was sent several times (they are one comma-separated list).

        Returns:
            The peer itself unless it is a trusted proxy; otherwise the first address,
            walking the header right to left, that is not a trusted proxy. An entry that
            is not an address (``unknown``, an obfuscated node, junk) stops the walk and
            the last trusted hop reached is returned.
        """
        address = _address(peer) if isinstance(peer, str) else None
        if address is None:
            return None
        trusted = self.trusted
        if not trusted._trusts(address) or header_values is None:
            return str(address)
        value = header_values if isinstance(header_values, str) else ",".join(header_values)
        if len(value) > _MAX_HEADER:
            return str(address)
        if self.header == "forwarded":
            hops = [_forwarded_for(element) for element in _split_forwarded(value)]
        else:
            hops = [_address(part) for part in value.split(",")]
        for hop in reversed(hops[-_MAX_HOPS:]):
            if hop is None:
                break
            address = hop
            if not trusted._trusts(hop):
                break
        return str(address)

    def client_key(self, peer: str | None, header_values: str | Iterable[str] | None = None) -> str:
        """The client address grouped for keys (IPv6 by /64 by default), or ``"unknown"``.

        With no trusted proxies, a ``X-Forwarded-For`` that names ``peer`` itself means
        the server most likely took the peer from that header (uvicorn's proxy headers):
        the first such request of the process logs a ``client_address_rewritten``
        warning with the peer and what to change. The key is the peer either way.
        """
        address = self.client_ip(peer, header_values)
        if address is None:
            return "unknown"
        # Cheapest tests first: most requests carry no header, and after the one warning
        # (or with trusted proxies) nothing more is looked at.
        if header_values is not None and not _rewrite_warning.fired and not self.trusted:
            self._warn_if_rewritten(peer, address, header_values)
        return ip_group(address, ipv4_prefix=self.ipv4_prefix, ipv6_prefix=self.ipv6_prefix)

    def _warn_if_rewritten(
        self, peer: str | None, address: str, header_values: str | Iterable[str]
    ) -> None:
        """Log ``client_address_rewritten`` once if the header names the peer."""
        if self.header != "x-forwarded-for" or not isinstance(peer, str):
            return  # uvicorn rewrites from X-Forwarded-For only
        value = header_values if isinstance(header_values, str) else ",".join(header_values)
        # A server that rewrote the peer copied it from the header, so its text is in there;
        # the substring test skips parsing for every header that does not name it.
        if len(value) > _MAX_HEADER or peer.strip() not in value:
            return
        parsed = _address(address)
        hops = value.split(",")[-_MAX_HOPS:]
        if parsed is None or not any(_address(hop) == parsed for hop in hops):
            return
        if _rewrite_warning.claim():
            # Only the parsed peer is logged: the rest of the header is the client's text.
            _log.warning(_REWRITTEN, peer=address, header=self.header_name, hint=_REWRITE_HINT)

    def __repr__(self) -> str:
        return f"ClientIPResolver({self.trusted!r}, header={self.header!r})"
