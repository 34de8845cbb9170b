"""PasswordHasher: bcrypt 5 safety, Unicode, the 72-byte rule, upgrades, dummy work, async."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import bcrypt
import pytest

import backendkit.auth._passwords as passwords_module
from backendkit.auth import PREHASH_PREFIX, PasswordHasher, VerifyResult, calibrate
from backendkit.errors import ConfigurationError, ValidationFailed
from backendkit.settings import Settings
from backendkit.testing import TestingPasswordHasher

PEPPER = b"pepper-0123456789abcdef"


def _legacy(password: bytes, ident: bytes = b"2b", cost: int = 4) -> str:
    """A hash as another system (or old bcrypt, which truncated at 72 bytes) made it."""
    made = bcrypt.hashpw(password[:72], bcrypt.gensalt(cost, prefix=b"2b")).decode()
    return f"${ident.decode()}$" + made[4:]  # $2a$/$2y$ differ from $2b$ only in the label


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, bytes]]:
    """Records every bcrypt check (password bytes, hash) the hasher performs."""
    calls: list[tuple[bytes, bytes]] = []
    real = passwords_module._checkpw

    def recording(password: bytes, hashed: bytes) -> bool:
        calls.append((password, hashed))
        return real(password, hashed)

    monkeypatch.setattr(passwords_module, "_checkpw", recording)
    return calls


# --- cost ------------------------------------------------------------------------------


def test_default_cost_is_12_and_the_minimum_is_10() -> None:
    """Cost 12 by default; below 10 is refused outside the testing hasher (no hashing here)."""
    assert PasswordHasher().cost == 12
    assert PasswordHasher(10).cost == 10
    for bad in (9, 4, 32, True, "12"):
        with pytest.raises(ConfigurationError, match="bcrypt cost"):
            PasswordHasher(bad)  # type: ignore[arg-type]


def test_testing_hasher_refuses_to_run_outside_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost-4 hasher needs env test/development, or allow=True."""
    monkeypatch.delenv("BACKENDKIT_ENV", raising=False)
    with pytest.raises(ConfigurationError, match="for tests"):
        TestingPasswordHasher()
    with pytest.raises(ConfigurationError, match="for tests"):
        TestingPasswordHasher(Settings(env="production", secret_key="k" * 16))
    assert TestingPasswordHasher(Settings(env="test")).cost == 4
    assert TestingPasswordHasher(Settings(env="development")).cost == 4
    assert TestingPasswordHasher(allow=True).cost == 4
    monkeypatch.setenv("BACKENDKIT_ENV", "test")
    assert TestingPasswordHasher().cost == 4
    with pytest.raises(ConfigurationError, match="from 4 to 31"):
        TestingPasswordHasher(cost=3)


def test_hash_uses_2b_and_the_configured_cost(hasher: PasswordHasher) -> None:
    """New hashes are $2b$ at the hasher's cost and verify."""
    stored = hasher.hash("correct horse battery staple")
    assert stored.startswith("$2b$04$")
    assert len(stored) == 60
    assert hasher.verify("correct horse battery staple", stored)
    assert not hasher.verify("correct horse battery stapler", stored)
    assert hasher.hash("same") != hasher.hash("same")  # salted


# --- Unicode -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "equivalent"),
    [("ﬁsh", "fish"), ("１２３４", "1234"), ("Å", "Å"), ("x²", "x2")],  # noqa: RUF001
)
def test_nfkc_equivalent_passwords_match(
    typed: str, equivalent: str, hasher: PasswordHasher
) -> None:
    """Passwords are NFKC-normalized: compatibility forms verify against each other."""
    stored = hasher.hash(typed)
    assert hasher.verify(equivalent, stored)
    assert hasher.verify(typed, stored)
    assert not hasher.verify(equivalent + "!", stored)


def test_unnormalized_legacy_hash_verifies_and_is_upgraded(hasher: PasswordHasher) -> None:
    """A hash of the raw (unnormalized) form verifies, and verify_and_update replaces it."""
    legacy = _legacy("ﬁsh".encode())
    assert hasher.verify("ﬁsh", legacy)
    assert not hasher.needs_rehash(legacy)  # the format is current...
    valid, new_hash = hasher.verify_and_update("ﬁsh", legacy)
    assert valid
    assert new_hash is not None  # ...but it only matched unnormalized, so it is replaced
    assert hasher.verify("fish", new_hash)
    assert hasher.verify_and_update("ﬁsh", new_hash) == VerifyResult(True, None)


# --- the 72-byte rule --------------------------------------------------------------------


def test_over_long_password_is_a_validation_error(hasher: PasswordHasher) -> None:
    """73 bytes: VALIDATION_ERROR with a password detail; 72 bytes (the twin) hashes."""
    with pytest.raises(ValidationFailed) as caught:
        hasher.hash("a" * 73)
    err = caught.value
    assert (err.code, err.status) == ("VALIDATION_ERROR", 400)
    assert [d.to_dict() for d in err.details] == [
        {"field": "password", "message": "Password must be at most 72 bytes long"}
    ]
    assert hasher.verify("a" * 72, hasher.hash("a" * 72))


def test_byte_limit_counts_normalized_utf8_bytes(hasher: PasswordHasher) -> None:
    """The limit applies to the normalized UTF-8 bytes, not to characters."""
    assert hasher.verify("€" * 24, hasher.hash("€" * 24))  # 72 bytes
    with pytest.raises(ValidationFailed):
        hasher.hash("€" * 25)  # 25 characters, 75 bytes
    assert hasher.verify("ﬁ" * 25, hasher.hash("ﬁ" * 25))  # 75 raw bytes, 50 normalized
    with pytest.raises(ValidationFailed):
        hasher.hash("㍿" * 10)  # 30 raw bytes, 120 once normalized


def test_legacy_truncated_hash_verifies_the_first_72_bytes_only_when_asked(
    hasher: PasswordHasher,
) -> None:
    """A hash old bcrypt made from a long password: refused by default, old semantics opt-in."""
    long_password = "p" * 72 + "-and-more-than-72-bytes"
    legacy = _legacy(long_password.encode())  # old bcrypt silently hashed the first 72
    assert not hasher.verify(long_password, legacy)
    assert hasher.verify_and_update(long_password, legacy) == VerifyResult(False, None)
    importing = TestingPasswordHasher(allow=True, prehash=True, legacy_truncation=True)
    assert importing.verify(long_password, legacy)
    assert importing.verify("p" * 72 + "-anything", legacy)  # the old semantics, exactly
    assert not importing.verify("q" + "p" * 71 + "-and-more", legacy)


def test_prehash_scheme_upgrades_truncated_legacy_hashes() -> None:
    """With the opt-in, the legacy hash is flagged and replaced by a full-length one."""
    hasher = TestingPasswordHasher(allow=True, prehash=True, legacy_truncation=True)
    long_password = "p" * 72 + "-suffix"
    legacy = _legacy(long_password.encode())
    assert hasher.needs_rehash(legacy)
    valid, new_hash = hasher.verify_and_update(long_password, legacy)
    assert valid
    assert new_hash is not None
    assert new_hash.startswith(PREHASH_PREFIX + "v1$2b$04$")
    assert hasher.verify(long_password, new_hash)
    assert not hasher.verify("p" * 72 + "-other", new_hash)  # every byte counts now
    without_opt_in = TestingPasswordHasher(allow=True, prehash=True)
    assert without_opt_in.verify_and_update(long_password, legacy) == VerifyResult(False, None)


# --- the pre-hash scheme -----------------------------------------------------------------


def test_prehash_accepts_any_length_and_every_byte_counts() -> None:
    """HMAC-SHA256 pre-hashing: long passwords hash, and differ beyond byte 72."""
    hasher = TestingPasswordHasher(allow=True, prehash=True)
    long_password = "x" * 500
    stored = hasher.hash(long_password)
    assert stored.startswith("$bkhmac-sha256$v1$2b$04$")
    assert hasher.verify(long_password, stored)
    assert not hasher.verify("x" * 499 + "y", stored)
    assert not hasher.needs_rehash(stored)
    assert hasher.prehash


def test_pepper_is_required_to_verify_peppered_hashes() -> None:
    """A peppered hash (v1p) verifies only with the pepper; mismatches are flagged."""
    peppered = TestingPasswordHasher(allow=True, prehash=True, pepper=PEPPER)
    plain_prehash = TestingPasswordHasher(allow=True, prehash=True)
    other_pepper = TestingPasswordHasher(allow=True, prehash=True, pepper=PEPPER + b"2")
    stored = peppered.hash("secret")
    assert stored.startswith(PREHASH_PREFIX + "v1p$")
    assert peppered.verify("secret", stored)
    assert not plain_prehash.verify("secret", stored)
    assert not other_pepper.verify("secret", stored)
    assert plain_prehash.needs_rehash(stored)
    assert peppered.needs_rehash(plain_prehash.hash("secret"))
    assert not peppered.needs_rehash(stored)


def test_pepper_configuration_rules() -> None:
    """A pepper needs prehash=True and at least 16 bytes; worker counts are positive."""
    with pytest.raises(ConfigurationError, match="prehash=True"):
        PasswordHasher(pepper=PEPPER)
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        PasswordHasher(prehash=True, pepper="short")
    with pytest.raises(ConfigurationError, match="max_workers"):
        PasswordHasher(max_workers=0)
    assert PasswordHasher(prehash=True, pepper=PEPPER.decode()).prehash


def test_prehash_hashes_verify_without_prehash_enabled() -> None:
    """Turning pre-hashing off later keeps existing pre-hash hashes working."""
    with_prehash = TestingPasswordHasher(allow=True, prehash=True)
    without = TestingPasswordHasher(allow=True)
    stored = with_prehash.hash("y" * 100)
    assert without.verify("y" * 100, stored)
    assert not without.needs_rehash(stored)


# --- formats and upgrades ----------------------------------------------------------------


@pytest.mark.parametrize("ident", [b"2a", b"2b", b"2y"])
def test_2a_2b_2y_hashes_verify(ident: bytes, hasher: PasswordHasher) -> None:
    """$2a$, $2b$ and $2y$ hashes verify; only $2b$ at our cost needs no rehash."""
    stored = _legacy(b"hunter2", ident=ident)
    assert stored.startswith(f"${ident.decode()}$")
    assert hasher.verify("hunter2", stored)
    assert not hasher.verify("hunter3", stored)
    assert hasher.needs_rehash(stored) is (ident != b"2b")


def test_needs_rehash_on_cost_change(hasher: PasswordHasher) -> None:
    """A hash made at another cost is flagged; verify_and_update returns a current one."""
    old = _legacy(b"pw", cost=5)
    assert hasher.needs_rehash(old)
    valid, new_hash = hasher.verify_and_update("pw", old)
    assert valid
    assert new_hash is not None
    assert new_hash.startswith("$2b$04$")
    assert not hasher.needs_rehash(new_hash)
    assert hasher.verify_and_update("wrong", old) == VerifyResult(False, None)


def test_plain_hash_flagged_when_prehash_is_on() -> None:
    """Switching pre-hashing on flags every plain hash for upgrade on next login."""
    hasher = TestingPasswordHasher(allow=True, prehash=True)
    plain = _legacy(b"pw")
    assert hasher.needs_rehash(plain)
    valid, new_hash = hasher.verify_and_update("pw", plain)
    assert valid
    assert new_hash is not None
    assert new_hash.startswith(PREHASH_PREFIX)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not a hash",
        "$2b$04$short",
        "$2b$99$" + "a" * 53,
        "$2b$03$" + "a" * 53,
        "$2x$04$" + "a" * 53,
        "$2b$04$" + "!" * 53,
        PREHASH_PREFIX + "v9$2b$04$" + "a" * 53,
        PREHASH_PREFIX + "v1",
        None,
        b"$2b$04$" + b"a" * 53,
    ],
)
def test_malformed_hashes_never_crash(bad: Any, hasher: PasswordHasher) -> None:
    """Anything unreadable verifies as False and needs a rehash; nothing raises."""
    assert hasher.verify("pw", bad) is False
    assert hasher.needs_rehash(bad) is True
    assert hasher.verify_and_update("pw", bad) == VerifyResult(False, None)


def test_hash_bcrypt_cannot_read_is_a_mismatch(hasher: PasswordHasher) -> None:
    """A well-shaped hash whose salt bcrypt refuses verifies as False, without raising."""
    assert not hasher.verify("pw", "$2b$04$wEjWL.eo2D1XIkpsx7ncoIduDx3A0szHwAXj4AnDKYkQUAi.xuMo8")


# --- timing: the same work for unknown users ----------------------------------------------


def test_dummy_verify_spends_one_check_at_the_configured_cost(
    hasher: PasswordHasher, spy: list[tuple[bytes, bytes]]
) -> None:
    """dummy_verify does exactly the bcrypt work of a failed verification, at our cost."""
    stored = hasher.hash("real password")
    spy.clear()
    assert hasher.verify("wrong password", stored) is False
    real_checks = [h[:7] for _, h in spy]
    spy.clear()
    assert hasher.dummy_verify("wrong password") is False
    assert [h[:7] for _, h in spy] == real_checks == [b"$2b$04$"]
    spy.clear()
    hasher.dummy_verify()
    assert len(spy) == 1


def test_dummy_verify_matches_two_form_checks(
    hasher: PasswordHasher, spy: list[tuple[bytes, bytes]]
) -> None:
    """A password that NFKC changes is checked twice by verify, and twice by dummy_verify."""
    stored = hasher.hash("something else")
    spy.clear()
    hasher.verify("ﬁsh", stored)
    real = len(spy)
    spy.clear()
    hasher.dummy_verify("ﬁsh")
    assert len(spy) == real == 2


def test_malformed_hash_costs_the_same_work(
    hasher: PasswordHasher, spy: list[tuple[bytes, bytes]]
) -> None:
    """Verifying against a broken hash still spends one check at the configured cost."""
    hasher.verify("pw", "garbage")
    assert [h[:7] for _, h in spy] == [b"$2b$04$"]


def test_dummy_work_scales_with_the_cost(spy: list[tuple[bytes, bytes]]) -> None:
    """The dummy hash is made at the hasher's cost (checked without running cost 12)."""
    assert PasswordHasher(12)._dummy.startswith(b"$2b$12$")
    assert TestingPasswordHasher(allow=True, cost=6)._dummy.startswith(b"$2b$06$")


# --- async -------------------------------------------------------------------------------


async def test_async_variants(hasher: PasswordHasher) -> None:
    """ahash, averify, averify_and_update and adummy_verify give the sync results."""
    stored = await hasher.ahash("pw")
    assert await hasher.averify("pw", stored)
    assert not await hasher.averify("px", stored)
    assert await hasher.averify_and_update("pw", stored) == VerifyResult(True, None)
    assert await hasher.adummy_verify("pw") is False
    with pytest.raises(ValidationFailed):
        await hasher.ahash("z" * 100)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Makes each bcrypt check wait for a release, and reports when one is running."""
    real = passwords_module._checkpw
    state: dict[str, Any] = {"running": 0, "peak": 0, "lock": threading.Lock()}
    release = threading.Event()

    def install(loop: asyncio.AbstractEventLoop, entered: asyncio.Event) -> threading.Event:
        def gated(password: bytes, hashed: bytes) -> bool:
            with state["lock"]:
                state["running"] += 1
                state["peak"] = max(state["peak"], state["running"])
            loop.call_soon_threadsafe(entered.set)
            try:
                assert release.wait(timeout=20), "the event loop never released the check"
                return real(password, hashed)
            finally:
                with state["lock"]:
                    state["running"] -= 1

        monkeypatch.setattr(passwords_module, "_checkpw", gated)
        return release

    install.state = state  # type: ignore[attr-defined]
    yield install
    release.set()


async def test_event_loop_keeps_serving_during_verification(
    hasher: PasswordHasher, gate: Callable[..., Any]
) -> None:
    """Another coroutine runs while a verification is in progress (it must, to finish it)."""
    stored = hasher.hash("pw")
    entered = asyncio.Event()
    release = gate(asyncio.get_running_loop(), entered)
    ticks = 0

    async def other_work() -> None:
        nonlocal ticks
        await entered.wait()  # the verification is now inside bcrypt, in a worker thread
        for _ in range(100):
            ticks += 1
            await asyncio.sleep(0)
        release.set()  # only now may the verification finish

    verified, _ = await asyncio.gather(hasher.averify("pw", stored), other_work())
    assert verified is True
    assert ticks == 100


async def test_thread_pool_bounds_concurrent_bcrypt(gate: Callable[..., Any]) -> None:
    """At most max_workers checks run at once, and that many really overlap."""
    hasher = TestingPasswordHasher(allow=True, max_workers=2)
    stored = hasher.hash("pw")
    entered = asyncio.Event()
    release = gate(asyncio.get_running_loop(), entered)
    state = gate.state  # type: ignore[attr-defined]
    tasks = [asyncio.ensure_future(hasher.averify("pw", stored)) for _ in range(6)]
    while state["running"] < 2:  # both workers are inside bcrypt at the same time
        entered.clear()
        await entered.wait()
    release.set()
    assert await asyncio.gather(*tasks) == [True] * 6
    assert state["peak"] == 2
    hasher.close()


async def test_close_then_reuse(hasher: PasswordHasher) -> None:
    """close() shuts the pool down; the next async call makes a new one."""
    stored = await hasher.ahash("pw")
    hasher.close()
    hasher.close()  # idempotent
    assert await hasher.averify("pw", stored)
    assert repr(hasher) == "TestingPasswordHasher(cost=4, prehash=False)"


# --- calibrate ---------------------------------------------------------------------------


class _Timer:
    """A timer whose every measured interval is `step` seconds (no real time involved)."""

    def __init__(self, step: float) -> None:
        self.t, self.step, self.calls = 0.0, step, 0

    def __call__(self) -> float:
        self.calls += 1
        if self.calls % 2 == 0:
            self.t += self.step
        return self.t


def test_calibrate_doubles_from_the_measured_cost() -> None:
    """10 ms at cost 4 with a 250 ms target: 4 doublings (160 ms) fit, 5 (320 ms) do not."""
    timer = _Timer(0.010)
    assert calibrate(250, min_cost=4, max_cost=31, timer=timer) == 8
    assert timer.calls == 6  # three samples


def test_calibrate_bounds() -> None:
    """Never below min_cost (slow machine) nor above max_cost (fast machine)."""
    assert calibrate(5, min_cost=4, timer=_Timer(0.010)) == 4
    assert calibrate(10_000, min_cost=4, max_cost=6, timer=_Timer(0.001)) == 6
    assert calibrate(250, min_cost=4, samples=1, timer=_Timer(0.0)) == 20


@pytest.mark.parametrize(
    "kwargs",
    [{"min_cost": 3}, {"min_cost": 12, "max_cost": 11}, {"target_ms": 0}, {"samples": 0}],
)
def test_calibrate_rejects_bad_arguments(kwargs: dict[str, Any]) -> None:
    """Invalid ranges are configuration errors."""
    with pytest.raises(ConfigurationError):
        calibrate(**{"min_cost": 4, **kwargs})
