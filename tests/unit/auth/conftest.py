"""Keys and services shared by the auth unit tests (asymmetric keys are made once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backendkit.auth import JWTKey, TokenService
from backendkit.testing import FakeClock, TestingPasswordHasher

SECRET = b"unit-test-secret-0123456789abcdef"  # 33 bytes: long enough for HS256
ISSUER = "https://auth.example.com"
AUDIENCE = "api.example.com"


@pytest.fixture(scope="session")
def rsa_key() -> JWTKey:
    """An RS256 signing key (RSA-2048), generated once per session."""
    return JWTKey.generate("RS256", kid="rsa-1")


@pytest.fixture(scope="session")
def keys_by_alg(rsa_key: JWTKey) -> dict[str, JWTKey]:
    """One signing key per supported algorithm."""
    return {
        "HS256": JWTKey.hmac(SECRET, kid="hs256"),
        "HS384": JWTKey.hmac(SECRET * 2, algorithm="HS384", kid="hs384"),
        "HS512": JWTKey.hmac(SECRET * 2, algorithm="HS512", kid="hs512"),
        "RS256": rsa_key,
        "PS256": JWTKey.from_pem(rsa_key.private_pem(), algorithm="PS256", kid="ps-1"),
        "ES256": JWTKey.generate("ES256", kid="es-1"),
        "EdDSA": JWTKey.generate("EdDSA", kid="ed-1"),
    }


@pytest.fixture
def hs_key() -> JWTKey:
    """The HS256 key most tests sign with."""
    return JWTKey.hmac(SECRET, kid="hs-1")


@pytest.fixture
def service(hs_key: JWTKey, fake_clock: FakeClock) -> TokenService:
    """A service with issuer and audience, a memory store and the fake clock."""
    return TokenService(hs_key, issuer=ISSUER, audience=AUDIENCE, clock=fake_clock)


@pytest.fixture
def hasher() -> Iterator[TestingPasswordHasher]:
    """A cost-4 hasher (fast), with the same code paths as the real one."""
    h = TestingPasswordHasher(allow=True)
    yield h
    h.close()
