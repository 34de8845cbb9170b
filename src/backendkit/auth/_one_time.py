"""`OneTimeTokens`: issue and consume purpose-bound, single-use, short-lived tokens.

Password reset, email verification and invitations share one service. Every decision is
made here once (``_Issue`` and ``_check``); the sync methods and their async twins (``a``
prefix) only differ in how they call the limiter, the store and the sender.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from backendkit.auth._one_time_core import (
    DEFAULT_TTLS,
    PASSWORD_RESET,
    Digester,
    InvalidOneTimeToken,
    OneTimeToken,
    check_ttls,
    email_bucket,
    new_token,
    well_formed,
)
from backendkit.auth._one_time_sender import AsyncTokenSender, TokenSender
from backendkit.auth._one_time_store import AsyncOneTimeTokenStore, OneTimeTokenStore
from backendkit.clock import Clock, system_clock
from backendkit.errors import ConfigurationError
from backendkit.logging import security_event

if TYPE_CHECKING:
    from backendkit.ratelimit import AsyncRateLimiter, FailurePolicy, RateLimiter, Rule
    from backendkit.settings import Settings

__all__ = ["OneTimeTokens"]

#: Issues per client address: the login limit per address of the security review.
ADDRESS_LIMIT = "10/minute"
#: Issues per email address (whoever asks): the login limit per account.
EMAIL_LIMIT = "5/15 minutes"
_CREDENTIAL_POLICIES = ("local_fallback", "fail_closed")
# The user id of the record written for an email without an account. Its token is
# thrown away unseen, so the row can never be consumed; it only keeps the writes alike.
_DECOY_USER = ""


class _Issue:
    """Everything about one issue that does no I/O: the token, its digest, its record."""

    __slots__ = ("digest", "email", "known", "purpose", "record", "token")

    def __init__(
        self, service: OneTimeTokens, purpose: str, email: str, user_id: str | None, now: float
    ) -> None:
        ttl = service.ttl(purpose)
        if not isinstance(email, str) or not email.strip():
            raise ValueError("a one-time token needs the email address it is sent to")
        if user_id is not None and (not isinstance(user_id, str) or not user_id):
            raise ValueError("user_id must be a non-empty string, or None for an unknown email")
        # Known or not, the same work: a fresh secret, one HMAC, one record, one write.
        self.known = user_id is not None
        self.purpose = purpose
        self.email = email
        self.token = new_token()
        self.digest = service._digester.new(purpose, self.token)
        self.record = OneTimeToken(
            purpose,
            user_id if user_id is not None else _DECOY_USER,
            email if user_id is not None else "",
            now,
            now + ttl,
        )


class OneTimeTokens:
    """Purpose-bound, single-use, short-lived tokens (password reset, email verification,
    invitation), kept only as HMACs.

    ``issue`` makes a token and hands it to the ``sender``; it returns nothing, and does
    the same work for an email without an account (pass ``user_id=None``), so its answer
    and its timing do not tell whether the account exists. ``consume`` returns what the
    token was issued for and removes it in one atomic store operation: a token works
    once, for its own purpose, until it expires; otherwise it is an
    [`InvalidOneTimeToken`][backendkit.auth.InvalidOneTimeToken] (400), the same for every
    reason. ``invalidate`` removes a user's outstanding tokens of a purpose: call it when
    the password changes.

    Args:
        store: a [`OneTimeTokenStore`][backendkit.auth.OneTimeTokenStore] (sync methods),
            an [`AsyncOneTimeTokenStore`][backendkit.auth.AsyncOneTimeTokenStore] (``a``
            methods), or one that is both.
        keys: server keys, newest first, each at least 32 bytes: the first computes the
            digests of new tokens, all are tried on consume.
        sender: delivers new tokens ([`TokenSender`][backendkit.auth.TokenSender]; an
            [`AsyncTokenSender`][backendkit.auth.AsyncTokenSender] is awaited by
            ``aissue``, a sync one runs in a thread there).
        limiter: a [`RateLimiter`][backendkit.ratelimit.RateLimiter] (``issue``) or
            [`AsyncRateLimiter`][backendkit.ratelimit.AsyncRateLimiter] (``aissue``);
            ``None`` leaves limiting to the caller.
        address_limit: issues per client address (default ``"10/minute"``, rule
            ``one-time-address``).
        email_limit: issues per email address, from any client (default
            ``"5/15 minutes"``, rule ``one-time-email``): a victim's mailbox cannot be
            flooded from many addresses.
        failure_policy: what both rules do while the limiter's storage is down:
            ``"local_fallback"`` (default) or ``"fail_closed"``; credential rules never
            fail open.
        ttls: the purposes this service accepts and their lifetimes in seconds
            (default [`DEFAULT_TTLS`][backendkit.auth.DEFAULT_TTLS]).
        clock: the time source (issue time, expiry).

    Raises:
        ConfigurationError: a missing or short key, a bad purpose or lifetime, or a
            fail-open policy.

    Example:
        ```python
        tokens = OneTimeTokens(MemoryOneTimeTokenStore(), keys=[b"k" * 32], sender=mailer)
        tokens.issue("password_reset", "ann@example.com", user_id="7", address=client_ip)
        user_id = tokens.consume("password_reset", token_from_the_link).user_id
        tokens.invalidate(user_id, "password_reset")  # after saving the new password
        ```
    """

    def __init__(
        self,
        store: OneTimeTokenStore | AsyncOneTimeTokenStore,
        *,
        keys: Sequence[bytes | str],
        sender: TokenSender | AsyncTokenSender,
        limiter: RateLimiter | AsyncRateLimiter | None = None,
        address_limit: str = ADDRESS_LIMIT,
        email_limit: str = EMAIL_LIMIT,
        failure_policy: FailurePolicy = "local_fallback",
        ttls: Mapping[str, float] = DEFAULT_TTLS,
        clock: Clock = system_clock,
    ) -> None:
        if failure_policy not in _CREDENTIAL_POLICIES:
            raise ConfigurationError(
                f"one-time token limits guard credentials: failure_policy must be one of "
                f"{_CREDENTIAL_POLICIES}, not {failure_policy!r}"
            )
        self.store = store
        self.sender = sender
        # Protocol isinstance checks cost microseconds: decided once here, so no per-call
        # work differs between a known and an unknown email.
        self._sync_ops = store if isinstance(store, OneTimeTokenStore) else None
        self._async_ops = store if isinstance(store, AsyncOneTimeTokenStore) else None
        self._send = sender.send if isinstance(sender, TokenSender) else None
        self._asend = sender.asend if isinstance(sender, AsyncTokenSender) else None
        if self._send is None and self._asend is None:
            raise ConfigurationError("the sender needs a send() or an asend() method")
        self.limiter = limiter
        self.clock = clock
        self._ttls = check_ttls(ttls)
        self._digester = Digester([k.encode() if isinstance(k, str) else k for k in keys])
        self._rules: tuple[Rule, Rule] | None = None
        if limiter is not None:
            from backendkit.ratelimit import Rule

            self._rules = (
                Rule("one-time-address", address_limit, failure_policy=failure_policy),
                Rule("one-time-email", email_limit, failure_policy=failure_policy),
            )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        store: OneTimeTokenStore | AsyncOneTimeTokenStore,
        **options: Any,
    ) -> OneTimeTokens:
        """Build a service whose keys are derived from ``settings.secret_key`` (purpose
        ``one-time-tokens``; rotation follows the secret keys). ``options`` (``sender``
        included) go to the constructor."""
        return cls(store, keys=settings.derive_keys("one-time-tokens"), **options)

    @property
    def purposes(self) -> frozenset[str]:
        """The purposes this service issues and consumes."""
        return frozenset(self._ttls)

    def ttl(self, purpose: str) -> float:
        """The lifetime in seconds of ``purpose``'s tokens.

        Raises:
            ValueError: a purpose this service was not configured with.
        """
        ttl = self._ttls.get(purpose)
        if ttl is None:
            raise ValueError(f"unknown one-time token purpose {purpose!r}")
        return ttl

    # -- decisions shared by both flavours ----------------------------------------------

    def _limit_keys(self, email: str, address: str | None) -> list[tuple[Rule, str]]:
        if self._rules is None:
            return []
        from backendkit.ratelimit import ip_key

        by_address, by_email = self._rules
        return [(by_address, ip_key(address)), (by_email, email_bucket(email))]

    def _check(self, purpose: str, token: object) -> list[str] | None:
        """The digests to look the token up by, or ``None`` for a malformed one."""
        self.ttl(purpose)
        if not well_formed(token):
            _refused(purpose, "malformed")
            return None
        assert isinstance(token, str)  # well_formed says so; this tells mypy
        return self._digester.candidates(purpose, token)

    def _consumed(self, purpose: str, record: OneTimeToken | None) -> OneTimeToken:
        if record is None:
            # Never issued, used already, invalidated, another purpose or a changed byte:
            # the store cannot tell these apart, and the client is not told either.
            _refused(purpose, "unknown")
            raise InvalidOneTimeToken()
        if self.clock.now() >= record.expires_at:
            _refused(purpose, "expired", user_id=record.user_id)
            raise InvalidOneTimeToken()
        return record

    def _sync_limiter(self) -> RateLimiter:
        from backendkit.ratelimit import RateLimiter

        if not isinstance(self.limiter, RateLimiter):
            raise ConfigurationError("issue() needs a sync RateLimiter: use aissue()")
        return self.limiter

    def _async_limiter(self) -> AsyncRateLimiter:
        from backendkit.ratelimit import AsyncRateLimiter

        if not isinstance(self.limiter, AsyncRateLimiter):
            raise ConfigurationError("aissue() needs an AsyncRateLimiter: use issue()")
        return self.limiter

    def _sync_store(self) -> OneTimeTokenStore:
        if self._sync_ops is None:
            raise ConfigurationError("this store has no sync methods: use the a-prefixed ones")
        return self._sync_ops

    def _async_store(self) -> AsyncOneTimeTokenStore:
        if self._async_ops is None:
            raise ConfigurationError("this store has no async methods: use the sync ones")
        return self._async_ops

    # -- sync -----------------------------------------------------------------------------

    def issue(self, purpose: str, email: str, *, user_id: str | None, address: str | None) -> None:
        """Make a token for ``purpose`` and send it to ``email``.

        Args:
            purpose: one of [`purposes`][backendkit.auth.OneTimeTokens.purposes].
            email: where the token goes (and the per-email limit's key).
            user_id: the account; ``None`` when ``email`` has none: the same work is
                done and nothing is sent.
            address: the client's address (per-address limit), from a
                [`ClientIPResolver`][backendkit.clientip.ClientIPResolver].

        Raises:
            RateLimited: a limit is exhausted (429, the same for any email).
            ValueError: an unknown purpose, an empty email or user id.
        """
        send = self._send
        if send is None:
            raise ConfigurationError("issue() needs a sender with send(): use aissue()")
        for rule, key in self._limit_keys(email, address):
            self._sync_limiter().hit(rule, key).raise_if_denied()
        issued = _Issue(self, purpose, email, user_id, self.clock.now())
        self._sync_store().add(issued.digest, issued.record)
        if issued.known:
            send(issued.email, purpose, issued.token)

    def consume(self, purpose: str, token: object) -> OneTimeToken:
        """Use ``token`` for ``purpose``: what it was issued for; it works no more.

        Raises:
            InvalidOneTimeToken: malformed, unknown, used, invalidated, expired or issued
                for another purpose (400, one message for all).
            ValueError: an unknown purpose.
        """
        digests = self._check(purpose, token)
        if digests is None:
            raise InvalidOneTimeToken()
        return self._consumed(purpose, self._sync_store().take(digests))

    def invalidate(self, user_id: str, purpose: str = PASSWORD_RESET) -> int:
        """Remove ``user_id``'s outstanding tokens of ``purpose`` (call it on a password
        change); how many there were."""
        self.ttl(purpose)
        return self._sync_store().invalidate(user_id, purpose)

    # -- async ----------------------------------------------------------------------------

    async def aissue(
        self, purpose: str, email: str, *, user_id: str | None, address: str | None
    ) -> None:
        """Async twin of [`issue`][backendkit.auth.OneTimeTokens.issue]."""
        for rule, key in self._limit_keys(email, address):
            (await self._async_limiter().hit(rule, key)).raise_if_denied()
        issued = _Issue(self, purpose, email, user_id, self.clock.now())
        await self._async_store().aadd(issued.digest, issued.record)
        if issued.known:
            if self._asend is not None:
                await self._asend(issued.email, purpose, issued.token)
            else:
                assert self._send is not None  # the constructor refuses a sender with neither
                await asyncio.to_thread(self._send, issued.email, purpose, issued.token)

    async def aconsume(self, purpose: str, token: object) -> OneTimeToken:
        """Async twin of [`consume`][backendkit.auth.OneTimeTokens.consume]."""
        digests = self._check(purpose, token)
        if digests is None:
            raise InvalidOneTimeToken()
        return self._consumed(purpose, await self._async_store().atake(digests))

    async def ainvalidate(self, user_id: str, purpose: str = PASSWORD_RESET) -> int:
        """Async twin of [`invalidate`][backendkit.auth.OneTimeTokens.invalidate]."""
        self.ttl(purpose)
        return await self._async_store().ainvalidate(user_id, purpose)

    def __repr__(self) -> str:
        return f"OneTimeTokens(purposes={sorted(self._ttls)!r}, store={self.store!r})"


def _refused(purpose: str, reason: str, **fields: Any) -> None:
    security_event("one_time_token_refused", purpose=purpose, reason=reason, **fields)
