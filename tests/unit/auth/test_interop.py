"""Interoperability with plain pyjwt, both ways, for every supported algorithm."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from tests.unit.auth.conftest import AUDIENCE, ISSUER

from backendkit.auth import SUPPORTED_ALGORITHMS, JWTKey, TokenService
from backendkit.errors import InvalidToken
from backendkit.testing import FakeClock


def _secret_of(key: JWTKey) -> Any:
    """What plain pyjwt needs: the HMAC secret, or the PEM private key."""
    if key.is_symmetric:
        return key._signing  # the raw secret bytes
    return serialization.load_pem_private_key(key.private_pem(), password=None)


def _verifier_of(key: JWTKey) -> Any:
    return key._verifying if key.is_symmetric else key.public_pem()


@pytest.fixture
def real_time() -> FakeClock:
    """pyjwt checks exp against the system clock, so this clock starts at real time."""
    return FakeClock(start=time.time())


@pytest.mark.parametrize("alg", SUPPORTED_ALGORITHMS)
def test_our_tokens_verify_with_plain_pyjwt(
    alg: str, keys_by_alg: dict[str, JWTKey], real_time: FakeClock
) -> None:
    """jwt.decode with the same key and options accepts what TokenService issues."""
    key = keys_by_alg[alg]
    service = TokenService(key, issuer=ISSUER, audience=AUDIENCE, clock=real_time)
    token = service.issue_pair("user-1", claims={"roles": ["admin"]}).access_token
    claims = jwt.decode(
        token,
        _verifier_of(key),
        algorithms=[alg],
        issuer=ISSUER,
        audience=AUDIENCE,
        options={"require": ["exp", "iat", "jti", "sub"], "strict_aud": True},
    )
    assert (claims["sub"], claims["type"], claims["roles"]) == ("user-1", "access", ["admin"])
    assert jwt.get_unverified_header(token)["kid"] == key.kid


@pytest.mark.parametrize("alg", SUPPORTED_ALGORITHMS)
@pytest.mark.parametrize("with_kid", [True, False])
def test_plain_pyjwt_tokens_verify_with_us(
    alg: str, with_kid: bool, keys_by_alg: dict[str, JWTKey], real_time: FakeClock
) -> None:
    """A standard pyjwt token with the documented claims verifies with TokenService."""
    key = keys_by_alg[alg]
    now = int(real_time.now())
    payload = {
        "sub": "user-9",
        "type": "access",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 300,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "scope": "read write",
    }
    headers = {"kid": key.kid} if with_kid else None
    token = jwt.encode(payload, _secret_of(key), algorithm=alg, headers=headers)
    service = TokenService(key, issuer=ISSUER, audience=AUDIENCE, clock=real_time)
    claims = service.verify_access(token)
    assert (claims.sub, claims["scope"]) == ("user-9", "read write")


def test_pyjwt_token_with_wrong_claims_is_refused(
    keys_by_alg: dict[str, JWTKey], real_time: FakeClock
) -> None:
    """The same pyjwt token for another audience is refused (its valid twin is above)."""
    key = keys_by_alg["HS256"]
    now = int(real_time.now())
    payload = {"sub": "u", "type": "access", "jti": "j", "iat": now, "exp": now + 60}
    service = TokenService(key, issuer=ISSUER, audience=AUDIENCE, clock=real_time)
    wrong = jwt.encode({**payload, "iss": ISSUER, "aud": "other"}, _secret_of(key), "HS256")
    with pytest.raises(InvalidToken):
        service.verify_access(wrong)
    right = jwt.encode({**payload, "iss": ISSUER, "aud": AUDIENCE}, _secret_of(key), "HS256")
    assert service.verify_access(right).sub == "u"


def test_jwks_feeds_pyjwt_key_sets(keys_by_alg: dict[str, JWTKey], real_time: FakeClock) -> None:
    """A verifier holding only our JWKS (as pyjwt's PyJWKSet) verifies our tokens by kid."""
    ring = [keys_by_alg[a] for a in ("ES256", "RS256", "EdDSA")]
    service = TokenService(ring, clock=real_time)
    token = service.issue_access("user-1")
    keyset = jwt.PyJWKSet.from_dict(service.jwks())
    kid = jwt.get_unverified_header(token)["kid"]
    signing = keyset[kid]
    claims = jwt.decode(token, signing, algorithms=[signing.algorithm_name])
    assert claims["sub"] == "user-1"


def test_foreign_jwks_keys_verify_their_tokens(
    keys_by_alg: dict[str, JWTKey], real_time: FakeClock
) -> None:
    """Keys loaded from another issuer's JWKS verify that issuer's pyjwt tokens."""
    issuer_key = keys_by_alg["ES256"]
    published = TokenService(issuer_key, clock=real_time).jwks()["keys"]
    verify_only = [JWTKey.from_jwk(jwk) for jwk in published]
    now = int(real_time.now())
    token = jwt.encode(
        {"sub": "s", "type": "access", "jti": "j", "iat": now, "exp": now + 60},
        _secret_of(issuer_key),
        algorithm="ES256",
        headers={"kid": issuer_key.kid},
    )
    # A verification-only service: tokens verify, and nothing can be signed by accident.
    hs = JWTKey.generate("HS256")
    service = TokenService([hs, *verify_only], clock=real_time)
    assert service.verify_access(token).sub == "s"
