"""`PasswordHasher`: bcrypt that never crashes, never truncates silently, never leaks timing.

Rules, in the order a password meets them:

1. NFKC normalization (``"ﬁ"`` and ``"fi"``, full-width and ASCII digits are the same
   password), then UTF-8.
2. bcrypt reads at most 72 bytes, and bcrypt 5 raises beyond that. By default a longer
   *new* password is refused with a ``VALIDATION_ERROR``; the opt-in pre-hash scheme
   (HMAC-SHA256, optional pepper, own prefix) accepts any length.
3. ``verify`` tries the normalized form, then the raw form (hashes imported from systems
   that did not normalize); such matches are flagged for rehash. A form over 72 bytes never
   matches a plain bcrypt hash (a hash of ``"P" * 72`` is not a hash of ``"P" * 72 + "X"``),
   unless the caller opted in with ``legacy_truncation=True`` for hashes old bcrypt made by
   silently reading the first 72 bytes; that opt-in needs the pre-hash scheme, so none of
   the hasher's own hashes is ever matched by truncation.
4. ``verify`` returns ``False`` for anything malformed, after spending the same bcrypt
   work as a real check, as does ``dummy_verify`` for unknown users.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import ClassVar, Literal, NamedTuple, TypeVar

from backendkit._extras import require
from backendkit.errors import ConfigurationError, ErrorDetail, ValidationFailed

require("bcrypt", "auth")

import bcrypt

__all__ = ["BCRYPT_MAX_BYTES", "PREHASH_PREFIX", "PasswordHasher", "VerifyResult"]

#: bcrypt reads at most this many bytes of a password.
BCRYPT_MAX_BYTES = 72
#: Identifies the pre-hash scheme: ``$bkhmac-sha256$v1$2b$12$...`` (``v1p``: with pepper).
PREHASH_PREFIX = "$bkhmac-sha256$"

T = TypeVar("T")

_BCRYPT = re.compile(r"\$(2[aby])\$(\d\d)\$[./A-Za-z0-9]{53}")
_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# Without a pepper the HMAC key is a fixed label: a domain separator, so a leaked list of
# plain SHA-256 password hashes cannot be "shucked" against ours.
_DEFAULT_PREHASH_KEY = b"backendkit:password-prehash:v1"
_TOO_LONG = f"Password must be at most {BCRYPT_MAX_BYTES} bytes long"

_Match = Literal["exact", "raw", "truncated"]


class VerifyResult(NamedTuple):
    """Outcome of [`verify_and_update`][backendkit.auth.PasswordHasher.verify_and_update].

    Attributes:
        valid: the password matched.
        new_hash: a replacement hash to store, when the old one used an outdated cost or
            scheme (``None`` otherwise, and always ``None`` when ``valid`` is false).
    """

    valid: bool
    new_hash: str | None


@dataclass(frozen=True, slots=True)
class _Parsed:
    ident: str  # "2a", "2b" or "2y"
    cost: int
    bcrypt_hash: bytes
    prehash: bool
    peppered: bool


def _parse(hashed: str) -> _Parsed | None:
    if not isinstance(hashed, str):
        return None
    prehash = peppered = False
    text = hashed
    if text.startswith(PREHASH_PREFIX):
        variant, sep, rest = text[len(PREHASH_PREFIX) :].partition("$")
        if not sep or variant not in ("v1", "v1p"):
            return None
        prehash, peppered, text = True, variant == "v1p", "$" + rest
    match = _BCRYPT.fullmatch(text)
    if match is None:
        return None
    cost = int(match.group(2))
    if not 4 <= cost <= 31:
        return None
    return _Parsed(match.group(1), cost, text.encode("ascii"), prehash, peppered)


def _normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def _checkpw(password: bytes, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(password, hashed)
    except ValueError:  # a hash bcrypt cannot read: a mismatch, never a crash
        return False


class PasswordHasher:
    """Hash and verify passwords with bcrypt (``$2b$``), the safe way.

    Args:
        cost: bcrypt cost (log2 rounds), 10 to 31; 12 by default. Use
            [`calibrate`][backendkit.auth.calibrate] to pick one for your hardware, and
            [`TestingPasswordHasher`][backendkit.testing.TestingPasswordHasher] in tests.
        prehash: hash new passwords with the pre-hash scheme (HMAC-SHA256, then bcrypt),
            which accepts passwords of any length; existing plain hashes are flagged by
            ``needs_rehash`` and upgraded by ``verify_and_update``.
        pepper: a server-side secret for the pre-hash HMAC (implies nothing without
            ``prehash``). Keep it outside the database; changing it invalidates every
            peppered hash.
        max_workers: threads of the pool the async methods use (at most this many bcrypt
            computations at once); ``min(4, CPU count)`` by default.
        legacy_truncation: verify a password over 72 bytes against a plain bcrypt hash by
            its first 72 bytes, as old bcrypt releases silently did, for hashes imported
            from such systems (off by default: such a password never matches a plain
            hash). Requires ``prehash``, so the hasher's own hashes are never matched this
            way and each truncated match is replaced by a full-length hash by
            ``verify_and_update``.

    Raises:
        ConfigurationError: cost out of range, a pepper without ``prehash``, or
            ``legacy_truncation`` without ``prehash``.

    Example:
        >>> from backendkit.testing import TestingPasswordHasher
        >>> hasher = TestingPasswordHasher(allow=True)  # cost 4, for tests only
        >>> stored = hasher.hash("correct horse")
        >>> hasher.verify("correct horse", stored), hasher.verify("wrong", stored)
        (True, False)
    """

    #: The lowest cost this class accepts.
    MIN_COST: ClassVar[int] = 10

    def __init__(
        self,
        cost: int = 12,
        *,
        prehash: bool = False,
        pepper: bytes | str | None = None,
        max_workers: int | None = None,
        legacy_truncation: bool = False,
    ) -> None:
        if isinstance(cost, bool) or not isinstance(cost, int) or not self.MIN_COST <= cost <= 31:
            raise ConfigurationError(f"bcrypt cost must be an integer from {self.MIN_COST} to 31")
        if pepper is not None and not prehash:
            raise ConfigurationError("a pepper is used by the pre-hash scheme; set prehash=True")
        pepper_bytes = pepper.encode() if isinstance(pepper, str) else pepper
        if pepper_bytes is not None and len(pepper_bytes) < 16:
            raise ConfigurationError("a pepper must be at least 16 bytes")
        if max_workers is not None and max_workers < 1:
            raise ConfigurationError("max_workers must be at least 1")
        if legacy_truncation and not prehash:
            # Without pre-hashing this hasher's own hashes are plain bcrypt: truncation would
            # let "P" * 72 + "X" log in as the owner of "P" * 72.
            raise ConfigurationError(
                "legacy_truncation applies to imported plain bcrypt hashes only; it needs "
                "prehash=True so that this hasher's own hashes are never truncated"
            )
        self._cost = cost
        self._prehash = prehash
        self._pepper = pepper_bytes
        self._legacy_truncation = legacy_truncation
        self._max_workers = max_workers or min(4, os.cpu_count() or 1)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._dummy = self._dummy_hash()
        #: Told how long each ``"hash"`` and ``"verify"`` took, in seconds (password
        #: metrics time them); ``None``: nothing is timed.
        self.on_timing: Callable[[str, float], None] | None = None
        #: Entered around each ``"hash"`` and ``"verify"`` (``Tracing.watch_passwords``
        #: opens a span); ``None``: nothing is entered.
        self.on_work: Callable[[str], AbstractContextManager[object]] | None = None

    def _timed(self, operation: str, work: Callable[[], T]) -> T:
        around = self.on_work
        if around is not None:
            with around(operation):
                return self._measured(operation, work)
        return self._measured(operation, work)

    def _measured(self, operation: str, work: Callable[[], T]) -> T:
        observer = self.on_timing
        if observer is None:
            return work()
        started = time.perf_counter()
        try:
            return work()
        finally:
            observer(operation, time.perf_counter() - started)

    @property
    def cost(self) -> int:
        """The bcrypt cost of new hashes."""
        return self._cost

    @property
    def prehash(self) -> bool:
        """Whether new hashes use the pre-hash scheme."""
        return self._prehash

    @property
    def legacy_truncation(self) -> bool:
        """Whether long passwords may match plain bcrypt hashes by their first 72 bytes."""
        return self._legacy_truncation

    # -- hashing -------------------------------------------------------------------------

    def _prehashed(self, password: bytes, peppered: bool) -> bytes:
        key = self._pepper if peppered and self._pepper is not None else _DEFAULT_PREHASH_KEY
        # base64 of the digest: 44 ASCII bytes, no NUL (bcrypt stops at NUL in some builds).
        return base64.b64encode(hmac.new(key, password, hashlib.sha256).digest())

    def _dummy_hash(self) -> bytes:
        # A well-formed hash at our cost that no password matches: checking against it
        # costs exactly one real verification, and building it costs nothing.
        digest = "".join(secrets.choice(_BCRYPT_ALPHABET) for _ in range(31))
        return bcrypt.gensalt(rounds=self._cost, prefix=b"2b") + digest.encode()

    def hash(self, password: str) -> str:
        """Hash a new password (NFKC-normalized first).

        Raises:
            ValidationFailed: the normalized password is over 72 bytes and the pre-hash
                scheme is off (``VALIDATION_ERROR`` with a ``password`` field detail).
        """
        return self._timed("hash", lambda: self._hash(password))

    def _hash(self, password: str) -> str:
        data = _normalize(password).encode("utf-8")
        salt = bcrypt.gensalt(rounds=self._cost, prefix=b"2b")
        if self._prehash:
            peppered = self._pepper is not None
            hashed = bcrypt.hashpw(self._prehashed(data, peppered), salt).decode("ascii")
            return f"{PREHASH_PREFIX}{'v1p' if peppered else 'v1'}{hashed}"
        if len(data) > BCRYPT_MAX_BYTES:
            raise ValidationFailed(_TOO_LONG, details=[ErrorDetail("password", _TOO_LONG)])
        return bcrypt.hashpw(data, salt).decode("ascii")

    # -- verification --------------------------------------------------------------------

    @staticmethod
    def _candidates(password: str) -> list[str]:
        normalized = _normalize(password)
        return [normalized] if normalized == password else [normalized, password]

    def _match(self, password: str, hashed: str) -> _Match | None:
        candidates = self._candidates(password)
        parsed = _parse(hashed)
        if parsed is None or (parsed.peppered and self._pepper is None):
            self._spend(len(candidates))
            return None
        for index, candidate in enumerate(candidates):
            try:
                data = candidate.encode("utf-8")
            except UnicodeEncodeError:
                # A lone surrogate: no hash was ever made of it (hash() cannot encode it).
                self._spend(1)
                continue
            truncated = False
            if parsed.prehash:
                data = self._prehashed(data, parsed.peppered)
            elif len(data) > BCRYPT_MAX_BYTES:
                if not self._legacy_truncation:
                    # A plain hash covers at most 72 bytes, so it cannot stand for this
                    # password. Run the check anyway, against this hash (its cost), and
                    # ignore the answer: refusing costs exactly what a mismatch costs.
                    _checkpw(data[:BCRYPT_MAX_BYTES], parsed.bcrypt_hash)
                    continue
                # What bcrypt < 5 did silently; such a hash was made from these 72 bytes.
                data, truncated = data[:BCRYPT_MAX_BYTES], True
            if _checkpw(data, parsed.bcrypt_hash):
                if truncated:
                    return "truncated"
                return "exact" if index == 0 else "raw"
        return None

    def _spend(self, times: int) -> None:
        for _ in range(times):
            _checkpw(b"backendkit-dummy-password", self._dummy)

    def verify(self, password: str, hashed: str) -> bool:
        """Check ``password`` against a stored hash; never raises on a bad hash.

        Accepts ``$2a$``, ``$2b$`` and ``$2y$`` bcrypt hashes and pre-hash-scheme hashes.
        A malformed hash costs the same work as a real one and returns ``False``, as does a
        password over 72 bytes against a plain bcrypt hash (unless ``legacy_truncation``).
        """
        return self._timed("verify", lambda: self._match(password, hashed)) is not None

    def needs_rehash(self, hashed: str) -> bool:
        """True when ``hashed`` should be replaced: other cost, ``$2a$``/``$2y$``, a plain
        hash while the pre-hash scheme is on, a pepper mismatch, or unreadable."""
        parsed = _parse(hashed)
        if parsed is None:
            return True
        if parsed.ident != "2b" or parsed.cost != self._cost:
            return True
        if self._prehash:
            return not parsed.prehash or parsed.peppered != (self._pepper is not None)
        return False

    def verify_and_update(self, password: str, hashed: str) -> VerifyResult:
        """Verify, and when the stored hash is outdated return a new one to store.

        A new hash is returned when ``needs_rehash`` says so, or when the password only
        matched in its raw (unnormalized) form or, with ``legacy_truncation``, by its
        first 72 bytes (the replacement is a full-length pre-hash scheme hash).
        """
        match = self._timed("verify", lambda: self._match(password, hashed))
        if match is None:
            return VerifyResult(False, None)
        if match == "exact" and not self.needs_rehash(hashed):
            return VerifyResult(True, None)
        try:
            return VerifyResult(True, self.hash(password))
        except ValidationFailed:
            return VerifyResult(True, None)

    def dummy_verify(self, password: str | None = None) -> bool:
        """Spend the work of a failed verification and return ``False``.

        Call it when the user does not exist, so a login for an unknown email takes as
        long as one with a wrong password. Pass the submitted password: a password whose
        normalized form differs from itself is checked twice by ``verify``, and is here too.
        """
        times = len(self._candidates(password)) if password is not None else 1
        self._timed("verify", lambda: self._spend(times))
        return False

    # -- async: the same work in a bounded thread pool -----------------------------------

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self._max_workers, thread_name_prefix="backendkit-bcrypt"
                )
            return self._executor

    async def _offload(self, fn: Callable[[], T]) -> T:
        # bcrypt releases the GIL, so the event loop keeps serving while it runs. The work
        # runs in the caller's context (as asyncio.to_thread does): its log lines keep the
        # request id and its span has the request's span as parent.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._pool(), context.run, fn)

    async def ahash(self, password: str) -> str:
        """Async [`hash`][backendkit.auth.PasswordHasher.hash], run in the thread pool.

        Raises:
            ValidationFailed: over 72 bytes without the pre-hash scheme.
        """
        return await self._offload(lambda: self.hash(password))

    async def averify(self, password: str, hashed: str) -> bool:
        """Async [`verify`][backendkit.auth.PasswordHasher.verify], run in the thread pool."""
        return await self._offload(lambda: self.verify(password, hashed))

    async def averify_and_update(self, password: str, hashed: str) -> VerifyResult:
        """Async [`verify_and_update`][backendkit.auth.PasswordHasher.verify_and_update]."""
        return await self._offload(lambda: self.verify_and_update(password, hashed))

    async def adummy_verify(self, password: str | None = None) -> bool:
        """Async [`dummy_verify`][backendkit.auth.PasswordHasher.dummy_verify]."""
        return await self._offload(lambda: self.dummy_verify(password))

    def close(self) -> None:
        """Shut the thread pool down (it is recreated on the next async call)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def __repr__(self) -> str:
        extra = ", legacy_truncation=True" if self._legacy_truncation else ""
        return f"{type(self).__name__}(cost={self._cost}, prehash={self._prehash}{extra})"
