"""OIDCVerifier's checks on a provider's access tokens; each refusal has a valid twin.

Keys come from a local provider (a real HTTP server on 127.0.0.1, see tests/_provider.py),
fetched once per test.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests._provider import AUDIENCE, LocalProvider

from backendkit.auth import ClaimsMapping, JWTKey, OIDCProvider, OIDCVerifier
from backendkit.auth._jwt import sign_compact
from backendkit.errors import ConfigurationError, InvalidToken, ServiceUnavailable
from backendkit.testing import FakeClock, capture_logs


@functools.cache
def key(kid: str, algorithm: str = "RS256") -> JWTKey:
    return JWTKey.generate(algorithm, kid=kid)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=time.time())


@pytest.fixture
def idp(clock: FakeClock) -> Iterator[LocalProvider]:
    provider = LocalProvider([key("k1")], clock=clock)
    try:
        yield provider
    finally:
        provider.close()


def make(idp: LocalProvider, clock: FakeClock, **options: Any) -> OIDCVerifier:
    algorithms = options.pop("algorithms", ("RS256",))
    provider = OIDCProvider(idp.issuer, algorithms=algorithms, clock=clock)
    options.setdefault("audience", AUDIENCE)
    return OIDCVerifier(provider, clock=clock, **options)


def rejected(verifier: OIDCVerifier, token: str) -> str:
    """The logged reason a token is refused (it must be refused)."""
    with capture_logs() as logs, pytest.raises(InvalidToken):
        verifier.verify(token)
    reasons = [e["reason"] for e in logs if e["event"] == "provider_token_rejected"]
    assert len(reasons) == 1
    return str(reasons[0])


# ---------------------------------------------------------------------------- claims


@pytest.mark.parametrize(
    ("bad", "good", "reason"),
    [
        ({"iss": "https://other.example"}, {}, "wrong_issuer"),
        ({"aud": "https://other-api.example"}, {"aud": AUDIENCE}, "wrong_audience"),
        ({"aud": ["a", "b"]}, {"aud": ["a", AUDIENCE]}, "wrong_audience"),
        ({"aud": None}, {"aud": AUDIENCE}, "wrong_audience"),
        ({"aud": []}, {"aud": [AUDIENCE]}, "wrong_audience"),
        ({"sub": None}, {"sub": "x"}, "missing_claim"),
        ({"sub": ""}, {"sub": "x"}, "bad_claim"),
        ({"sub": 7}, {"sub": "7"}, "bad_claim"),
        ({"exp": None}, {}, "missing_claim"),
        ({"exp": "soon"}, {}, "bad_claim"),
        ({"exp": True}, {}, "bad_claim"),
    ],
)
def test_claim_checks(
    idp: LocalProvider, clock: FakeClock, bad: dict[str, Any], good: dict[str, Any], reason: str
) -> None:
    """iss exactly, aud naming this API, sub and exp present and well-formed."""
    verifier = make(idp, clock)
    assert rejected(verifier, idp.token(**bad)) == reason
    verifier.verify(idp.token(**good))


def test_time_claims_with_leeway(idp: LocalProvider, clock: FakeClock) -> None:
    """exp, nbf and iat are checked against the clock, with 30 s of leeway by default."""
    verifier = make(idp, clock)
    now = int(clock.now())
    assert rejected(verifier, idp.token(exp=now - 31)) == "expired"
    verifier.verify(idp.token(exp=now - 29))
    assert rejected(verifier, idp.token(nbf=now + 31)) == "not_yet_valid"
    verifier.verify(idp.token(nbf=now + 29))
    assert rejected(verifier, idp.token(iat=now + 31)) == "issued_in_future"
    verifier.verify(idp.token(iat=now + 29))
    strict = make(idp, clock, leeway=0)
    assert rejected(strict, idp.token(exp=now)) == "expired"
    strict.verify(idp.token(exp=now + 1))


def test_client_ids(idp: LocalProvider, clock: FakeClock) -> None:
    """With client_ids, a token's azp/client_id must be one of them; absent is accepted."""
    verifier = make(idp, clock, client_ids=["web-client"])
    assert rejected(verifier, idp.token(client_id="other")) == "wrong_client"
    assert rejected(verifier, idp.token(client_id=None, azp="other")) == "wrong_client"
    assert verifier.verify(idp.token()).client_id == "web-client"
    assert verifier.verify(idp.token(client_id=None, azp="web-client")).client_id == "web-client"
    assert verifier.verify(idp.token(client_id=None)).client_id is None


def test_without_an_audience_the_client_names_the_api(idp: LocalProvider, clock: FakeClock) -> None:
    """Cognito's access tokens carry no aud: audience=None with client_ids accepts a token
    without aud whose client_id is listed, and nothing else."""
    verifier = make(idp, clock, audience=None, client_ids=["app-client"])
    cognito = {"aud": None, "client_id": "app-client", "token_use": "access"}
    claims = verifier.verify(idp.token(**cognito))
    assert (claims.aud, claims.client_id) == (None, "app-client")
    assert rejected(verifier, idp.token(**{**cognito, "client_id": "other"})) == "wrong_client"
    assert rejected(verifier, idp.token(**{**cognito, "client_id": None})) == "wrong_client"
    assert rejected(verifier, idp.token(**{**cognito, "aud": "app-client"})) == "wrong_audience"
    with pytest.raises(ConfigurationError, match="client_ids"):
        OIDCVerifier("https://idp.example", audience=None)


# ---------------------------------------------------------------------------- ID tokens


@pytest.mark.parametrize(
    "claims",
    [
        {"nonce": "n-1"},
        {"at_hash": "abc"},
        {"c_hash": "abc"},
        {"token_use": "id"},
        {"typ": "ID"},
        {"typ": "Refresh"},
        {"aud": "web-client", "azp": "web-client"},
        {"aud": ["web-client"], "azp": "web-client"},
    ],
)
def test_id_tokens_are_refused(
    idp: LocalProvider, clock: FakeClock, claims: dict[str, Any]
) -> None:
    """ID-token claims, Cognito's token_use=id, Keycloak's typ ID, aud==azp: refused even
    when the API's audience is the client's id."""
    verifier = make(idp, clock, audience=["web-client", AUDIENCE])
    assert rejected(verifier, idp.token(**claims)) == "id_token"


@pytest.mark.parametrize(
    "claims",
    [
        {"token_use": "access"},
        {"typ": "Bearer"},
        {"aud": ["web-client", "account"], "azp": "web-client"},
        {"aud": AUDIENCE, "azp": "web-client"},
    ],
)
def test_access_token_shapes_are_accepted(
    idp: LocalProvider, clock: FakeClock, claims: dict[str, Any]
) -> None:
    """The valid twins: Cognito's and Keycloak's access-token markers, an azp beside the API."""
    verifier = make(idp, clock, audience=["web-client", AUDIENCE])
    verifier.verify(idp.token(**claims))


def test_at_jwt_typ(idp: LocalProvider, clock: FakeClock) -> None:
    """require_at_jwt accepts only typ at+jwt; without it, JWT or none are accepted too,
    and at+jwt lifts the aud==azp rule (RFC 9068 says what the token is)."""
    k1 = key("k1")
    at_jwt = {"alg": "RS256", "kid": "k1", "typ": "at+jwt"}
    plain = {"alg": "RS256", "kid": "k1", "typ": "JWT"}
    strict = make(idp, clock, require_at_jwt=True)
    assert rejected(strict, idp.token(k1, header=plain)) == "not_an_access_token"
    assert rejected(strict, idp.token(k1)) == "not_an_access_token"
    strict.verify(idp.token(k1, header=at_jwt))
    strict.verify(idp.token(k1, header={**at_jwt, "typ": "application/AT+JWT"}))
    lenient = make(idp, clock, audience=["web-client"])
    lenient.verify(idp.token(k1, header=plain, aud="web-client"))
    assert (
        rejected(lenient, idp.token(k1, header=plain, aud="web-client", azp="web-client"))
        == "id_token"
    )
    lenient.verify(idp.token(k1, header=at_jwt, aud="web-client", azp="web-client"))
    assert rejected(lenient, idp.token(k1, header={**plain, "typ": "dpop+jwt"})) == "bad_header"


# ---------------------------------------------------------------------------- header and keys


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"alg": "RS256", "kid": "k1", "jku": "https://evil.example/jwks"}, "forbidden_header"),
        ({"alg": "RS256", "kid": "k1", "x5u": "https://evil.example/cert"}, "forbidden_header"),
        ({"alg": "none", "kid": "k1"}, "alg_not_allowed"),
        ({"alg": "HS256", "kid": "k1"}, "alg_not_allowed"),
        ({"alg": "PS256", "kid": "k1"}, "alg_not_allowed"),
        ({"alg": "RS256", "kid": "k\u00e91"}, "malformed_kid"),
        ({"alg": "RS256", "kid": 5}, "malformed_kid"),
        ({"alg": "RS256", "kid": "k1", "typ": 3}, "bad_header"),
    ],
)
def test_header_checks(
    idp: LocalProvider, clock: FakeClock, header: dict[str, Any], reason: str
) -> None:
    """No embedded or remote keys, alg from the issuer's allowlist, a well-formed kid."""
    verifier = make(idp, clock)
    assert rejected(verifier, idp.token(header=header)) == reason
    verifier.verify(idp.token(header={"alg": "RS256", "kid": "k1"}))


def test_the_algorithm_comes_from_the_key_not_the_token(
    idp: LocalProvider, clock: FakeClock
) -> None:
    """An RSA key published without alg, allowlist PS256: the key is PS256, so the same
    key's RS256 signature is refused although RS256 fits the key type."""
    rsa = key("k1")
    jwk = rsa.public_jwk()
    assert jwk is not None
    del jwk["alg"]
    idp.jwks_document = {"keys": [jwk]}
    ps = JWTKey.from_pem(rsa.private_pem(), algorithm="PS256", kid="k1")
    verifier = make(idp, clock, algorithms=("PS256",))
    verifier.verify(idp.token(ps))
    assert rejected(verifier, idp.token(rsa)) == "alg_not_allowed"
    both = make(idp, clock, algorithms=("PS256", "RS256"))
    # Both RSA algorithms allowed and the JWK names none: only the token could choose, so
    # the key is skipped (no usable key: 503, and the log says why).
    with capture_logs() as logs, pytest.raises(ServiceUnavailable):
        both.verify(idp.token(ps))
    assert any(e.get("reason") == "algorithm_not_decided" for e in logs)


def test_alg_mismatch_with_the_bound_key(idp: LocalProvider, clock: FakeClock) -> None:
    """A JWK naming RS256: a PS256 token under its kid is refused (alg_key_mismatch)."""
    ps = JWTKey.from_pem(key("k1").private_pem(), algorithm="PS256", kid="k1")
    verifier = make(idp, clock, algorithms=("PS256", "RS256"))
    assert rejected(verifier, idp.token(ps)) == "alg_key_mismatch"
    verifier.verify(idp.token(key("k1")))


def test_signature_and_kid(idp: LocalProvider, clock: FakeClock) -> None:
    """A token signed by another key under a published kid fails its signature; a token
    without a kid uses the provider's single key."""
    verifier = make(idp, clock)
    forged = idp.token(key("attacker"), header={"alg": "RS256", "kid": "k1"})
    assert rejected(verifier, forged) == "bad_signature"
    verifier.verify(idp.token(header={"alg": "RS256"}))
    idp.keys = [key("k1"), key("k2")]
    two = make(idp, clock)
    assert rejected(two, idp.token(header={"alg": "RS256"})) == "unknown_kid"
    two.verify(idp.token(key("k2")))


def test_malformed_and_oversized_tokens(idp: LocalProvider, clock: FakeClock) -> None:
    """Not a JWS (an opaque token), or longer than max_token_bytes: refused unread."""
    verifier = make(idp, clock, max_token_bytes=1024)
    assert rejected(verifier, "opaque-token-value") == "malformed"
    assert rejected(verifier, idp.token(padding="x" * 2000)) == "too_large"
    verifier.verify(idp.token(padding="x" * 10))


# ---------------------------------------------------------------------------- mapping


def test_provider_roles_and_scopes_grant_nothing_unless_mapped(
    idp: LocalProvider, clock: FakeClock
) -> None:
    """Without a mapping no role or scope is granted; with one, only mapped values are."""
    claims = {"roles": ["admin"], "scope": "openid users:read users:write"}
    plain = make(idp, clock).verify(idp.token(**claims))
    assert (plain.roles, plain.scopes) == (frozenset(), frozenset())
    assert plain["roles"] == ["admin"]  # still readable as a claim
    mapping = ClaimsMapping(roles={"admin": "staff"}, scopes=["users:read"])
    mapped = make(idp, clock, mapping=mapping).verify(idp.token(**claims))
    assert (mapped.roles, mapped.scopes) == (frozenset({"staff"}), frozenset({"users:read"}))
    assert mapped.get("missing", 1) == 1


# ---------------------------------------------------------------------------- configuration


def test_configuration_is_checked() -> None:
    """An audience is required; URLs must be https (http only to loopback); sane options."""
    with pytest.raises(ConfigurationError, match="audience"):
        OIDCVerifier("https://idp.example", audience=[])
    with pytest.raises(ConfigurationError, match="https"):
        OIDCVerifier("http://idp.example", audience="a")
    with pytest.raises(ConfigurationError, match="https"):
        OIDCProvider("https://idp.example", jwks_url="ftp://idp.example/jwks")
    with pytest.raises(ConfigurationError, match="algorithms"):
        OIDCProvider("https://idp.example", algorithms=["HS256"])
    with pytest.raises(ConfigurationError, match="algorithms"):
        OIDCProvider("https://idp.example", algorithms=[])
    with pytest.raises(ConfigurationError, match="cooldown"):
        OIDCProvider("https://idp.example", cooldown=0)
    with pytest.raises(ConfigurationError, match="leeway"):
        OIDCVerifier("https://idp.example", audience="a", leeway=-1)
    with pytest.raises(ConfigurationError, match="max_token_bytes"):
        OIDCVerifier("https://idp.example", audience="a", max_token_bytes=10)
    # The valid twins.
    for url in (
        "https://idp.example",
        "http://localhost:8080",
        "http://127.0.0.1:1",
        "http://[::1]:1",
    ):
        assert OIDCVerifier(url, audience="a").issuer == url
    provider = OIDCProvider("https://idp.example/", algorithms="ES256")
    assert provider.algorithms == {"ES256"}
    assert provider.discovery_url == "https://idp.example/.well-known/openid-configuration"
    assert repr(provider) == "OIDCProvider(issuer='https://idp.example/')"


def test_pinned_keys_are_never_fetched(clock: FakeClock) -> None:
    """keys= pins the key set: tokens verify with no provider running (an unreachable
    issuer), an unknown kid is a 401 at once (a fetch would have been a 503), and time
    never makes the keys stale."""
    issuer = "https://idp.invalid"
    signer = key("pinned-1")
    provider = OIDCProvider(issuer, keys=signer, clock=clock)
    verifier = OIDCVerifier(provider, audience=AUDIENCE, clock=clock)
    now = int(clock.now())
    claims = {"iss": issuer, "sub": "u", "aud": AUDIENCE, "exp": now + 300}
    header = {"alg": "RS256", "kid": "pinned-1"}
    assert verifier.verify(sign_compact(claims, signer, header=header)).sub == "u"
    stranger = sign_compact(claims, key("k1"), header={"alg": "RS256", "kid": "k1"})
    assert rejected(verifier, stranger) == "unknown_kid"
    clock.advance(10**6)
    later = {**claims, "exp": int(clock.now()) + 300}
    assert verifier.verify(sign_compact(later, signer, header=header)).sub == "u"
    assert provider.kids == {"pinned-1"}
    for bad in ({"keys": []}, {"keys": [signer], "jwks_url": issuer + "/jwks"}):
        with pytest.raises(ConfigurationError, match="keys="):
            OIDCProvider(issuer, **bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="algorithms"):
        OIDCProvider(issuer, keys=[key("es", "ES256")])
    assert OIDCProvider(issuer, keys=[key("es", "ES256")], algorithms=["ES256"]).kids == {"es"}
