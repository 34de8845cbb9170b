"""Reading a provider's JWKS and mapping its roles and scopes (no I/O)."""

from __future__ import annotations

import asyncio
import doctest
import functools
import importlib
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from tests._services import DeadPort

from backendkit.auth import CLAIM_PRESETS, ClaimsMapping, ClaimSource, JWTKey
from backendkit.auth._oidc_fetch import FetchFailed, afetch_json, check_url, fetch_json
from backendkit.auth._oidc_jwks import is_provider_kid, parse_jwks
from backendkit.errors import ConfigurationError
from backendkit.testing import capture_logs

RSA = frozenset({"RS256"})


@functools.cache
def public(algorithm: str, kid: str) -> dict[str, Any]:
    jwk = JWTKey.generate(algorithm, kid=kid).public_jwk()
    assert jwk is not None
    return jwk


def test_usable_keys_are_read_by_kid() -> None:
    """RSA, EC and OKP keys named by their JWK alg (within the allowlist) are read."""
    allowed = frozenset({"RS256", "ES256", "EdDSA"})
    keys = parse_jwks(
        {"keys": [public("RS256", "r"), public("ES256", "e"), public("EdDSA", "d")]}, allowed
    )
    assert {kid: key.algorithm for kid, key in keys.items()} == {
        "r": "RS256",
        "e": "ES256",
        "d": "EdDSA",
    }
    assert not any(key.can_sign for key in keys.values())


@pytest.mark.parametrize(
    "change",
    [
        {"use": "enc"},
        {"key_ops": ["encrypt"]},
        {"key_ops": "verify"},
        {"alg": "PS256"},  # outside the allowlist
        {"alg": "HS256"},
        {"kty": "oct"},
        {"d": "private-part"},
        {"kid": 7},
        {"kid": "bad\nkid"},
        {"n": "not-a-modulus"},
    ],
)
def test_unusable_keys_are_skipped(change: dict[str, Any]) -> None:
    """Encryption keys, other algorithms, symmetric or private material, bad kids: skipped."""
    jwk = {**public("RS256", "r"), **change}
    assert parse_jwks({"keys": [jwk]}, RSA) == {}
    assert set(parse_jwks({"keys": [public("RS256", "r")]}, RSA)) == {"r"}  # the valid twin


def test_algorithm_without_alg_comes_from_the_allowlist() -> None:
    """No alg in the JWK: the one allowed algorithm of its family, else the key is skipped."""
    jwk = {k: v for k, v in public("RS256", "r").items() if k != "alg"}
    assert parse_jwks({"keys": [jwk]}, frozenset({"PS256"}))["r"].algorithm == "PS256"
    assert parse_jwks({"keys": [jwk]}, frozenset({"RS256", "ES256"}))["r"].algorithm == "RS256"
    with capture_logs() as logs:
        assert parse_jwks({"keys": [jwk]}, frozenset({"RS256", "PS256"})) == {}
    assert [e["reason"] for e in logs] == ["algorithm_not_decided"]


def test_odd_documents_read_as_no_keys() -> None:
    """Whatever the document holds, parsing never raises."""
    for document in ({}, {"keys": "x"}, {"keys": [1, "a", None, []]}):
        assert parse_jwks(document, RSA) == {}
    doubled = {"keys": [public("RS256", "r"), public("RS256", "r")]}
    assert set(parse_jwks(doubled, RSA)) == {"r"}
    kidless = {k: v for k, v in public("RS256", "r").items() if k != "kid"}
    assert set(parse_jwks({"keys": [kidless]}, RSA)) == {""}


def test_provider_key_ids() -> None:
    """Printable ASCII up to 256 characters (Cognito's end in '='); nothing else."""
    assert is_provider_kid("abcdEXAMPLE1234+/=")
    assert not is_provider_kid("")
    assert not is_provider_kid("x" * 257)
    assert not is_provider_kid("k\u00e9")
    assert not is_provider_kid(None)


# ---------------------------------------------------------------------------- mapping


CLAIMS = {
    "scope": "openid users:read",
    "scp": ["users:write"],
    "roles": ["Admin", 3],
    "realm_access": {"roles": ["realm-admin", "offline_access"]},
    "cognito:groups": ["ops"],
    "https://example.com/roles": ["editor"],
}


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("scope", {"openid", "users:read"}),
        ("scp", {"users:write"}),
        ("roles", {"Admin"}),
        ("realm_access.roles", {"realm-admin", "offline_access"}),
        ("cognito:groups", {"ops"}),
    ],
)
def test_presets_read_where_providers_write(source: str, found: set[str]) -> None:
    """Each preset reads its provider's claim shape."""
    assert CLAIM_PRESETS[source].read(CLAIMS) == found


def test_mapping_grants_only_what_it_maps() -> None:
    """Unmapped values grant nothing; a mapping may rename and fan out; custom paths work."""
    mapping = ClaimsMapping(
        roles={"realm-admin": ["admin", "user"], "ops": "operator"},
        role_claims=["realm_access.roles", "cognito:groups"],
        scopes={"users:read": "read"},
        scope_claims="scope",
    )
    assert mapping.roles(CLAIMS) == {"admin", "user", "operator"}
    assert mapping.scopes(CLAIMS) == {"read"}
    assert ClaimsMapping().roles(CLAIMS) == frozenset()
    assert ClaimsMapping().scopes(CLAIMS) == frozenset()
    custom = ClaimsMapping(
        roles=["editor"], role_claims=ClaimSource(("https://example.com/roles",))
    )
    assert custom.roles(CLAIMS) == {"editor"}
    assert "editor" in repr(custom)
    assert ClaimSource(("realm_access", "roles", "deeper")).read(CLAIMS) == frozenset()
    assert ClaimSource(("scope",)).read({"scope": 5}) == frozenset()


@pytest.mark.parametrize(
    "options",
    [
        {"role_claims": "groups"},
        {"scope_claims": [3]},
        {"roles": "admin"},
        {"roles": {"a": 3}},
        {"scopes": {"a": [""]}},
    ],
)
def test_mapping_configuration_is_checked(options: dict[str, Any]) -> None:
    """Unknown presets and mappings that are not names to names are refused."""
    with pytest.raises(ConfigurationError):
        ClaimsMapping(**options)
    with pytest.raises(ConfigurationError):
        ClaimSource(())


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_httpx_the_oidc_names_ask_for_the_oidc_extra() -> None:
    """backendkit.auth imports without httpx; its OIDC verifier then names the extra."""
    result = _run(
        """
        import sys
        sys.modules["httpx"] = None
        import backendkit.auth
        from backendkit.auth import ClaimsMapping
        try:
            from backendkit.auth import OIDCVerifier
        except ImportError as exc:
            print(type(exc).__name__, exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "MissingDependencyError" in result.stdout
    assert "backendkit[oidc]" in result.stdout


def test_with_httpx_the_oidc_names_import() -> None:
    """The valid twin: with the extra installed, the names resolve."""
    result = _run("from backendkit.auth import OIDCProvider, OIDCVerifier; print('ok')")
    assert result.stdout.strip() == "ok", result.stderr


# ---------------------------------------------------------------------------- fetching


def test_https_fetch_to_a_refused_port_fails_cleanly(dead_redis: DeadPort) -> None:
    """An https:// key set on a port that refuses: a FetchFailed naming the error (the TLS
    context is built on the way), sync and async."""
    url = f"https://127.0.0.1:{dead_redis.port}/jwks"
    with pytest.raises(FetchFailed) as caught:
        fetch_json(url, time.monotonic() + 5)
    assert caught.value.reason == "ConnectError"
    with pytest.raises(FetchFailed) as again:
        asyncio.run(afetch_json(url, time.monotonic() + 5))
    assert again.value.reason == "ConnectError"


def test_a_spent_deadline_fails_before_any_io() -> None:
    """No time left: the fetch is a timeout without a connection attempt."""
    for fetch in (fetch_json, lambda u, d: asyncio.run(afetch_json(u, d))):
        with pytest.raises(FetchFailed) as caught:
            fetch("https://127.0.0.1:9/jwks", time.monotonic() - 1)
        assert caught.value.reason == "timeout"
    with pytest.raises(ConfigurationError):
        check_url(None, "issuer")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        "backendkit.auth._claims_map",
        "backendkit.auth._oidc_provider",
        "backendkit.auth._oidc_verify",
    ],
)
def test_docstring_examples(name: str) -> None:
    """Every >>> example in the OIDC modules' docstrings runs and prints what it claims."""
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
