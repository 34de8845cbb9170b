"""What the per-framework samples of the OIDC and one-time-token guides must do, written
once and run against each framework through a ``Send`` (see
test_snippets_auth_frameworks.py; Django's runs in an interpreter of its own)."""

from __future__ import annotations

import functools
import importlib.util
import runpy
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from backendkit.auth import JWTKey, MemoryOneTimeTokenStore, OIDCProvider, OneTimeTokens
from backendkit.errors import InvalidToken
from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
from backendkit.settings import Settings
from backendkit.testing import TokenFactory
from backendkit.web import WebKit

SNIPPETS = Path(__file__).resolve().parents[2] / "docs" / "snippets"
ISSUER = "https://login.example.com/realms/main"
AUDIENCE = "https://api.example.com"
SETTINGS = Settings(env="test", secret_key="auth-framework-samples-secret-0123456789")
#: ``send(method, path, headers, json body or None)`` -> status and JSON body (None if empty).
Send = Callable[[str, str, dict[str, str], Any], tuple[int, Any]]


def load(name: str) -> ModuleType:
    """Import a snippet as a module (Django resolves URLconfs by module name)."""
    module_name = f"docs_snippet_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, SNIPPETS / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


@functools.cache
def provider_key() -> JWTKey:
    """The key that plays the provider's (RSA keys are slow to make: one per process)."""
    return JWTKey.generate("RS256", kid="provider-key")


def oidc_kit() -> WebKit:
    """The guide's kit (fresh user and link tables) with the provider's keys pinned."""
    build = runpy.run_path(str(SNIPPETS / "oidc_links.py"))["build_kit"]
    kit: WebKit = build(SETTINGS, OIDCProvider(ISSUER, keys=[provider_key()]))
    return kit


def provider_bearer(**claims: Any) -> dict[str, str]:
    """An Authorization header with a provider access token."""
    token = TokenFactory().token({"iss": ISSUER, "aud": AUDIENCE, **claims}, key=provider_key())
    return {"Authorization": f"Bearer {token}"}


def check_oidc(kit: WebKit, send: Send) -> None:
    """A provider's sub "1" is linked to a new local user (role ``user``), the same one
    next time; it cannot update user 1 but can update itself; the app's own token for user
    1 acts as user 1; a provider's "admin" role grants nothing; another audience: 401."""
    one = provider_bearer(sub="1")
    status, body = send("GET", "/api/v1/users/me", one, None)
    assert status == 200, body
    linked = body["data"]
    assert linked["id"] != "1"
    assert (linked["role"], linked["via"]) == ("user", "provider")
    assert send("GET", "/api/v1/users/me", one, None)[1]["data"]["id"] == linked["id"]
    status, refused = send("PUT", "/api/v1/users/1", one, {})
    assert (status, refused["error"]["code"]) == (403, "FORBIDDEN")
    assert send("PUT", f"/api/v1/users/{linked['id']}", one, {})[0] == 200
    assert kit.tokens is not None
    own = {"Authorization": "Bearer " + kit.tokens.issue_access("1")}
    status, body = send("GET", "/api/v1/users/me", own, None)
    assert (status, body["data"]) == (200, {"id": "1", "role": "admin", "via": "bearer"})
    assert send("PUT", "/api/v1/users/1", own, {})[0] == 200
    admin_claims = provider_bearer(sub="2", realm_access={"roles": ["admin"]}, roles=["admin"])
    assert send("GET", "/api/v1/users/me", admin_claims, None)[1]["data"]["role"] == "user"
    status, body = send("GET", "/api/v1/users/me", provider_bearer(aud="other-api"), None)
    assert (status, body["error"]["code"]) == (401, "INVALID_TOKEN")


@dataclass
class ResetWorld:
    """What the reset routes are handed: the token service, one account, a mail outbox."""

    tokens: OneTimeTokens
    passwords: dict[str, str] = field(default_factory=dict)
    outbox: list[str] = field(default_factory=list)
    accounts: dict[str, str] = field(default_factory=lambda: {"ann@example.com": "7"})

    def send(self, email: str, purpose: str, token: str) -> None:
        """The sender: keeps the token instead of mailing a link."""
        self.outbox.append(token)

    def find_user(self, email: str) -> str | None:
        return self.accounts.get(email)

    def set_password(self, user_id: str, password: str) -> None:
        self.passwords[user_id] = password

    async def afind_user(self, email: str) -> str | None:
        return self.find_user(email)

    async def aset_password(self, user_id: str, password: str) -> None:
        self.set_password(user_id, password)

    def parts(self, asynchronous: bool) -> tuple[OneTimeTokens, Callable[..., Any], Any]:
        """The arguments the sample's factory takes after the kit."""
        if asynchronous:
            find: Callable[[str], Awaitable[str | None]] = self.afind_user
            return self.tokens, find, self.aset_password
        return self.tokens, self.find_user, self.set_password


def reset_world(asynchronous: bool) -> ResetWorld:
    """A token service on the memory store whose sender is the world's outbox."""
    world = ResetWorld(tokens=None)  # type: ignore[arg-type]
    limiter = AsyncRateLimiter("memory://") if asynchronous else RateLimiter("memory://")
    world.tokens = OneTimeTokens.from_settings(
        SETTINGS, MemoryOneTimeTokenStore(), sender=world, limiter=limiter
    )
    return world


def check_reset(kit: WebKit, world: ResetWorld, send: Send) -> None:
    """202 with one body for a known and an unknown email, a token mailed for the known
    one only; a weak password 400 VALIDATION_ERROR; the token resets once (204), ends the
    account's sessions, then is a 400 BAD_REQUEST like garbage."""
    assert kit.tokens is not None
    session = kit.tokens.issue_access("7")
    kit.tokens.verify_access(session, check_revoked=True)
    answers = [
        send("POST", "/api/v1/auth/password-reset", {}, {"email": email})
        for email in ("ann@example.com", "nobody@example.com", "not an email")
    ]
    assert [status for status, _ in answers] == [202, 202, 202]
    assert answers[0][1] == answers[1][1] == answers[2][1]
    assert len(world.outbox) == 1
    token = world.outbox[0]
    confirm = "/api/v1/auth/password-reset/confirm"
    status, weak = send("POST", confirm, {}, {"token": token, "password": "short"})
    assert (status, weak["error"]["code"]) == (400, "VALIDATION_ERROR")
    assert send("POST", confirm, {}, {"token": token, "password": "a long new passphrase"}) == (
        204,
        None,
    )
    assert world.passwords == {"7": "a long new passphrase"}
    try:
        kit.tokens.verify_access(session, check_revoked=True)
        raise AssertionError("the session outlived the reset")
    except InvalidToken:
        pass
    for bad in (token, "garbage"):
        status, body = send("POST", confirm, {}, {"token": bad, "password": "another passphrase"})
        assert (status, body["error"]["code"]) == (400, "BAD_REQUEST")
