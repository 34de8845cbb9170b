"""Credentials: Bearer parsing, cookie transport with CSRF, principals, roles and scopes."""

from __future__ import annotations

import pytest

from backendkit.auth import JWTKey, TokenService
from backendkit.errors import ConfigurationError, Forbidden, InvalidToken, Unauthenticated
from backendkit.settings import Settings
from backendkit.testing import FakeClock
from backendkit.web import (
    CookieAuth,
    Principal,
    WebKit,
    aauthenticate,
    auth_cookie_headers,
    authenticate,
    bearer_token,
    check_roles,
    check_scopes,
    credentials,
    new_csrf_token,
    principal_from_claims,
)

SETTINGS = Settings(env="test")


def make_kit(cookie_auth: CookieAuth | None = None) -> WebKit:
    tokens = TokenService(JWTKey.hmac("s" * 32), store="memory://", clock=FakeClock())
    return WebKit.from_settings(SETTINGS, tokens=tokens, cookie_auth=cookie_auth)


@pytest.mark.parametrize(("header", "token"), [(None, None), ("", None), ("  ", None)])
def test_absent_authorization_is_none(header: str | None, token: str | None) -> None:
    """No header (or a blank one) means no credentials, not an error."""
    assert bearer_token(header) is token


@pytest.mark.parametrize("header", ["Bearer abc", "bearer a.b.c", "BEARER  x-y_z~+/==  "])
def test_bearer_tokens_are_extracted(header: str) -> None:
    """The scheme is case-insensitive and RFC 6750 token characters are accepted."""
    assert bearer_token(header) == header.split()[-1]


@pytest.mark.parametrize(
    "header", ["Basic abc", "Bearer", "Bearer a b", "Token abc", "Bearer a\nb", "Bearer é"]
)
def test_malformed_authorization_is_401_with_challenge(header: str) -> None:
    """A malformed header is Unauthenticated with WWW-Authenticate: Bearer."""
    with pytest.raises(Unauthenticated) as info:
        bearer_token(header)
    assert info.value.headers["WWW-Authenticate"] == "Bearer"


def test_cookie_is_ignored_without_cookie_transport() -> None:
    """Cookies are not credentials unless cookie transport is configured."""
    kit = make_kit()
    assert (
        credentials(
            kit, method="GET", authorization=None, cookies={"access_token": "t"}, headers={}
        )
        is None
    )


def test_bearer_wins_over_cookie() -> None:
    """An Authorization header is used even when a cookie is present (no CSRF needed)."""
    kit = make_kit(CookieAuth())
    found = credentials(
        kit,
        method="POST",
        authorization="Bearer header-token",
        cookies={"access_token": "cookie-token"},
        headers={},
    )
    assert found == "header-token"


def test_cookie_on_safe_method_needs_no_csrf() -> None:
    """GET with the auth cookie is authenticated without the CSRF header."""
    kit = make_kit(CookieAuth())
    found = credentials(
        kit, method="GET", authorization=None, cookies={"access_token": "c"}, headers={}
    )
    assert found == "c"


@pytest.mark.parametrize(
    ("cookies", "headers"),
    [
        ({"access_token": "c"}, {}),
        ({"access_token": "c", "csrf_token": "x"}, {}),
        ({"access_token": "c", "csrf_token": "x"}, {"X-CSRF-Token": "y"}),
        ({"access_token": "c"}, {"X-CSRF-Token": ""}),
    ],
)
def test_cookie_on_unsafe_method_needs_matching_csrf(
    cookies: dict[str, str], headers: dict[str, str]
) -> None:
    """POST with the cookie but a missing or different CSRF echo is Forbidden."""
    kit = make_kit(CookieAuth())
    with pytest.raises(Forbidden, match="CSRF"):
        credentials(kit, method="POST", authorization=None, cookies=cookies, headers=headers)


def test_cookie_on_unsafe_method_with_matching_csrf() -> None:
    """The valid twin: the CSRF header equal to the cookie passes."""
    kit = make_kit(CookieAuth())
    found = credentials(
        kit,
        method="DELETE",
        authorization=None,
        cookies={"access_token": "c", "csrf_token": "same"},
        headers={"X-CSRF-Token": "same"},
    )
    assert found == "c"


def test_no_cookie_means_no_credentials() -> None:
    """Cookie transport on, but no cookie: anonymous."""
    kit = make_kit(CookieAuth())
    assert credentials(kit, method="POST", authorization=None, cookies={}, headers={}) is None


def test_auth_cookie_headers() -> None:
    """Login cookies: the access cookie HttpOnly, the CSRF cookie readable, both Secure."""
    access, csrf = auth_cookie_headers(CookieAuth(), "tok", max_age=900, csrf_token="c1")
    assert access == "access_token=tok; Path=/; Max-Age=900; SameSite=Lax; Secure; HttpOnly"
    assert csrf == "csrf_token=c1; Path=/; Max-Age=900; SameSite=Lax; Secure"
    plain = auth_cookie_headers(CookieAuth(secure=False, samesite="strict"), "t", max_age=1)
    assert "Secure" not in plain[0]
    assert "SameSite=Strict" in plain[0]
    assert plain[1].startswith("csrf_token=")
    assert len(plain[1].split(";")[0]) > 30


def test_csrf_tokens_are_random() -> None:
    """Each CSRF token is new and long."""
    assert new_csrf_token() != new_csrf_token()
    assert len(new_csrf_token()) >= 43


def test_authenticate_builds_a_principal() -> None:
    """A verified token becomes a Principal with roles and scopes."""
    kit = make_kit()
    assert kit.tokens is not None
    token = kit.tokens.issue_access("u1", claims={"roles": ["admin"], "scope": "read write"})
    principal = authenticate(kit, token)
    assert principal.user_id == "u1"
    assert principal.roles == {"admin"}
    assert principal.scopes == {"read", "write"}
    assert principal.claims["roles"] == ["admin"]


async def test_aauthenticate_builds_a_principal() -> None:
    """The async twin verifies the same way."""
    kit = make_kit()
    assert kit.tokens is not None
    token = kit.tokens.issue_access("u2", claims={"scopes": ["a"], "roles": "ops dev"})
    principal = await aauthenticate(kit, token)
    assert (principal.user_id, principal.roles, principal.scopes) == (
        "u2",
        frozenset({"ops", "dev"}),
        frozenset({"a"}),
    )


async def test_invalid_tokens_are_rejected() -> None:
    """A tampered token is InvalidToken in both twins."""
    kit = make_kit()
    with pytest.raises(InvalidToken):
        authenticate(kit, "a.b.c")
    with pytest.raises(InvalidToken):
        await aauthenticate(kit, "a.b.c")


def test_authentication_needs_a_token_service() -> None:
    """Without a TokenService (a kit built by hand) the kit cannot authenticate."""
    with pytest.raises(ConfigurationError):
        authenticate(WebKit(settings=SETTINGS), "t")


def test_principal_from_claims_ignores_odd_claim_types() -> None:
    """Roles given as a number are no roles at all."""

    class Claims:
        sub = 7

        def get(self, name: str) -> object:
            return {"roles": 5}.get(name)

    principal = principal_from_claims(Claims())
    assert principal.user_id == "7"
    assert principal.roles == frozenset()


def test_roles_need_any_and_scopes_need_all() -> None:
    """check_roles passes with one role of several; check_scopes needs every scope."""
    principal = Principal("u", roles=frozenset({"editor"}), scopes=frozenset({"a", "b"}))
    check_roles(principal, ["admin", "editor"])
    check_roles(principal, [])
    check_scopes(principal, ["a", "b"])
    with pytest.raises(Forbidden):
        check_roles(principal, ["admin"])
    with pytest.raises(Forbidden):
        check_scopes(principal, ["a", "c"])


def test_principal_is_authenticated_and_not_anonymous() -> None:
    """Django, DRF and Flask-Login read these flags on request.user."""
    principal = Principal("u")
    assert principal.is_authenticated is True
    assert principal.is_anonymous is False
