"""backendkit.testing's auth helpers: the token factory (the hasher is in test_passwords)."""

from __future__ import annotations

import pytest
from tests.unit.auth.conftest import AUDIENCE, ISSUER

from backendkit.auth import JWTKey, TokenService
from backendkit.errors import InvalidToken
from backendkit.testing import FakeClock, TokenFactory


def test_default_factory_makes_valid_tokens(fake_clock: FakeClock) -> None:
    """With no service, the factory builds one (random HS256 key, memory store)."""
    factory = TokenFactory(clock=fake_clock)
    assert factory.service.verify_access(factory.access_token()).sub == "user-1"
    pair = factory.pair("user-2", claims={"roles": ["a"]})
    assert factory.service.refresh(pair.refresh_token).session_id == pair.session_id
    header = factory.auth_header("user-3", claims={"roles": ["admin"]})
    token = header["Authorization"].removeprefix("Bearer ")
    assert factory.service.verify_access(token)["roles"] == ["admin"]
    assert factory.service.verify_access(factory.access_token(ttl=5)).exp == (
        int(fake_clock.now()) + 5
    )


def test_factory_uses_the_services_issuer_audience_and_clock(fake_clock: FakeClock) -> None:
    """token() starts from what the service would issue, including iss and aud."""
    service = TokenService(JWTKey.generate(), issuer=ISSUER, audience=AUDIENCE, clock=fake_clock)
    factory = TokenFactory(service)
    claims = service.verify_access(factory.token({"roles": ["x"]}))
    assert (claims.iss, claims.aud, claims["roles"]) == (ISSUER, AUDIENCE, ["x"])
    assert claims.iat == int(fake_clock.now())


def test_factory_builds_broken_tokens(fake_clock: FakeClock) -> None:
    """Expired, claim-less, foreign-key and bad-header tokens are refused by the service."""
    factory = TokenFactory(clock=fake_clock)
    service = factory.service
    bad = [
        factory.expired_access_token(),
        factory.token({"exp": None}),
        factory.token({"type": "refresh"}),
        factory.token(key=JWTKey.generate(kid=service.key_ring.signing_key.kid)),
        factory.token(header={"kid": "unknown"}),
        factory.token(header={"jku": "https://evil.example.com"}),
    ]
    for token in bad:
        with pytest.raises(InvalidToken):
            service.verify_access(token)
    assert service.verify_access(factory.token()).sub == "user-1"  # the valid twin
