"""The auth guides' samples run, and the functions they define behave as the text says."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import bcrypt
import pytest

from backendkit.auth import PREHASH_PREFIX, JWTKey, PasswordHasher, RedisTokenStore
from backendkit.errors import InvalidToken, Unauthenticated, ValidationFailed
from backendkit.settings import Settings
from backendkit.testing import TestingPasswordHasher

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "docs" / "snippets"


def _run(name: str) -> dict[str, Any]:
    return runpy.run_path(str(SNIPPETS / f"{name}.py"))


@pytest.mark.parametrize(
    "name",
    ["auth_tokens_quickstart", "auth_keys", "auth_key_rotation", "auth_revocation", "auth_testing"],
)
def test_self_checking_snippet_runs(name: str) -> None:
    """Each self-checking snippet runs to completion (its asserts are the checks)."""
    _run(name)


@pytest.fixture
def hasher() -> TestingPasswordHasher:
    return TestingPasswordHasher(allow=True)


def test_login_flow_snippet(hasher: TestingPasswordHasher) -> None:
    """register/login: right password passes, wrong or unknown fail alike, old hashes upgrade."""
    module = _run("auth_passwords")
    assert isinstance(module["hasher"], PasswordHasher)
    assert module["hasher"].cost == 12
    users: dict[str, Any] = {}
    module["register"](users, "a@example.com", "correct horse", hasher)
    assert module["login"](users, "a@example.com", "correct horse", hasher).email == "a@example.com"
    for email, password in (("a@example.com", "wrong"), ("nobody@example.com", "x")):
        with pytest.raises(Unauthenticated) as caught:
            module["login"](users, email, password, hasher)
        assert caught.value.message == "Invalid email or password"
    with pytest.raises(ValidationFailed):
        module["register"](users, "b@example.com", "x" * 73, hasher)
    legacy = bcrypt.hashpw(b"old pw", bcrypt.gensalt(5, prefix=b"2a")).decode()
    users["c@example.com"] = module["User"]("c@example.com", legacy)
    module["login"](users, "c@example.com", "old pw", hasher)
    assert users["c@example.com"].password_hash.startswith("$2b$04$")


async def test_async_login_snippet(hasher: TestingPasswordHasher) -> None:
    """alogin behaves like login."""
    module = _run("auth_passwords")
    users: dict[str, Any] = {}
    module["register"](users, "a@example.com", "pw", hasher)
    assert (await module["alogin"](users, "a@example.com", "pw", hasher)).email == "a@example.com"
    with pytest.raises(Unauthenticated):
        await module["alogin"](users, "a@example.com", "nope", hasher)
    with pytest.raises(Unauthenticated):
        await module["alogin"](users, "z@example.com", "pw", hasher)
    legacy = bcrypt.hashpw(b"pw", bcrypt.gensalt(5)).decode()
    users["c@example.com"] = module["User"]("c@example.com", legacy)
    await module["alogin"](users, "c@example.com", "pw", hasher)
    assert users["c@example.com"].password_hash.startswith("$2b$04$")
    hasher.close()


def test_prehash_snippet() -> None:
    """The pre-hash sample upgrades plain hashes; truncated legacy ones only when opted in."""
    module = _run("auth_prehash")
    assert module["hasher"].prehash
    assert not module["hasher"].legacy_truncation
    assert module["importing_hasher"].legacy_truncation
    fast = TestingPasswordHasher(allow=True, prehash=True, pepper="p" * 32)
    importing = TestingPasswordHasher(
        allow=True, prehash=True, pepper="p" * 32, legacy_truncation=True
    )
    # A plain hash of a short password: upgraded at login by either hasher.
    plain = bcrypt.hashpw(b"short", bcrypt.gensalt(4)).decode()
    upgraded = module["upgrade_on_login"](fast, "short", plain)
    assert module["is_prehashed"](upgraded)
    assert fast.verify("short", upgraded)
    assert module["upgrade_on_login"](fast, "wrong", plain) is None
    # A hash old bcrypt made from the first 72 bytes of a long password.
    long_password = "long " * 30
    legacy = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(4)).decode()
    assert module["upgrade_on_login"](fast, long_password, legacy) is None
    upgraded = module["upgrade_on_login"](importing, long_password, legacy)
    assert upgraded.startswith(PREHASH_PREFIX)
    assert fast.verify(long_password, upgraded)
    assert not fast.verify(long_password[:72], upgraded)


async def test_redis_store_snippet(redis_url: str, redis_prefix: str) -> None:
    """build() wires one Redis for both APIs, with the revocation check on."""
    module = _run("auth_redis_store")
    settings = Settings(env="test", redis_url=redis_url, refresh_grace_seconds=2)
    service = module["build"](settings, JWTKey.generate("HS256"), key_prefix=redis_prefix)
    store = service.store
    assert isinstance(store, RedisTokenStore)
    pair = service.issue_pair("user-42")
    assert service.verify_access(pair.access_token).sub == "user-42"
    pair = await service.arefresh(pair.refresh_token)
    await service.arevoke(pair.refresh_token)
    with pytest.raises(InvalidToken):
        service.verify_access(pair.access_token)  # check_revocation=True
    store.close()
    await store.aclose()


def test_tokens_guide_lists_every_rejection_reason() -> None:
    """Every reason the code can log for a refused token is explained in the guide."""
    import re

    source = "".join(
        (ROOT / "src" / "backendkit" / "auth" / name).read_text()
        for name in ("_jwt.py", "_claims.py", "_tokens.py", "_store.py", "_redis_store.py")
    )
    reasons = set(re.findall(r'\bRejected\("([a-z_]+)"\)', source))
    reasons |= set(re.findall(r"return '([a-z_]+)'", source))  # Lua check script
    reasons |= set(re.findall(r'return "([a-z_]+)"', source))  # memory store check
    reasons |= {"session_revoked", "session_unknown"}  # mapped from rotation results
    assert len(reasons) > 20
    guide = (ROOT / "docs" / "guide" / "tokens.md").read_text()
    missing = sorted(r for r in reasons if f"`{r}`" not in guide)
    assert missing == []
