"""Test helpers for auth: a token factory and a fast, test-only password hasher."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from backendkit.auth import JWTKey, PasswordHasher, TokenPair, TokenService
from backendkit.auth._jwt import sign_compact
from backendkit.clock import Clock, system_clock
from backendkit.errors import ConfigurationError
from backendkit.settings import ENV_PREFIX, Settings

__all__ = ["TestingPasswordHasher", "TokenFactory"]

_TEST_ENVS = frozenset({"test", "development"})


class TestingPasswordHasher(PasswordHasher):
    """A [`PasswordHasher`][backendkit.auth.PasswordHasher] at bcrypt cost 4, for tests only.

    Same code paths as the real hasher (normalization, the 72-byte rule, pre-hash
    scheme, async pool), about 250 times less work than cost 12. It refuses to exist
    unless the environment is ``test`` or ``development`` (from ``settings``, else the
    ``BACKENDKIT_ENV`` variable) or ``allow=True`` says this really is a test.

    Args:
        settings: settings whose ``env`` decides; by default ``BACKENDKIT_ENV``.
        allow: skip the environment check (for test suites that set no environment).
        cost: bcrypt cost, 4 to 31.
        prehash: as for ``PasswordHasher``.
        pepper: as for ``PasswordHasher``.
        max_workers: as for ``PasswordHasher``.
        legacy_truncation: as for ``PasswordHasher`` (off by default; needs ``prehash``).

    Raises:
        ConfigurationError: outside a test or development environment.

    Example:
        >>> hasher = TestingPasswordHasher(allow=True)
        >>> hasher.cost
        4
    """

    __test__ = False  # not a pytest test class, despite the name
    MIN_COST: ClassVar[int] = 4

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        allow: bool = False,
        cost: int = 4,
        prehash: bool = False,
        pepper: bytes | str | None = None,
        max_workers: int | None = None,
        legacy_truncation: bool = False,
    ) -> None:
        env = settings.env if settings is not None else os.environ.get(ENV_PREFIX + "ENV", "")
        if not allow and env.strip().lower() not in _TEST_ENVS:
            raise ConfigurationError(
                "TestingPasswordHasher is for tests: set BACKENDKIT_ENV=test (or pass "
                "settings with env='test', or allow=True inside a test suite)"
            )
        super().__init__(
            cost,
            prehash=prehash,
            pepper=pepper,
            max_workers=max_workers,
            legacy_truncation=legacy_truncation,
        )


class TokenFactory:
    """Makes tokens for tests: valid ones in one call, and deliberately broken ones.

    Args:
        service: the [`TokenService`][backendkit.auth.TokenService] your app verifies
            with; by default a new one with a random HS256 key, a memory store and
            ``clock``.
        clock: the clock of the default service (ignored when ``service`` is given).

    Example:
        >>> from backendkit.testing import FakeClock
        >>> factory = TokenFactory(clock=FakeClock())
        >>> token = factory.access_token("user-1", claims={"roles": ["admin"]})
        >>> factory.service.verify_access(token)["roles"] == ["admin"]
        True
        >>> factory.auth_header("user-1")["Authorization"].startswith("Bearer ")
        True
    """

    def __init__(self, service: TokenService | None = None, *, clock: Clock | None = None) -> None:
        #: The service the tokens are made for.
        self.service = service or TokenService(
            JWTKey.generate("HS256"), clock=clock or system_clock
        )
        self._clock = self.service.clock

    def access_token(
        self,
        sub: str = "user-1",
        *,
        claims: Mapping[str, Any] | None = None,
        ttl: float | None = None,
    ) -> str:
        """A valid stand-alone access token for ``sub``."""
        return self.service.issue_access(sub, claims=claims, ttl=ttl)

    def pair(self, sub: str = "user-1", *, claims: Mapping[str, Any] | None = None) -> TokenPair:
        """A valid access/refresh pair (a new session in the service's store)."""
        return self.service.issue_pair(sub, claims=claims)

    def auth_header(
        self, sub: str = "user-1", *, claims: Mapping[str, Any] | None = None
    ) -> dict[str, str]:
        """``{"Authorization": "Bearer <access token>"}`` for a test client."""
        return {"Authorization": f"Bearer {self.access_token(sub, claims=claims)}"}

    def token(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        header: Mapping[str, Any] | None = None,
        key: JWTKey | None = None,
    ) -> str:
        """A signed token built from valid access claims changed by ``claims``.

        Start from what the service would issue for ``user-1`` (``sub``, ``type``,
        ``jti``, ``iat``, ``exp``, and ``iss``/``aud`` when configured); each entry of
        ``claims`` replaces one, and a ``None`` value removes it. ``header`` entries
        change the header the same way. Signed with ``key`` (default: the service's
        signing key). Use it to test that your app refuses expired, foreign or
        malformed tokens.

        Example:
            >>> factory = TokenFactory()
            >>> expired = factory.token({"exp": 1})
            >>> no_jti = factory.token({"jti": None})
        """
        now = int(self._clock.now())
        payload: dict[str, Any] = {
            "sub": "user-1",
            "type": "access",
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + 900,
        }
        if self.service.issuer is not None:
            payload["iss"] = self.service.issuer
        if self.service.audience is not None:
            payload["aud"] = self.service.audience
        _apply(payload, claims)
        signer = key or self.service.key_ring.signing_key
        head: dict[str, Any] = {"alg": signer.algorithm, "kid": signer.kid, "typ": "JWT"}
        _apply(head, header)
        return sign_compact(payload, signer, header=head)

    def expired_access_token(self, sub: str = "user-1") -> str:
        """An access token for ``sub`` that expired an hour ago (otherwise valid)."""
        now = int(self._clock.now())
        return self.token({"sub": sub, "iat": now - 7200, "exp": now - 3600})


def _apply(target: dict[str, Any], changes: Mapping[str, Any] | None) -> None:
    for name, value in (changes or {}).items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
