"""Passwords over bcrypt's 72 bytes never match by truncation, unless legacy hashes ask for it.

bcrypt reads 72 bytes, so a hash of a 72-byte password is also the hash of every longer
password that starts with those bytes. Matching them silently would let ``"P" * 72 + "X"``
log in as the owner of ``"P" * 72``. By default a password longer than 72 bytes (after
normalization, or in its raw form) never matches a plain bcrypt hash; only a hasher built
with ``legacy_truncation=True`` (and the pre-hash scheme, so that none of its own hashes is
plain bcrypt) reproduces what old bcrypt did, for imported hashes.
"""

from __future__ import annotations

from collections.abc import Iterator

import bcrypt
import pytest

import backendkit.auth._passwords as passwords_module
from backendkit.auth import PREHASH_PREFIX, PasswordHasher, VerifyResult
from backendkit.errors import ConfigurationError
from backendkit.testing import TestingPasswordHasher

# (72-byte prefix, a longer password that starts with it): ASCII and multi-byte, one
# byte over and 900 bytes over.
CASES = {
    "ascii+1": ("P" * 72, "P" * 72 + "X"),
    "ascii+900": ("P" * 72, "P" * 72 + "X" * 900),
    "multibyte+1": ("é" * 36, "é" * 36 + "x"),
    "multibyte+900": ("é" * 36, "é" * 36 + "€" * 300),
}


def _old_bcrypt_hash(password: str) -> str:
    """A plain hash as old bcrypt made it from a long password: of its first 72 bytes."""
    return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(4, prefix=b"2b")).decode()


@pytest.fixture
def legacy_hasher() -> Iterator[TestingPasswordHasher]:
    """A cost-4 hasher that opts in to legacy truncation (with the pre-hash scheme)."""
    h = TestingPasswordHasher(allow=True, prehash=True, legacy_truncation=True)
    yield h
    h.close()


@pytest.mark.parametrize(("prefix", "longer"), CASES.values(), ids=CASES.keys())
def test_longer_password_never_matches_a_hash_this_hasher_made(
    prefix: str, longer: str, hasher: PasswordHasher
) -> None:
    """``verify("P"*72 + "X", hash("P"*72))`` is False; the exact password (twin) is True."""
    assert len(prefix.encode()) == 72 < len(longer.encode())
    stored = hasher.hash(prefix)
    assert hasher.verify(prefix, stored) is True
    assert hasher.verify(longer, stored) is False
    assert hasher.verify_and_update(longer, stored) == VerifyResult(False, None)
    assert hasher.verify_and_update(prefix, stored) == VerifyResult(True, None)


@pytest.mark.parametrize(("prefix", "longer"), CASES.values(), ids=CASES.keys())
async def test_async_twins_refuse_the_longer_password(
    prefix: str, longer: str, hasher: PasswordHasher
) -> None:
    """averify and averify_and_update give the sync answers."""
    stored = await hasher.ahash(prefix)
    assert await hasher.averify(longer, stored) is False
    assert await hasher.averify_and_update(longer, stored) == VerifyResult(False, None)
    assert await hasher.averify(prefix, stored) is True
    assert await hasher.adummy_verify(longer) is False


@pytest.mark.parametrize(("prefix", "longer"), CASES.values(), ids=CASES.keys())
def test_old_bcrypt_hash_needs_the_opt_in(
    prefix: str, longer: str, hasher: PasswordHasher, legacy_hasher: PasswordHasher
) -> None:
    """A hash old bcrypt made from the long password: False by default, True when asked."""
    stored = _old_bcrypt_hash(longer)
    assert hasher.verify(longer, stored) is False
    assert hasher.verify_and_update(longer, stored) == VerifyResult(False, None)
    # The twin that opted in reproduces the old semantics, and upgrades the hash.
    assert legacy_hasher.verify(longer, stored) is True
    valid, new_hash = legacy_hasher.verify_and_update(longer, stored)
    assert valid
    assert new_hash is not None
    assert new_hash.startswith(PREHASH_PREFIX)
    assert legacy_hasher.verify(longer, new_hash)
    assert not legacy_hasher.verify(prefix, new_hash)  # every byte counts once upgraded


@pytest.mark.parametrize(("prefix", "longer"), CASES.values(), ids=CASES.keys())
async def test_old_bcrypt_hash_needs_the_opt_in_async(
    prefix: str, longer: str, hasher: PasswordHasher, legacy_hasher: PasswordHasher
) -> None:
    """The async twins follow the same opt-in."""
    stored = _old_bcrypt_hash(longer)
    assert await hasher.averify(longer, stored) is False
    assert await hasher.averify_and_update(longer, stored) == VerifyResult(False, None)
    assert await legacy_hasher.averify(longer, stored) is True
    valid, new_hash = await legacy_hasher.averify_and_update(longer, stored)
    assert valid
    assert new_hash is not None
    assert new_hash.startswith(PREHASH_PREFIX)


def test_legacy_hasher_never_truncates_its_own_hashes(legacy_hasher: PasswordHasher) -> None:
    """With the opt-in on, the hasher's own hashes are pre-hash ones: every byte counts."""
    for prefix, longer in CASES.values():
        stored = legacy_hasher.hash(prefix)
        assert stored.startswith(PREHASH_PREFIX)
        assert legacy_hasher.verify(prefix, stored)
        assert not legacy_hasher.verify(longer, stored)


def test_raw_form_over_72_bytes_does_not_match_by_truncation(hasher: PasswordHasher) -> None:
    """A password short once normalized but long raw: its raw form is not truncated either.

    ``"ﬁ" * 25`` is 75 raw bytes and 50 normalized; a system that stored unnormalized
    hashes of ``"ﬁ" * 24`` (72 raw bytes) must not accept the 25-ligature password.
    """
    stored = bcrypt.hashpw(("ﬁ" * 24).encode(), bcrypt.gensalt(4)).decode()
    assert hasher.verify("ﬁ" * 24, stored)  # the twin: the raw form matches exactly
    assert not hasher.verify("ﬁ" * 25, stored)
    legacy = TestingPasswordHasher(allow=True, prehash=True, legacy_truncation=True)
    assert legacy.verify("ﬁ" * 25, stored)  # the old semantics, when asked


def test_refusing_a_long_password_costs_the_same_work(hasher: PasswordHasher) -> None:
    """A long password against a plain hash runs one check per form, on that very hash
    (so at its cost), exactly like any other mismatch; dummy_verify matches at our cost."""
    calls: list[bytes] = []
    real = passwords_module._checkpw

    def recording(password: bytes, hashed: bytes) -> bool:
        calls.append(hashed[:7])
        return real(password, hashed)

    ours = hasher.hash("P" * 72)
    older = bcrypt.hashpw(b"P" * 72, bcrypt.gensalt(5)).decode()  # another cost
    seen: dict[str, list[bytes]] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords_module, "_checkpw", recording)
        for name, password, stored in [
            ("long-ours", "P" * 72 + "X" * 900, ours),
            ("short-ours", "Q" * 10, ours),
            ("long-older", "P" * 72 + "X", older),
            ("short-older", "Q" * 10, older),
        ]:
            calls.clear()
            assert not hasher.verify(password, stored)
            seen[name] = list(calls)
        calls.clear()
        hasher.dummy_verify("P" * 72 + "X" * 900)
        seen["dummy"] = list(calls)
    assert seen["long-ours"] == seen["short-ours"] == seen["dummy"] == [b"$2b$04$"]
    assert seen["long-older"] == seen["short-older"] == [b"$2b$05$"]


def test_legacy_truncation_needs_the_prehash_scheme() -> None:
    """Without pre-hashing the hasher's own hashes are plain bcrypt: the opt-in is refused."""
    with pytest.raises(ConfigurationError, match="legacy_truncation"):
        PasswordHasher(legacy_truncation=True)
    with pytest.raises(ConfigurationError, match="legacy_truncation"):
        TestingPasswordHasher(allow=True, legacy_truncation=True)
    assert PasswordHasher(prehash=True, legacy_truncation=True).legacy_truncation
    assert not PasswordHasher().legacy_truncation
    assert not TestingPasswordHasher(allow=True).legacy_truncation


def test_unencodable_password_is_a_mismatch_not_a_crash(hasher: PasswordHasher) -> None:
    """A lone surrogate (no UTF-8 form) verifies False and spends the usual work."""
    stored = hasher.hash("pw")
    assert hasher.verify("\ud800", stored) is False
    assert hasher.verify("pw\udfff" + "x" * 100, stored) is False
    assert hasher.verify_and_update("\ud800", stored) == VerifyResult(False, None)
    assert hasher.dummy_verify("\ud800") is False
    assert hasher.verify("pw", stored) is True  # the twin
