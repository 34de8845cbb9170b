"""The attack corpus: every malicious token is refused, and its valid twin verifies.

Each case builds a bad token and the same token made correctly. The bad one must raise
the generic InvalidToken *for the expected reason* (read from the security log), and the
twin must verify, so a verifier that rejects everything cannot pass this file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from tests.unit.auth._forge import Signer, b64, forge, hs256, rs256, segment
from tests.unit.auth.conftest import AUDIENCE, ISSUER, SECRET

from backendkit.auth import JWTKey, TokenService
from backendkit.errors import InvalidToken
from backendkit.testing import FakeClock, capture_logs

LEEWAY = 30


@dataclass
class Ctx:
    """What a case needs: the service under attack, its keys and the current time."""

    service: TokenService
    rsa: JWTKey
    hs: JWTKey
    now: int
    sign_rs: Signer
    stranger: JWTKey
    sign_stranger: Signer

    def claims(self, **changes: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "sub": "user-1",
            "type": "access",
            "jti": "jti-1",
            "iat": self.now,
            "exp": self.now + 600,
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        for name, value in changes.items():
            if value is None:
                base.pop(name, None)
            else:
                base[name] = value
        return base

    def header(self, **changes: Any) -> dict[str, Any]:
        base: dict[str, Any] = {"alg": "RS256", "kid": self.rsa.kid, "typ": "JWT"}
        base.update(changes)
        return {k: v for k, v in base.items() if v is not None}

    def rs(self, header: dict[str, Any] | None = None, **claims: Any) -> str:
        """A token signed by the real RSA key (the service's signing key)."""
        return forge(header or self.header(), self.claims(**claims), self.sign_rs)

    def good(self) -> str:
        return self.rs()


@pytest.fixture(scope="module")
def signers(rsa_key: JWTKey) -> tuple[Signer, JWTKey, Signer]:
    """RSA signers, made once: loading and generating RSA keys is slow."""
    stranger = JWTKey.generate("RS256", kid="stranger")
    return rs256(rsa_key), stranger, rs256(stranger)


@pytest.fixture
def ctx(rsa_key: JWTKey, fake_clock: FakeClock, signers: tuple[Signer, JWTKey, Signer]) -> Ctx:
    hs = JWTKey.hmac(SECRET, kid="hs-1")
    service = TokenService(
        [rsa_key, hs], issuer=ISSUER, audience=AUDIENCE, leeway=LEEWAY, clock=fake_clock
    )
    return Ctx(service, rsa_key, hs, int(fake_clock.now()), *signers)


def _swap_last_char_same_bytes(segment_text: str) -> str:
    """Change the last character to another one that decodes to the same bytes.

    With len % 4 == 2 the last character carries 4 unused bits; with 3, 2 unused bits.
    Lenient decoders ignore them, so this text decodes to the same signature.
    """
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    unused = {2: 4, 3: 2}[len(segment_text) % 4]
    index = alphabet.index(segment_text[-1])
    return segment_text[:-1] + alphabet[index | ((1 << unused) - 1)]


def _seg(c: Ctx, position: int) -> str:
    return c.good().split(".")[position]


def _replace_segment(token: str, position: int, text: str) -> str:
    parts = token.split(".")
    parts[position] = text
    return ".".join(parts)


Case = Callable[[Ctx], tuple[str, str]]  # -> (bad token, valid twin)

CASES: dict[str, tuple[Case, str]] = {
    # --- algorithm and key confusion ----------------------------------------------------
    "alg none, empty signature": (
        lambda c: (forge(c.header(alg="none"), c.claims(), None), c.good()),
        "malformed",
    ),
    "alg none with a signature": (
        lambda c: (forge(c.header(alg="none"), c.claims(), hs256(b"x")), c.good()),
        "alg_not_allowed",
    ),
    "alg NONE spelled otherwise": (
        lambda c: (forge(c.header(alg="None"), c.claims(), hs256(b"x")), c.good()),
        "alg_not_allowed",
    ),
    "HS256 signed with the RSA public key (PEM) as secret": (
        lambda c: (
            forge(c.header(alg="HS256"), c.claims(), hs256(c.rsa.public_pem())),
            c.good(),
        ),
        "alg_key_mismatch",
    ),
    "HS256 with the public PEM and no kid": (
        lambda c: (
            forge(c.header(alg="HS256", kid=None), c.claims(), hs256(c.rsa.public_pem())),
            forge(c.header(kid=None), c.claims(), c.sign_rs),
        ),
        "alg_key_mismatch",
    ),
    "HS256 signed with the RSA public JWK as secret": (
        lambda c: (
            forge(
                c.header(alg="HS256"),
                c.claims(),
                hs256(json.dumps(c.rsa.public_jwk()).encode()),
            ),
            c.good(),
        ),
        "alg_key_mismatch",
    ),
    "RS256 header on the HMAC key": (
        lambda c: (
            forge(c.header(kid="hs-1"), c.claims(), hs256(SECRET)),
            forge(c.header(alg="HS256", kid="hs-1"), c.claims(), hs256(SECRET)),
        ),
        "alg_key_mismatch",
    ),
    "algorithm outside the allowlist": (
        lambda c: (forge(c.header(alg="HS512"), c.claims(), hs256(SECRET)), c.good()),
        "alg_not_allowed",
    ),
    # --- time claims --------------------------------------------------------------------
    "expired beyond leeway": (
        lambda c: (c.rs(exp=c.now - LEEWAY - 1), c.rs(exp=c.now - LEEWAY + 1)),
        "expired",
    ),
    "nbf in the future beyond leeway": (
        lambda c: (c.rs(nbf=c.now + LEEWAY + 1), c.rs(nbf=c.now + LEEWAY)),
        "not_yet_valid",
    ),
    "iat in the future beyond leeway": (
        lambda c: (c.rs(iat=c.now + LEEWAY + 1), c.rs(iat=c.now + LEEWAY)),
        "issued_in_future",
    ),
    "exp as a string": (lambda c: (c.rs(exp=str(c.now + 600)), c.good()), "bad_claim"),
    "exp as a boolean": (lambda c: (c.rs(exp=True), c.good()), "bad_claim"),
    "exp as a 401-digit integer": (lambda c: (c.rs(exp=10**400), c.good()), "bad_claim"),
    "auth_time as a 401-digit integer": (
        lambda c: (c.rs(auth_time=10**400), c.rs(auth_time=c.now)),
        "bad_claim",
    ),
    "nbf as NaN": (lambda c: (c.rs(nbf=float("nan")), c.rs(nbf=c.now)), "bad_claim"),
    "iat before 1970": (lambda c: (c.rs(iat=-1), c.rs(iat=0)), "bad_claim"),
    # --- issuer and audience ------------------------------------------------------------
    "wrong iss": (lambda c: (c.rs(iss="https://evil.example.com"), c.good()), "wrong_issuer"),
    "iss that is a prefix of the right one": (
        lambda c: (c.rs(iss=ISSUER[:-4]), c.good()),
        "wrong_issuer",
    ),
    "iss that contains the right one": (
        lambda c: (c.rs(iss=ISSUER + ".evil.com"), c.good()),
        "wrong_issuer",
    ),
    "iss as a list": (lambda c: (c.rs(iss=[ISSUER]), c.good()), "wrong_issuer"),
    "missing iss": (lambda c: (c.rs(iss=None), c.good()), "wrong_issuer"),
    "wrong aud": (lambda c: (c.rs(aud="other.example.com"), c.good()), "wrong_audience"),
    "aud that is a prefix of the right one": (
        lambda c: (c.rs(aud=AUDIENCE[:-4]), c.rs(aud=["other", AUDIENCE])),
        "wrong_audience",
    ),
    "aud list without ours": (
        lambda c: (c.rs(aud=["other", AUDIENCE + "x"]), c.rs(aud=[AUDIENCE])),
        "wrong_audience",
    ),
    "missing aud": (lambda c: (c.rs(aud=None), c.good()), "wrong_audience"),
    # --- required claims ----------------------------------------------------------------
    "missing exp": (lambda c: (c.rs(exp=None), c.good()), "missing_claim"),
    "missing iat": (lambda c: (c.rs(iat=None), c.good()), "missing_claim"),
    "missing jti": (lambda c: (c.rs(jti=None), c.good()), "missing_claim"),
    "missing type": (lambda c: (c.rs(type=None), c.good()), "missing_claim"),
    "missing sub": (lambda c: (c.rs(sub=None), c.good()), "missing_claim"),
    "sub not a string": (lambda c: (c.rs(sub=42), c.good()), "bad_claim"),
    # --- header members that smuggle keys or rules --------------------------------------
    "unknown crit header": (
        lambda c: (c.rs(c.header(crit=["exp"], exp=1)), c.good()),
        "forbidden_header",
    ),
    "jku pointing elsewhere": (
        lambda c: (c.rs(c.header(jku="https://evil.example.com/jwks.json")), c.good()),
        "forbidden_header",
    ),
    "x5u pointing elsewhere": (
        lambda c: (c.rs(c.header(x5u="https://evil.example.com/cert.pem")), c.good()),
        "forbidden_header",
    ),
    "embedded jwk of the attacker's key": (
        lambda c: (
            forge(
                c.header(alg="HS256", kid=None, jwk={"kty": "oct", "k": b64(b"a" * 32)}),
                c.claims(),
                hs256(b"a" * 32),
            ),
            c.good(),
        ),
        "forbidden_header",
    ),
    "embedded x5c chain": (
        lambda c: (c.rs(c.header(x5c=["MIIB"])), c.good()),
        "forbidden_header",
    ),
    "b64 false (unencoded payload)": (
        lambda c: (c.rs(c.header(b64=False)), c.good()),
        "forbidden_header",
    ),
    "typ of another token kind": (
        lambda c: (c.rs(c.header(typ="secevent+jwt")), c.rs(c.header(typ="jwt"))),
        "bad_header",
    ),
    # --- key ids --------------------------------------------------------------------------
    "unknown kid": (
        lambda c: (
            forge(c.header(kid="retired-2019"), c.claims(), c.sign_stranger),
            c.good(),
        ),
        "unknown_kid",
    ),
    "unknown kid on a token signed with our key": (
        lambda c: (c.rs(c.header(kid="rsa-2")), c.good()),
        "unknown_kid",
    ),
    "kid with a path": (
        lambda c: (c.rs(c.header(kid="../../../../dev/null")), c.good()),
        "malformed_kid",
    ),
    "kid with SQL": (
        lambda c: (c.rs(c.header(kid="x' UNION SELECT 'secret")), c.good()),
        "malformed_kid",
    ),
    "kid not a string": (lambda c: (c.rs(c.header(kid=["rsa-1"])), c.good()), "malformed_kid"),
    # --- tampering ----------------------------------------------------------------------
    "tampered payload": (
        lambda c: (
            _replace_segment(c.good(), 1, segment(c.claims(sub="admin"))),
            c.good(),
        ),
        "bad_signature",
    ),
    "tampered signature": (
        lambda c: (
            _replace_segment(c.good(), 2, b64(b"\x00" * 256)),
            c.good(),
        ),
        "bad_signature",
    ),
    "signature from another RSA key": (
        lambda c: (
            forge(c.header(), c.claims(), c.sign_stranger),
            c.good(),
        ),
        "bad_signature",
    ),
    # --- encoding -----------------------------------------------------------------------
    "non-canonical base64 (unused bits set in the signature)": (
        lambda c: (_replace_segment(c.good(), 2, _swap_last_char_same_bytes(_seg(c, 2))), c.good()),
        "non_canonical",
    ),
    "padding on a segment": (
        lambda c: (_replace_segment(c.good(), 0, c.good().split(".")[0] + "="), c.good()),
        "non_canonical",
    ),
    "standard base64 alphabet (+ and /)": (
        lambda c: (c.good().replace("-", "+").replace("_", "/"), c.good()),
        "non_canonical",
    ),
    "non-base64 characters": (
        lambda c: (_replace_segment(c.good(), 1, "!!!!" + c.good().split(".")[1][4:]), c.good()),
        "non_canonical",
    ),
    "non-JSON header": (
        lambda c: (forge(b"not json at all", c.claims(), c.sign_rs), c.good()),
        "bad_header",
    ),
    "header is a JSON array": (
        lambda c: (forge(b'["RS256"]', c.claims(), c.sign_rs), c.good()),
        "bad_header",
    ),
    "duplicate alg in header": (
        lambda c: (
            forge(
                (f'{{"alg":"RS256","kid":"{c.rsa.kid}","alg":"none"}}').encode(),
                c.claims(),
                c.sign_rs,
            ),
            c.good(),
        ),
        "bad_header",
    ),
    "duplicate sub in payload": (
        lambda c: (
            forge(
                c.header(),
                json.dumps(c.claims())[:-1].encode() + b',"sub":"admin"}',
                c.sign_rs,
            ),
            c.good(),
        ),
        "bad_payload",
    ),
    "payload is not an object": (
        lambda c: (forge(c.header(), b"[1,2,3]", c.sign_rs), c.good()),
        "bad_payload",
    ),
    "non-ASCII token": (
        lambda c: (c.good()[:-1] + "é", c.good()),
        "malformed",
    ),
    # --- shape and size -----------------------------------------------------------------
    "truncated signature": (
        lambda c: (c.good()[:-10], c.good()),
        "bad_signature",
    ),
    "truncated to two segments": (
        lambda c: (c.good().rsplit(".", 1)[0], c.good()),
        "malformed",
    ),
    "empty signature segment": (
        lambda c: (c.good().rsplit(".", 1)[0] + ".", c.good()),
        "malformed",
    ),
    "four segments": (lambda c: (c.good() + ".e30", c.good()), "malformed"),
    "JWE (five segments)": (
        lambda c: ("e30.e30.e30.e30.e30", c.good()),
        "malformed",
    ),
    "empty string": (lambda c: ("", c.good()), "malformed"),
    "oversized (over 8 KiB, validly signed)": (
        lambda c: (c.rs(pad="x" * 8192), c.rs(pad="x" * 5000)),
        "too_large",
    ),
    # --- token types --------------------------------------------------------------------
    "refresh token used as access token": (
        lambda c: (c.rs(type="refresh", sid="s1"), c.rs(type="access")),
        "wrong_type",
    ),
    "unknown token type": (lambda c: (c.rs(type="id"), c.good()), "bad_claim"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_attack_is_refused_and_twin_verifies(name: str, ctx: Ctx) -> None:
    """The bad token raises InvalidToken for its reason; the valid twin verifies."""
    build, reason = CASES[name]
    bad, good = build(ctx)
    assert ctx.service.verify_access(good).sub == "user-1"
    with capture_logs() as logs, pytest.raises(InvalidToken) as caught:
        ctx.service.verify_access(bad)
    assert caught.value.message == "The token is invalid or has expired"
    events = [e for e in logs if e["event"] == "token_rejected"]
    assert [e["reason"] for e in events] == [reason]
    # The token never reaches the logs, whole or in part.
    rendered = repr(logs)
    assert all(part not in rendered for part in bad.split(".") if len(part) >= 8)


def test_rsa_only_service_refuses_hs256_by_allowlist(
    rsa_key: JWTKey, fake_clock: FakeClock
) -> None:
    """With only RSA keys, HS256 is not even in the allowlist; RS256 twin verifies."""
    service = TokenService(rsa_key, clock=fake_clock)
    now = int(fake_clock.now())
    claims = {"sub": "u", "type": "access", "jti": "j", "iat": now, "exp": now + 60}
    bad = forge({"alg": "HS256", "kid": rsa_key.kid}, claims, hs256(rsa_key.public_pem()))
    good = forge({"alg": "RS256", "kid": rsa_key.kid}, claims, rs256(rsa_key))
    assert service.verify_access(good).sub == "u"
    with capture_logs() as logs, pytest.raises(InvalidToken):
        service.verify_access(bad)
    assert logs[0]["reason"] == "alg_not_allowed"


def test_access_token_is_refused_as_refresh(service: TokenService) -> None:
    """An access token never passes where a refresh token is expected, and back."""
    pair = service.issue_pair("user-1")
    with pytest.raises(InvalidToken):
        service.verify_refresh(pair.access_token)
    with pytest.raises(InvalidToken):
        service.refresh(pair.access_token)
    with pytest.raises(InvalidToken):
        service.verify_access(pair.refresh_token)
    # Valid twins.
    assert service.verify_refresh(pair.refresh_token).type == "refresh"
    assert service.verify_access(pair.access_token).type == "access"


_B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_OTHER_CHARS = ".=+/ !\"%&'*~\\\x00\n"


@pytest.fixture(scope="module")
def property_tokens() -> dict[str, tuple[TokenService, str]]:
    clock = FakeClock()
    made = {}
    for alg in ("HS256", "ES256", "EdDSA"):
        service = TokenService(JWTKey.generate(alg), issuer=ISSUER, clock=clock)
        made[alg] = (service, service.issue_access("user-1", claims={"roles": ["a"]}))
    return made


@pytest.mark.parametrize("alg", ["HS256", "ES256", "EdDSA"])
@hsettings(max_examples=300)
@given(data=st.data())
def test_any_single_character_change_fails(
    alg: str, data: st.DataObject, property_tokens: dict[str, tuple[TokenService, str]]
) -> None:
    """Changing any one character of a valid token (to any other) makes it fail."""
    service, token = property_tokens[alg]
    index = data.draw(st.integers(0, len(token) - 1), label="index")
    replacement = data.draw(
        st.sampled_from(_B64_CHARS + _OTHER_CHARS).filter(lambda ch: ch != token[index]),
        label="replacement",
    )
    changed = token[:index] + replacement + token[index + 1 :]
    with capture_logs(), pytest.raises(InvalidToken):
        service.verify_access(changed)


@pytest.mark.parametrize("alg", ["HS256", "ES256", "EdDSA"])
def test_property_twin_the_unchanged_token_verifies(
    alg: str, property_tokens: dict[str, tuple[TokenService, str]]
) -> None:
    """The valid twin of the property: the unchanged token verifies."""
    service, token = property_tokens[alg]
    assert service.verify_access(token).sub == "user-1"


@pytest.mark.parametrize("alg", ["HS256"])
def test_every_single_character_change_fails_exhaustively(
    alg: str, property_tokens: dict[str, tuple[TokenService, str]]
) -> None:
    """Exhaustive twin of the property: every position, every base64url character."""
    service, token = property_tokens[alg]
    failures = []
    with capture_logs():  # thousands of rejections: keep them off the console
        _try_every_change(service, token, failures)
    assert failures == []


def _try_every_change(service: TokenService, token: str, failures: list[tuple[int, str]]) -> None:
    for index, original in enumerate(token):
        for replacement in _B64_CHARS + ".":
            if replacement == original:
                continue
            changed = token[:index] + replacement + token[index + 1 :]
            try:
                service.verify_access(changed)
            except InvalidToken:
                continue
            failures.append((index, replacement))
