"""Time claims of any JSON value, in a correctly signed token: verified or InvalidToken.

``exp``, ``iat``, ``nbf`` and ``auth_time`` come from the token's author. Once a token is
signed (by a leaked key, or by a bug in another issuer sharing the key) its values reach
the claim checks as JSON decoded them: integers of any size, floats including NaN and the
infinities, booleans, strings, lists, objects, null. None of these may escape as anything
but the generic ``InvalidToken`` (401): an ``OverflowError`` is a 500.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from tests.unit.auth._forge import b64, forge, hs256
from tests.unit.auth.conftest import AUDIENCE, ISSUER, SECRET

from backendkit.auth import JWTKey, TokenService
from backendkit.errors import InvalidToken
from backendkit.testing import FakeClock, capture_logs

TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time")
HEADER = {"alg": "HS256", "kid": "hs-1", "typ": "JWT"}
# The last second datetime can represent (9999-12-31T23:59:59Z): the largest time accepted.
MAX_TIME = 253_402_300_799

_json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
CLAIM_VALUES = st.one_of(
    st.integers(),
    st.integers(min_value=10**15, max_value=10**400),
    st.integers(min_value=-(10**400), max_value=-1),
    st.sampled_from([10**400, -(10**400), 2**63, 2**64, -(2**63), MAX_TIME, MAX_TIME + 1]),
    st.floats(),  # NaN, the infinities, subnormals, -0.0, 1e308
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324]),
    st.booleans(),
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["1700000000", "", "NaN", "1e400"]),
    st.lists(_json_leaf, max_size=3),
    st.dictionaries(st.text(max_size=4), _json_leaf, max_size=3),
)


def _service(clock: FakeClock) -> TokenService:
    return TokenService(
        JWTKey.hmac(SECRET, kid="hs-1"), issuer=ISSUER, audience=AUDIENCE, clock=clock
    )


def _claims(now: int, token_type: str = "access", **changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "user-1",
        "type": token_type,
        "jti": "jti-1",
        "iat": now,
        "exp": now + 600,
        "nbf": now,
        "auth_time": now,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    if token_type == "refresh":
        claims["sid"] = "sid-1"
    claims.update(changes)
    return claims


def _signed(payload: dict[str, Any] | bytes) -> str:
    # forge() writes NaN and Infinity as json.dumps does (not strict JSON, but what a
    # careless issuer emits and json.loads reads back).
    return forge(HEADER, payload, hs256(SECRET))


def _verify_every_way(service: TokenService, token: str) -> None:
    """Run each verification path; each must succeed or raise InvalidToken, nothing else."""
    for verify in (service.verify_access, service.verify_refresh):
        with contextlib.suppress(InvalidToken):
            verify(token)


@pytest.mark.parametrize("name", TIME_CLAIMS)
@hsettings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(value=CLAIM_VALUES, token_type=st.sampled_from(["access", "refresh"]))
def test_any_time_claim_value_verifies_or_is_invalid_token(
    name: str, value: Any, token_type: str
) -> None:
    """Whatever JSON value a time claim holds, verification raises only InvalidToken."""
    clock = FakeClock()
    service = _service(clock)
    token = _signed(_claims(int(clock.now()), token_type, **{name: value}))
    _verify_every_way(service, token)


@pytest.mark.parametrize("name", TIME_CLAIMS)
@hsettings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(value=CLAIM_VALUES)
def test_refresh_rotation_survives_any_time_claim(name: str, value: Any) -> None:
    """A refresh token of a real session with a hostile time claim: a pair or InvalidToken."""
    clock = FakeClock()
    service = _service(clock)
    pair = service.issue_pair("user-1")
    real = service.verify_refresh(pair.refresh_token)
    payload = _claims(int(clock.now()), "refresh", jti=real.jti, sid=real.sid, **{name: value})
    with contextlib.suppress(InvalidToken):
        service.refresh(_signed(payload))


@pytest.mark.parametrize("name", TIME_CLAIMS)
@pytest.mark.parametrize(
    "value",
    [10**400, -(10**400), 2**64, MAX_TIME + 1, math.nan, math.inf, -math.inf, 1e308, -1],
    ids=["1e400-int", "-1e400-int", "2^64", "year-10000", "nan", "inf", "-inf", "1e308", "-1"],
)
def test_out_of_range_time_claims_are_bad_claims(name: str, value: Any) -> None:
    """Huge, negative and non-finite times are refused as ``bad_claim`` (a clean 401)."""
    clock = FakeClock()
    service = _service(clock)
    with capture_logs() as logs, pytest.raises(InvalidToken):
        service.verify_access(_signed(_claims(int(clock.now()), **{name: value})))
    assert [e["reason"] for e in logs if e["event"] == "token_rejected"] == ["bad_claim"]


@pytest.mark.parametrize("name", TIME_CLAIMS)
@pytest.mark.parametrize("value", [True, False, "1700000000", [1700000000], {"t": 1}])
def test_non_numeric_time_claims_are_bad_claims(name: str, value: Any) -> None:
    """Booleans, strings, lists and objects are not times."""
    clock = FakeClock()
    service = _service(clock)
    with capture_logs() as logs, pytest.raises(InvalidToken):
        service.verify_access(_signed(_claims(int(clock.now()), **{name: value})))
    assert [e["reason"] for e in logs if e["event"] == "token_rejected"] == ["bad_claim"]


def test_integer_too_long_for_python_to_parse_is_invalid_token() -> None:
    """5,000 digits exceed Python's int parsing limit: the payload is refused, not a crash."""
    clock = FakeClock()
    service = _service(clock)
    text = json.dumps(_claims(int(clock.now()), exp=0)).replace('"exp": 0', '"exp": 1' + "0" * 5000)
    assert '"exp": 1000' in text
    token = f"{b64(json.dumps(HEADER).encode())}.{b64(text.encode())}"
    token += "." + b64(hs256(SECRET)(token.encode()))
    with pytest.raises(InvalidToken):
        service.verify_access(token)


@pytest.mark.parametrize("name", TIME_CLAIMS)
def test_legitimate_time_values_still_verify(name: str) -> None:
    """The valid twins: integer and fractional times, the epoch and the largest time."""
    clock = FakeClock()
    service = _service(clock)
    now = int(clock.now())
    future = {"exp": MAX_TIME, "iat": now, "nbf": now, "auth_time": now}[name]
    past = {"exp": now + 0.5, "iat": 0, "nbf": 0, "auth_time": 0}[name]
    for value in (future, past, now + 0.25 if name == "exp" else now - 0.25):
        change: dict[str, Any] = {name: value}
        claims = service.verify_access(_signed(_claims(now, **change)))
        assert claims[name] == value
