"""TokenService: issuing, verifying, configuration, clock, key rotation, logging."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from tests.unit.auth.conftest import AUDIENCE, ISSUER, SECRET

from backendkit.auth import (
    DEFAULT_REQUIRED_CLAIMS,
    SUPPORTED_ALGORITHMS,
    JWTKey,
    KeyRing,
    MemoryTokenStore,
    TokenClaims,
    TokenPair,
    TokenService,
)
from backendkit.errors import ConfigurationError, InvalidToken
from backendkit.settings import Settings
from backendkit.testing import FakeClock, TokenFactory, capture_logs


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(head))),
        json.loads(base64.urlsafe_b64decode(pad(body))),
    )


@pytest.mark.parametrize("alg", SUPPORTED_ALGORITHMS)
def test_round_trip_for_every_algorithm(
    alg: str, keys_by_alg: dict[str, JWTKey], fake_clock: FakeClock
) -> None:
    """Each supported algorithm issues tokens that verify."""
    service = TokenService(keys_by_alg[alg], clock=fake_clock)
    pair = service.issue_pair("user-1")
    assert service.verify_access(pair.access_token).sub == "user-1"
    assert service.verify_refresh(pair.refresh_token).type == "refresh"


def test_issued_tokens_carry_the_documented_claims(
    service: TokenService, fake_clock: FakeClock
) -> None:
    """Header alg/kid/typ and claims sub/type/jti/iat/exp/iss/aud/sid/auth_time are set."""
    now = int(fake_clock.now())
    pair = service.issue_pair("user-1", claims={"roles": ["admin"], "scope": "read"})
    header, access = _parts(pair.access_token)
    assert header == {"alg": "HS256", "kid": "hs-1", "typ": "JWT"}
    assert access["sub"] == "user-1"
    assert access["type"] == "access"
    assert (access["iat"], access["exp"], access["auth_time"]) == (now, now + 900, now)
    assert (access["iss"], access["aud"]) == (ISSUER, AUDIENCE)
    assert access["sid"] == pair.session_id
    assert (access["roles"], access["scope"]) == (["admin"], "read")
    _, refresh = _parts(pair.refresh_token)
    assert refresh["type"] == "refresh"
    assert refresh["exp"] == now + 14 * 86400
    assert refresh["jti"] != access["jti"]
    assert (pair.expires_in, pair.access_expires_at) == (900, now + 900)


def test_jti_and_sid_are_unique(service: TokenService) -> None:
    """Every token gets its own jti and every login its own session id."""
    pairs = [service.issue_pair("u") for _ in range(20)]
    jtis = {service.verify_access(p.access_token).jti for p in pairs}
    assert len(jtis) == 20
    assert len({p.session_id for p in pairs}) == 20


def test_token_claims_access(service: TokenService) -> None:
    """TokenClaims exposes registered claims as attributes and any claim by name."""
    claims = service.verify_access(service.issue_access("u", claims={"roles": ["a"]}))
    assert isinstance(claims, TokenClaims)
    assert claims["sub"] == "u"
    assert claims["roles"] == ["a"]
    assert claims.get("missing", "default") == "default"
    assert claims.get("nbf") is None
    assert dict(claims.extra) == {"roles": ["a"]}
    with pytest.raises(KeyError):
        claims["sid"]  # a stand-alone access token has no session


def test_token_pair_hides_tokens_and_renders_camel_case(service: TokenService) -> None:
    """repr never shows a token; to_dict is the wire form."""
    pair = service.issue_pair("u")
    assert pair.access_token not in repr(pair)
    assert pair.refresh_token not in repr(pair)
    assert pair.to_dict() == {
        "accessToken": pair.access_token,
        "refreshToken": pair.refresh_token,
        "tokenType": "Bearer",
        "expiresIn": 900,
    }


def test_expiry_follows_the_injected_clock(hs_key: JWTKey, fake_clock: FakeClock) -> None:
    """Valid until exp (exclusive), refused at exp; tests move time, never sleep."""
    service = TokenService(hs_key, clock=fake_clock, access_ttl=60)
    token = service.issue_access("u")
    fake_clock.advance(59)
    assert service.verify_access(token).sub == "u"
    fake_clock.advance(1)
    with pytest.raises(InvalidToken):
        service.verify_access(token)


def test_leeway_extends_expiry(hs_key: JWTKey, fake_clock: FakeClock) -> None:
    """With leeway L a token is accepted until exp + L (exclusive)."""
    service = TokenService(hs_key, clock=fake_clock, access_ttl=60, leeway=10)
    token = service.issue_access("u")
    fake_clock.advance(69)
    assert service.verify_access(token).sub == "u"
    fake_clock.advance(1)
    with pytest.raises(InvalidToken):
        service.verify_access(token)


def test_issue_access_ttl(service: TokenService, fake_clock: FakeClock) -> None:
    """issue_access takes its own ttl; invalid subjects and reserved claims are refused."""
    token = service.issue_access("u", ttl=5)
    assert service.verify_access(token).exp == int(fake_clock.now()) + 5
    with pytest.raises(ConfigurationError):
        service.issue_access("u", ttl=-1)
    with pytest.raises(ValueError, match="reserved"):
        service.issue_access("u", claims={"exp": 1})
    with pytest.raises(ValueError, match="reserved"):
        service.issue_pair("u", claims={"sid": "mine"})
    with pytest.raises(ValueError, match="sub must be"):
        service.issue_access("")
    with pytest.raises(ValueError, match="sub must be"):
        service.issue_pair("x" * 257)


def test_key_rotation_without_downtime(fake_clock: FakeClock) -> None:
    """Old tokens verify while the old key stays in the ring; new ones use the new key."""
    old, new = JWTKey.hmac(SECRET, kid="2024"), JWTKey.hmac(SECRET + b"-new", kid="2025")
    before = TokenService(old, clock=fake_clock)
    old_token = before.issue_access("u")
    during = TokenService([new, old], clock=fake_clock)
    assert during.verify_access(old_token).sub == "u"
    new_token = during.issue_access("u")
    assert _parts(new_token)[0]["kid"] == "2025"
    assert before.verify_access(old_token).sub == "u"
    after = TokenService(new, clock=fake_clock)
    assert after.verify_access(new_token).sub == "u"
    with pytest.raises(InvalidToken):
        after.verify_access(old_token)  # the old key left the ring


def test_token_without_kid_is_tried_with_the_signing_key_only(fake_clock: FakeClock) -> None:
    """No kid: only the active key is tried, never the older ones."""
    old, new = JWTKey.hmac(SECRET, kid="old"), JWTKey.hmac(SECRET + b"-new", kid="new")
    factory_old = TokenFactory(TokenService(old, clock=fake_clock))
    factory_new = TokenFactory(TokenService(new, clock=fake_clock))
    service = TokenService([new, old], clock=fake_clock)
    assert service.verify_access(factory_new.token(header={"kid": None})).sub == "user-1"
    with pytest.raises(InvalidToken):
        service.verify_access(factory_old.token(header={"kid": None}))


def test_verify_accepts_bytes_and_refuses_other_types(service: TokenService) -> None:
    """Tokens may be str or ASCII bytes; anything else is an InvalidToken, never a crash."""
    token = service.issue_access("u")
    assert service.verify_access(token.encode()).sub == "u"
    for bad in (None, 42, b"\xff\xfe", ["a.b.c"]):
        with pytest.raises(InvalidToken):
            service.verify_access(bad)  # type: ignore[arg-type]


def test_custom_token_size_cap(hs_key: JWTKey, fake_clock: FakeClock) -> None:
    """max_token_bytes is configurable; a token at the cap passes, one byte over does not."""
    issuer = TokenService(hs_key, clock=fake_clock)
    token = issuer.issue_access("u", claims={"pad": "x" * 300})
    at_cap = TokenService(hs_key, clock=fake_clock, max_token_bytes=len(token))
    assert at_cap.verify_access(token).sub == "u"
    below = TokenService(hs_key, clock=fake_clock, max_token_bytes=len(token) - 1)
    with capture_logs() as logs, pytest.raises(InvalidToken):
        below.verify_access(token)
    assert logs[0]["reason"] == "too_large"


def test_required_claims_can_be_relaxed(hs_key: JWTKey, fake_clock: FakeClock) -> None:
    """With required_claims={"exp"} a minimal token (sub, exp) verifies as an access token."""
    factory = TokenFactory(TokenService(hs_key, clock=fake_clock))
    minimal = factory.token({"jti": None, "iat": None, "type": None})
    strict = TokenService(hs_key, clock=fake_clock)
    relaxed = TokenService(hs_key, clock=fake_clock, required_claims={"exp"})
    with pytest.raises(InvalidToken):
        strict.verify_access(minimal)
    claims = relaxed.verify_access(minimal)
    assert (claims.type, claims.jti, claims.iat) == ("access", None, None)
    assert {"exp", "iat", "jti", "type"} == DEFAULT_REQUIRED_CLAIMS


def test_nbf_can_be_required(hs_key: JWTKey, fake_clock: FakeClock) -> None:
    """Adding nbf to required_claims refuses tokens without it."""
    factory = TokenFactory(TokenService(hs_key, clock=fake_clock))
    service = TokenService(
        hs_key, clock=fake_clock, required_claims=DEFAULT_REQUIRED_CLAIMS | {"nbf"}
    )
    with pytest.raises(InvalidToken):
        service.verify_access(factory.token())
    now = int(fake_clock.now())
    assert service.verify_access(factory.token({"nbf": now})).nbf == now


def test_no_audience_configured_refuses_tokens_with_aud(
    hs_key: JWTKey, fake_clock: FakeClock
) -> None:
    """A service without an audience refuses tokens addressed to someone; twin passes."""
    service = TokenService(hs_key, clock=fake_clock)
    factory = TokenFactory(service)
    with pytest.raises(InvalidToken):
        service.verify_access(factory.token({"aud": "somebody"}))
    assert service.verify_access(factory.token()).aud is None


def test_refresh_claims_are_complete(service: TokenService) -> None:
    """A refresh token missing its session id is refused (they are ours end to end)."""
    factory = TokenFactory(service)
    with pytest.raises(InvalidToken):
        service.verify_refresh(factory.token({"type": "refresh"}))
    assert service.verify_refresh(factory.token({"type": "refresh", "sid": "s1"})).sid == "s1"


def test_failures_are_generic_and_logged_without_the_token(service: TokenService) -> None:
    """Every failure is the same INVALID_TOKEN 401; the log has the reason, not the token."""
    token = service.issue_access("u")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with capture_logs() as logs, pytest.raises(InvalidToken) as caught:
        service.verify_access(tampered)
    err = caught.value
    assert (err.code, err.status, err.message) == (
        "INVALID_TOKEN",
        401,
        "The token is invalid or has expired",
    )
    assert err.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert err.__suppress_context__  # the internal reason is not chained to the error
    (event,) = logs
    assert event["event"] == "token_rejected"
    assert event["security"] is True
    assert event["reason"] in {"bad_signature", "non_canonical"}
    assert event["expected"] == "access"
    assert all(token[i : i + 12] not in repr(event) for i in range(0, len(token) - 12, 6))


def test_jwks(keys_by_alg: dict[str, JWTKey], fake_clock: FakeClock) -> None:
    """jwks() publishes the ring's public keys."""
    service = TokenService([keys_by_alg["ES256"], keys_by_alg["HS256"]], clock=fake_clock)
    assert [k["kid"] for k in service.jwks()["keys"]] == ["es-1"]
    assert service.algorithms == {"ES256", "HS256"}
    assert isinstance(service.key_ring, KeyRing)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"algorithms": ["none"]}, "unsupported JWT algorithms"),
        ({"algorithms": ["RS256"]}, "outside the allowlist"),
        ({"access_ttl": 0}, "access_ttl"),
        ({"refresh_ttl": float("inf")}, "refresh_ttl"),
        ({"max_session_lifetime": -5}, "max_session_lifetime"),
        ({"refresh_grace": 301}, "at most 300"),
        ({"refresh_grace": -1}, "refresh_grace"),
        ({"leeway": True}, "leeway"),
        ({"max_token_bytes": 10}, "max_token_bytes"),
        ({"issuer": ""}, "issuer"),
        ({"audience": 5}, "audience"),
        ({"required_claims": {"exp", "roles"}}, "cannot require"),
        ({"store": object()}, "TokenStore or AsyncTokenStore"),
        ({"store": "postgres://db"}, "unknown token store URL"),
    ],
)
def test_invalid_configuration_fails_at_construction(
    options: dict[str, Any], message: str, hs_key: JWTKey
) -> None:
    """Bad options raise ConfigurationError when the service is built."""
    with pytest.raises(ConfigurationError, match=message):
        TokenService(hs_key, **options)


def test_valid_configuration_twin(hs_key: JWTKey, rsa_key: JWTKey) -> None:
    """The valid twin: an explicit allowlist covering the keys, grace 0, no session cap."""
    service = TokenService(
        [hs_key, rsa_key],
        algorithms=["HS256", "RS256", "ES256"],
        refresh_grace=0,
        max_session_lifetime=None,
        required_claims=["exp"],
    )
    assert service.algorithms == {"HS256", "RS256", "ES256"}
    pair = service.issue_pair("u")
    assert service.refresh(pair.refresh_token).session_id == pair.session_id


def test_from_settings_with_jwt_secret(fake_clock: FakeClock) -> None:
    """jwt_secret becomes the one HS256 key; grace comes from refresh_grace_seconds."""
    settings = Settings(env="test", jwt_secret=SECRET.decode(), refresh_grace_seconds=0)
    service = TokenService.from_settings(settings, clock=fake_clock, issuer=ISSUER)
    assert [k.algorithm for k in service.key_ring.keys] == ["HS256"]
    assert isinstance(service.store, MemoryTokenStore)
    assert service.issuer == ISSUER
    pair = service.issue_pair("u")
    service.refresh(pair.refresh_token)
    with pytest.raises(InvalidToken):  # grace 0: an immediate replay is reuse
        service.refresh(pair.refresh_token)


def test_from_settings_rotates_with_secret_keys(fake_clock: FakeClock) -> None:
    """Without jwt_secret, one key per secret_key: tokens of the old secret still verify."""
    old = Settings(env="test", secret_key="old-secret-0123456789")
    rotated = Settings(env="test", secret_key="new-secret-0123456789,old-secret-0123456789")
    token = TokenService.from_settings(old, clock=fake_clock).issue_access("u")
    service = TokenService.from_settings(rotated, clock=fake_clock)
    assert len(service.key_ring.keys) == 2
    assert service.verify_access(token).sub == "u"
    assert _parts(service.issue_access("u"))[0]["kid"] == service.key_ring.keys[0].kid


def test_from_settings_refuses_a_short_jwt_secret() -> None:
    """A jwt_secret under 32 bytes is a configuration error at start-up."""
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        TokenService.from_settings(Settings(env="test", jwt_secret="short"))


async def test_async_store_only_service(hs_key: JWTKey, fake_clock: FakeClock) -> None:
    """A service over an async-only store refuses sync I/O calls and serves async ones."""

    class AsyncOnly:
        def __init__(self) -> None:
            self.inner = MemoryTokenStore()

        async def acreate_session(self, session: Any) -> None:
            await self.inner.acreate_session(session)

        async def arotate(self, request: Any) -> Any:
            return await self.inner.arotate(request)

        async def acheck(self, *args: Any) -> Any:
            return await self.inner.acheck(*args)

        async def arevoke_token(self, *args: Any) -> None:
            await self.inner.arevoke_token(*args)

        async def arevoke_session(self, *args: Any) -> None:
            await self.inner.arevoke_session(*args)

        async def arevoke_user(self, *args: Any) -> None:
            await self.inner.arevoke_user(*args)

    service = TokenService(hs_key, store=AsyncOnly(), clock=fake_clock)
    with pytest.raises(ConfigurationError, match="async-only"):
        service.issue_pair("u")
    pair = await service.aissue_pair("u")
    assert isinstance(await service.arefresh(pair.refresh_token), TokenPair)
    await service.arevoke_session("u", pair.session_id)


async def test_sync_store_only_service(hs_key: JWTKey, fake_clock: FakeClock) -> None:
    """A service over a sync-only store refuses the async methods."""

    class SyncOnly:
        def __init__(self) -> None:
            self.inner = MemoryTokenStore()

        def create_session(self, session: Any) -> None:
            self.inner.create_session(session)

        def rotate(self, request: Any) -> Any:
            return self.inner.rotate(request)

        def check(self, *args: Any) -> Any:
            return self.inner.check(*args)

        def revoke_token(self, *args: Any) -> None:
            self.inner.revoke_token(*args)

        def revoke_session(self, *args: Any) -> None:
            self.inner.revoke_session(*args)

        def revoke_user(self, *args: Any) -> None:
            self.inner.revoke_user(*args)

    service = TokenService(hs_key, store=SyncOnly(), clock=fake_clock)
    with pytest.raises(ConfigurationError, match="sync-only"):
        await service.aissue_pair("u")
    assert service.issue_pair("u").session_id


async def test_async_revocation_api(service: TokenService) -> None:
    """arevoke, arevoke_user, arevoke_jti and averify_access work on the memory store."""
    pair = await service.aissue_pair("u")
    claims = await service.averify_access(pair.access_token, check_revoked=True)
    assert claims.jti is not None
    await service.arevoke_jti("u", claims.jti, expires_at=claims.exp)
    with pytest.raises(InvalidToken):
        await service.averify_access(pair.access_token, check_revoked=True)
    other = await service.aissue_pair("u")
    await service.arevoke(other.refresh_token)
    with pytest.raises(InvalidToken):
        await service.arefresh(other.refresh_token)
    third = await service.aissue_pair("v")
    await service.arevoke_user("v")
    with pytest.raises(InvalidToken):
        await service.arefresh(third.refresh_token)


def test_revoke_refuses_foreign_tokens(service: TokenService, hs_key: JWTKey) -> None:
    """revoke() only acts on our own tokens."""
    foreign = TokenService(JWTKey.generate("HS256")).issue_access("u")
    with pytest.raises(InvalidToken):
        service.revoke(foreign)


def test_revoke_of_a_token_without_exp(hs_key: JWTKey, fake_clock: FakeClock) -> None:
    """A token without exp (allowed by required_claims) is denied for the longest lifetime."""
    service = TokenService(hs_key, clock=fake_clock, required_claims={"jti"})
    token = TokenFactory(service).token({"exp": None})
    service.revoke(token)
    with pytest.raises(InvalidToken):
        service.verify_access(token, check_revoked=True)


def test_session_end_within_leeway_is_refused(hs_key: JWTKey, fake_clock: FakeClock) -> None:
    """A refresh token still inside its leeway cannot extend a session past its cap."""
    service = TokenService(
        hs_key, clock=fake_clock, refresh_ttl=1000, max_session_lifetime=100, leeway=30
    )
    pair = service.issue_pair("u")
    fake_clock.advance(99)
    pair = service.refresh(pair.refresh_token)  # the valid twin: before the cap
    fake_clock.advance(11)  # 110 s: past the cap, inside the leeway
    with capture_logs() as logs, pytest.raises(InvalidToken):
        service.refresh(pair.refresh_token)
    assert logs[-1]["reason"] == "session_expired"


@pytest.mark.parametrize(
    "changes",
    [{"jti": 7}, {"jti": ""}, {"sid": "s" * 300}, {"iss": 5}, {"auth_time": "yesterday"}],
)
def test_malformed_registered_claims_are_refused(
    changes: dict[str, Any], hs_key: JWTKey, fake_clock: FakeClock
) -> None:
    """Registered claims of the wrong type are refused even when nothing else checks them."""
    service = TokenService(hs_key, clock=fake_clock)
    factory = TokenFactory(service)
    with capture_logs() as logs, pytest.raises(InvalidToken):
        service.verify_access(factory.token(changes))
    assert logs[0]["reason"] == "bad_claim"
    assert service.verify_access(factory.token()).sub == "user-1"


def test_from_settings_keeps_a_given_store(fake_clock: FakeClock) -> None:
    """An explicit store wins over redis_url."""
    store = MemoryTokenStore()
    settings = Settings(env="test", redis_url="redis://127.0.0.1:1/0")
    service = TokenService.from_settings(settings, store=store, clock=fake_clock)
    assert service.store is store
    assert service.clock is fake_clock
    assert service.audience is None


def test_redis_token_store_is_imported_on_first_use() -> None:
    """backendkit.auth hands out RedisTokenStore when asked; an unknown name stays an error."""
    import backendkit.auth as auth
    from backendkit.auth._redis_store import RedisTokenStore

    assert auth.RedisTokenStore is RedisTokenStore
    with pytest.raises(AttributeError):
        auth.NoSuchThing  # noqa: B018
