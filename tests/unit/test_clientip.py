"""Client IP resolution: headers believed only through trusted hops; garbage never raises."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backendkit.clientip import ClientIPResolver, TrustedProxies, _reset_rewrite_warning, ip_group
from backendkit.errors import ConfigurationError
from backendkit.settings import Settings
from backendkit.testing import capture_logs

PROXIES = ["10.0.0.0/8", "192.168.1.1", "fd00::/8"]


@pytest.fixture
def xff() -> ClientIPResolver:
    """Trusts 10/8, 192.168.1.1 and fd00::/8; reads X-Forwarded-For."""
    return ClientIPResolver(PROXIES)


@pytest.fixture
def forwarded() -> ClientIPResolver:
    """Same proxies; reads RFC 7239 Forwarded."""
    return ClientIPResolver(PROXIES, header="forwarded")


def test_untrusted_peer_is_the_client_and_its_headers_are_ignored(xff: ClientIPResolver) -> None:
    """A spoofed X-Forwarded-For from an untrusted peer changes nothing."""
    assert xff.client_ip("203.0.113.9", "1.1.1.1") == "203.0.113.9"
    assert xff.client_ip("203.0.113.9", "10.0.0.5") == "203.0.113.9"


def test_no_trusted_proxies_means_headers_are_never_read() -> None:
    """The default resolver trusts nobody."""
    resolver = ClientIPResolver()
    assert resolver.client_ip("10.0.0.1", "198.51.100.1") == "10.0.0.1"
    assert not resolver.trusted


def test_trusted_peer_header_is_walked_right_to_left(xff: ClientIPResolver) -> None:
    """Through trusted hops only: the first untrusted address from the right is the client."""
    assert xff.client_ip("10.0.0.2", "198.51.100.1") == "198.51.100.1"
    # The client prepended a forged entry; the proxy appended the real one.
    assert xff.client_ip("10.0.0.2", "6.6.6.6, 198.51.100.1") == "198.51.100.1"
    # Two trusted proxies in the chain.
    assert xff.client_ip("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.9.9.9") == "198.51.100.1"
    assert xff.client_ip("192.168.1.1", "198.51.100.1, 10.1.1.1") == "198.51.100.1"


def test_several_header_lines_form_one_list(xff: ClientIPResolver) -> None:
    """Repeated header fields are one comma-separated list, in order."""
    assert xff.client_ip("10.0.0.2", ["6.6.6.6", "198.51.100.1, 10.9.9.9"]) == "198.51.100.1"


def test_all_hops_trusted_gives_the_leftmost(xff: ClientIPResolver) -> None:
    """An internal request through trusted proxies only: the furthest known address."""
    assert xff.client_ip("10.0.0.2", "10.0.0.7, 10.0.0.8") == "10.0.0.7"


def test_no_header_from_a_trusted_peer(xff: ClientIPResolver) -> None:
    """A trusted peer without the header is the client."""
    assert xff.client_ip("10.0.0.2") == "10.0.0.2"
    assert xff.client_ip("10.0.0.2", "") == "10.0.0.2"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("unknown", "10.0.0.2"),
        ("198.51.100.1, garbage", "10.0.0.2"),
        ("198.51.100.1, garbage, 10.0.0.9", "10.0.0.9"),
        ("198.51.100.1:4711", "198.51.100.1"),
        ("[2001:db8::1]:4711", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("::ffff:198.51.100.1", "198.51.100.1"),
        ("fe80::1%eth0, 10.0.0.3", "fe80::1"),
        ("[2001:db8::1", "10.0.0.2"),
        ("[2001:db8::1]x", "10.0.0.2"),
        ("1.2.3.4:port", "10.0.0.2"),
        (" ,, ", "10.0.0.2"),
    ],
)
def test_x_forwarded_for_forms_and_garbage(
    xff: ClientIPResolver, header: str, expected: str
) -> None:
    """Ports and brackets are understood; junk stops the walk at the last trusted hop."""
    assert xff.client_ip("10.0.0.2", header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("for=198.51.100.1", "198.51.100.1"),
        ('for="198.51.100.1:4711";proto=https', "198.51.100.1"),
        ('for="[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"),
        ("FOR=198.51.100.1;by=10.0.0.2", "198.51.100.1"),
        ("for=6.6.6.6, for=198.51.100.1;proto=http, for=10.0.0.9", "198.51.100.1"),
        ('for=198.51.100.1;note="a,b", for=10.0.0.9', "198.51.100.1"),
        ('for="\\"quoted\\"", for=10.0.0.9', "10.0.0.9"),
        ("for=unknown", "10.0.0.2"),
        ("for=_hidden", "10.0.0.2"),
        ("proto=https", "10.0.0.2"),
        ("for", "10.0.0.2"),
        ('for="unterminated', "10.0.0.2"),
    ],
)
def test_forwarded_forms_and_garbage(
    forwarded: ClientIPResolver, header: str, expected: str
) -> None:
    """RFC 7239 elements, quoting and obfuscated nodes, walked right to left."""
    assert forwarded.client_ip("10.0.0.2", header) == expected


def test_only_the_configured_header_is_read(forwarded: ClientIPResolver) -> None:
    """A resolver set to Forwarded does not read X-Forwarded-For syntax as Forwarded."""
    assert forwarded.client_ip("10.0.0.2", "198.51.100.1") == "10.0.0.2"
    assert forwarded.header_name == "Forwarded"
    assert ClientIPResolver().header_name == "X-Forwarded-For"


def test_unusable_peers(xff: ClientIPResolver) -> None:
    """A peer that is not an address gives None (key: unknown); never raises."""
    assert xff.client_ip(None) is None
    assert xff.client_ip("testclient") is None
    assert xff.client_ip("") is None
    assert xff.client_key(None) == "unknown"
    assert xff.client_ip("[::1]:8000") == "::1"


def test_client_key_groups_ipv6(xff: ClientIPResolver) -> None:
    """Keys group IPv6 by /64 by default; configurable."""
    assert xff.client_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert xff.client_key("fd00::1", "2001:db8::7, fd00::2") == "2001:db8::/64"
    exact = ClientIPResolver(ipv6_prefix=128, ipv4_prefix=24)
    assert exact.client_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2:3:4:5:6"
    assert exact.client_key("198.51.100.77") == "198.51.100.0/24"


def test_oversized_header_is_not_walked(xff: ClientIPResolver) -> None:
    """A huge header is ignored (the trusted peer is used) instead of parsed."""
    assert xff.client_ip("10.0.0.2", "1.1.1.1," * 5000) == "10.0.0.2"


def test_very_long_trusted_chains_stop_after_the_hop_cap(xff: ClientIPResolver) -> None:
    """At most 64 hops are walked; the result is then a trusted hop, never a forged one."""
    chain = "6.6.6.6, " + ", ".join(f"10.0.{i // 250}.{i % 250 + 1}" for i in range(100))
    result = xff.client_ip("10.0.0.2", chain)
    assert result is not None
    assert result in xff.trusted


def test_trusted_proxies_parsing_and_membership() -> None:
    """Addresses, networks and comma strings; junk entries are configuration errors."""
    proxies = TrustedProxies("127.0.0.1, 10.0.0.0/8 ,::1")
    assert proxies.entries == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")
    assert "10.255.0.1" in proxies
    assert "::1" in proxies
    assert "11.0.0.1" not in proxies
    assert "::2" not in proxies
    assert 42 not in proxies
    assert "junk" not in proxies
    assert ipaddress.ip_address("10.0.0.1") in proxies
    assert "TrustedProxies" in repr(proxies)
    with pytest.raises(ConfigurationError, match="neither an IP address"):
        TrustedProxies(["10.0.0.0/33"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"header": "x-real-ip"}, "forwarding header"),
        ({"ipv6_prefix": 0}, "ipv6_prefix"),
        ({"ipv4_prefix": 33}, "ipv4_prefix"),
    ],
)
def test_resolver_configuration_errors(kwargs: dict[str, object], match: str) -> None:
    """Bad header names and prefixes fail at start-up."""
    with pytest.raises(ConfigurationError, match=match):
        ClientIPResolver(**kwargs)  # type: ignore[arg-type]


def test_from_settings() -> None:
    """The resolver trusts BACKENDKIT_TRUSTED_PROXIES; a bad entry names the variable."""
    resolver = ClientIPResolver.from_settings(
        Settings(env="test", trusted_proxies="10.0.0.0/8"), header="forwarded"
    )
    assert resolver.client_ip("10.1.1.1", "for=198.51.100.1") == "198.51.100.1"
    assert "ClientIPResolver" in repr(resolver)
    with pytest.raises(ConfigurationError, match="BACKENDKIT_TRUSTED_PROXIES"):
        ClientIPResolver.from_settings(Settings(env="test", trusted_proxies="nope"))


def test_ip_group() -> None:
    """IPv4 whole, IPv6 by /64, mapped addresses as IPv4, junk unchanged."""
    assert ip_group("198.51.100.1") == "198.51.100.1"
    assert ip_group("2001:db8::1") == "2001:db8::/64"
    assert ip_group("::ffff:198.51.100.1") == "198.51.100.1"
    assert ip_group("not an ip") == "not an ip"


_ADDRESSES = st.one_of(
    st.ip_addresses().map(str),
    st.sampled_from(["10.0.0.1", "10.2.3.4", "fd00::9", "192.168.1.1"]),
)
_JUNK = st.text(max_size=40)
_ENTRIES = st.one_of(_ADDRESSES, _JUNK)


@settings(max_examples=300)
@given(
    peer=st.one_of(st.none(), _ENTRIES),
    values=st.one_of(
        st.none(),
        st.lists(_ENTRIES, max_size=6).map(", ".join),
        st.lists(st.text(max_size=30), max_size=3),
        _JUNK,
    ),
    header=st.sampled_from(["x-forwarded-for", "forwarded"]),
)
def test_garbage_never_raises(
    peer: str | None, values: str | list[str] | None, header: str
) -> None:
    """Any peer and any header text: an address string or None, never an exception."""
    resolver = ClientIPResolver(PROXIES, header=header)  # type: ignore[arg-type]
    result = resolver.client_ip(peer, values)
    assert result is None or isinstance(result, str)
    assert isinstance(resolver.client_key(peer, values), str)


@settings(max_examples=200)
@given(
    peer=st.ip_addresses().map(str).filter(lambda a: a not in TrustedProxies(PROXIES)),
    forged=st.lists(_ENTRIES, max_size=5).map(", ".join),
)
def test_spoofed_headers_from_untrusted_peers_are_ignored(peer: str, forged: str) -> None:
    """Whatever an untrusted peer sends, the answer is the peer itself."""
    resolver = ClientIPResolver(PROXIES)
    assert resolver.client_ip(peer, forged) == ip_group(peer, ipv6_prefix=128)


@settings(max_examples=200)
@given(
    client=st.ip_addresses().map(str).filter(lambda a: a not in TrustedProxies(PROXIES)),
    forged=st.lists(_ENTRIES, max_size=5),
    proxies=st.lists(st.sampled_from(["10.0.0.1", "10.9.9.9", "192.168.1.1"]), max_size=3),
)
def test_a_client_behind_trusted_proxies_cannot_forge_its_address(
    client: str, forged: list[str], proxies: list[str]
) -> None:
    """Whatever the client prepends, the address the first proxy saw is the answer."""
    resolver = ClientIPResolver(PROXIES)
    header = ", ".join([*forged, client, *proxies])
    assert resolver.client_ip("10.0.0.2", header) == ip_group(client, ipv6_prefix=128)


# -- the server rewrote the address (uvicorn's proxy headers) ------------------------------

_REWRITTEN = "client_address_rewritten"


@pytest.fixture
def fresh_rewrite_warning() -> Iterator[None]:
    """The once-per-process warning has not fired yet (and is re-armed afterwards)."""
    _reset_rewrite_warning()
    yield
    _reset_rewrite_warning()


def _rewrites(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == _REWRITTEN]


@pytest.mark.usefixtures("fresh_rewrite_warning")
@pytest.mark.parametrize(
    ("peer", "header"),
    [
        ("198.51.100.7", "198.51.100.7"),  # what uvicorn does with a one-entry header
        ("198.51.100.7", "203.0.113.9, 198.51.100.7"),  # the rightmost entry it did not trust
        ("198.51.100.7", ["203.0.113.9", "198.51.100.7:4711"]),
        ("2001:db8::7", "[2001:db8::7]:443"),
    ],
)
def test_a_peer_named_in_x_forwarded_for_warns_once_per_process(
    peer: str, header: str | list[str]
) -> None:
    """No trusted proxies, yet the peer is in the header: the server believed it; say so once."""
    with capture_logs() as logs:
        first = ClientIPResolver().client_key(peer, header)
        # Later requests, and other resolvers of the same process, stay quiet.
        ClientIPResolver().client_key(peer, header)
        ClientIPResolver(ipv6_prefix=128).client_key(peer, header)
    # The address itself is still what backendkit counts under: the peer it was given.
    assert first == ip_group(peer)
    [event] = _rewrites(logs)
    assert event["log_level"] == "warning"
    assert event["peer"] == peer
    assert event["header"] == "X-Forwarded-For"
    assert "--no-proxy-headers" in event["hint"]
    assert "BACKENDKIT_TRUSTED_PROXIES" in event["hint"]
    assert "--forwarded-allow-ips" in event["hint"]


@pytest.mark.usefixtures("fresh_rewrite_warning")
def test_the_warning_copies_nothing_of_the_header_but_the_parsed_peer() -> None:
    """The header's other entries (client-controlled text) never reach the log."""
    forged = "evil\x1b[31m-<script>, 203.0.113.99"
    with capture_logs() as logs:
        ClientIPResolver().client_key("198.51.100.7", f"{forged}, 198.51.100.7")
    [event] = _rewrites(logs)
    text = repr(event)
    assert "evil" not in text
    assert "script" not in text
    assert "203.0.113.99" not in text


@pytest.mark.usefixtures("fresh_rewrite_warning")
@pytest.mark.parametrize(
    ("peer", "header"),
    [
        ("127.0.0.1", "198.51.100.7"),  # the header ignored, as it should be: nothing to say
        ("1.2.3.4", "11.2.3.45"),  # the peer's text inside another address is no match
        ("1.2.3.4", "junk1.2.3.4"),
        ("198.51.100.7", "x" * 20_000 + ", 198.51.100.7"),  # oversized: not parsed at all
        ("198.51.100.7", ""),
    ],
)
def test_a_header_not_naming_the_peer_logs_nothing(peer: str, header: str) -> None:
    """Only an exact address match in the header suggests the server rewrote the peer."""
    with capture_logs() as logs:
        assert ClientIPResolver().client_key(peer, header) == peer
    assert _rewrites(logs) == []


@pytest.mark.usefixtures("fresh_rewrite_warning")
def test_no_warning_with_trusted_proxies_configured() -> None:
    """With trusted proxies the operator chose who is believed: the check is off."""
    with capture_logs() as logs:
        ClientIPResolver(["10.0.0.0/8"]).client_key("198.51.100.7", "198.51.100.7")
        ClientIPResolver(["10.0.0.0/8"]).client_key("10.0.0.2", "198.51.100.7")
    assert _rewrites(logs) == []


@pytest.mark.usefixtures("fresh_rewrite_warning")
def test_no_warning_without_the_header() -> None:
    """The valid twin: a plain request logs nothing, and the warning stays armed."""
    with capture_logs() as logs:
        assert ClientIPResolver().client_key("198.51.100.7") == "198.51.100.7"
        assert ClientIPResolver().client_key("198.51.100.7", None) == "198.51.100.7"
    assert _rewrites(logs) == []
    with capture_logs() as logs:
        ClientIPResolver().client_key("198.51.100.7", "198.51.100.7")
    assert len(_rewrites(logs)) == 1


@pytest.mark.usefixtures("fresh_rewrite_warning")
def test_no_warning_for_a_forwarded_resolver() -> None:
    """uvicorn rewrites from X-Forwarded-For only; a Forwarded value naming the peer is no sign."""
    with capture_logs() as logs:
        ClientIPResolver(header="forwarded").client_key("198.51.100.7", "for=198.51.100.7")
    assert _rewrites(logs) == []


@pytest.mark.usefixtures("fresh_rewrite_warning")
def test_concurrent_requests_warn_exactly_once() -> None:
    """Threads racing on the first rewritten request: one warning in all."""
    resolver = ClientIPResolver()
    barrier = threading.Barrier(8)

    def hit() -> None:
        barrier.wait()
        for _ in range(50):
            resolver.client_key("198.51.100.7", "198.51.100.7")

    with capture_logs() as logs:
        threads = [threading.Thread(target=hit) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(_rewrites(logs)) == 1
