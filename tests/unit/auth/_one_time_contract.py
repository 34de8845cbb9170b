"""The behaviour every one-time token store must give the service, run on each store (memory
here, Redis and the SQL databases in tests/integration/auth), through the sync and async APIs.

Each refusal has a valid twin that passes; time moves on a FakeClock.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from backendkit.auth import (
    EMAIL_VERIFICATION,
    INVITATION,
    PASSWORD_RESET,
    InvalidOneTimeToken,
    OneTimeToken,
    OneTimeTokens,
)
from backendkit.testing import FakeClock

SERVER_KEY = b"one-time-token-server-key-0123456789"
ANN = "ann@example.com"


@dataclass
class Outbox:
    """A sender that keeps what it was asked to send (sync and async)."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def send(self, email: str, purpose: str, token: str) -> None:
        self.sent.append((email, purpose, token))

    async def asend(self, email: str, purpose: str, token: str) -> None:
        self.send(email, purpose, token)

    def last(self) -> str:
        return self.sent[-1][2]


class Driver:
    """Calls the sync or the async API of one service, with one awaitable interface."""

    def __init__(
        self, service: OneTimeTokens, clock: FakeClock, outbox: Outbox, *, asynchronous: bool
    ) -> None:
        self.service = service
        self.clock = clock
        self.outbox = outbox
        self.asynchronous = asynchronous

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.asynchronous:
            return await getattr(self.service, "a" + method)(*args, **kwargs)
        return getattr(self.service, method)(*args, **kwargs)

    async def issue(
        self, purpose: str = PASSWORD_RESET, email: str = ANN, user_id: str | None = "7"
    ) -> str:
        await self._call("issue", purpose, email, user_id=user_id, address="203.0.113.7")
        return self.outbox.last()

    async def consume(self, token: object, purpose: str = PASSWORD_RESET) -> OneTimeToken:
        return await self._call("consume", purpose, token)  # type: ignore[no-any-return]

    async def invalidate(self, user_id: str = "7", purpose: str = PASSWORD_RESET) -> int:
        return await self._call("invalidate", user_id, purpose)  # type: ignore[no-any-return]

    async def race(self, token: str, n: int) -> list[OneTimeToken | Exception]:
        """``n`` consumes of one token that really overlap: threads behind a barrier (sync)
        or gathered tasks (async)."""
        if self.asynchronous:
            results = await asyncio.gather(
                *(self.service.aconsume(PASSWORD_RESET, token) for _ in range(n)),
                return_exceptions=True,
            )
            return [r if isinstance(r, OneTimeToken) else _exception(r) for r in results]
        barrier = threading.Barrier(n)
        out: list[OneTimeToken | Exception] = [RuntimeError("not run")] * n

        def worker(i: int) -> None:
            barrier.wait(timeout=10)
            try:
                out[i] = self.service.consume(PASSWORD_RESET, token)
            except Exception as exc:
                out[i] = exc

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        return out


def _exception(value: BaseException) -> Exception:
    assert isinstance(value, Exception), value
    return value


def flip(token: str) -> str:
    """The token with its first character changed (still well-formed)."""
    return ("B" if token[0] == "A" else "A") + token[1:]


class OneTimeContract:
    """Fixtures: ``ott`` (a Driver on the store under test)."""

    #: How many consumes of one token race in the concurrency test.
    RACERS = 20

    async def test_a_token_is_consumed_once(self, ott: Driver) -> None:
        """The first consume returns what the token was issued for; the second is refused."""
        token = await ott.issue()
        record = await ott.consume(token)
        assert (record.purpose, record.user_id, record.email) == (PASSWORD_RESET, "7", ANN)
        assert record.expires_at == record.issued_at + ott.service.ttl(PASSWORD_RESET)
        with pytest.raises(InvalidOneTimeToken):
            await ott.consume(token)

    async def test_another_purpose_is_refused_and_leaves_the_token_usable(
        self, ott: Driver
    ) -> None:
        """A reset token used as an email verification fails, and still resets."""
        token = await ott.issue(PASSWORD_RESET)
        for other in (EMAIL_VERIFICATION, INVITATION):
            with pytest.raises(InvalidOneTimeToken):
                await ott.consume(token, other)
        assert (await ott.consume(token, PASSWORD_RESET)).user_id == "7"

    async def test_an_expired_token_is_refused_and_one_just_before_works(self, ott: Driver) -> None:
        """At the lifetime's end the token is dead; a moment before, it works."""
        ttl = ott.service.ttl(PASSWORD_RESET)
        alive, dead = await ott.issue(), await ott.issue()
        ott.clock.advance(ttl - 0.001)
        assert (await ott.consume(alive)).user_id == "7"
        ott.clock.advance(0.001)
        with pytest.raises(InvalidOneTimeToken):
            await ott.consume(dead)

    async def test_a_changed_character_is_refused_and_the_original_works(self, ott: Driver) -> None:
        """A tampered token finds nothing (and does not use up the real one)."""
        token = await ott.issue()
        with pytest.raises(InvalidOneTimeToken):
            await ott.consume(flip(token))
        assert (await ott.consume(token)).user_id == "7"

    @pytest.mark.parametrize(
        "bad",
        ["", " ", "x" * 42, "x" * 44, "a" * 100_000, "A" * 42 + "B", "A" * 42 + "=", None, 7],
        ids=["empty", "blank", "short", "long", "huge", "non-canonical", "padded", "none", "int"],
    )
    async def test_malformed_tokens_are_refused_before_the_store(
        self, ott: Driver, bad: object
    ) -> None:
        """Wrong length, alphabet, padding, type or a non-canonical last character: 400; a
        well-formed twin works."""
        token = await ott.issue()
        with pytest.raises(InvalidOneTimeToken):
            await ott.consume(bad)
        assert (await ott.consume(token)).user_id == "7"

    async def test_a_new_password_invalidates_outstanding_reset_tokens_only(
        self, ott: Driver
    ) -> None:
        """invalidate() ends the user's reset tokens; other users' and other purposes'
        survive, and a reset token issued afterwards works."""
        first, second = await ott.issue(), await ott.issue()
        other_user = await ott.issue(email="bob@example.com", user_id="8")
        verification = await ott.issue(EMAIL_VERIFICATION)
        assert await ott.invalidate("7", PASSWORD_RESET) == 2
        for token in (first, second):
            with pytest.raises(InvalidOneTimeToken):
                await ott.consume(token)
        assert (await ott.consume(other_user)).user_id == "8"
        assert (await ott.consume(verification, EMAIL_VERIFICATION)).user_id == "7"
        fresh = await ott.issue()
        assert (await ott.consume(fresh)).user_id == "7"

    async def test_invalidation_matches_the_user_id_exactly(self, ott: Driver) -> None:
        """invalidate("alice") leaves "Alice"'s token (MySQL's default collation would not);
        invalidate("Alice") ends it."""
        token = await ott.issue(user_id="Alice")
        assert await ott.invalidate("alice") == 0
        assert await ott.invalidate("Alice") == 1
        with pytest.raises(InvalidOneTimeToken):
            await ott.consume(token)

    async def test_an_unknown_email_looks_like_a_known_one(self, ott: Driver) -> None:
        """Same return value and no exception for both; only the known one is sent."""
        outbox = ott.outbox
        known = await ott._call("issue", PASSWORD_RESET, ANN, user_id="7", address="192.0.2.1")
        before = len(outbox.sent)
        unknown = await ott._call(
            "issue", PASSWORD_RESET, "nobody@example.com", user_id=None, address="192.0.2.1"
        )
        assert known is None
        assert unknown is None
        assert len(outbox.sent) == before

    async def test_exactly_one_of_many_concurrent_consumes_wins(self, ott: Driver) -> None:
        """20 overlapping consumes of one token: one record, 19 InvalidOneTimeToken."""
        token = await ott.issue()
        results = await ott.race(token, self.RACERS)
        won = [r for r in results if isinstance(r, OneTimeToken)]
        lost = [r for r in results if isinstance(r, InvalidOneTimeToken)]
        assert len(won) == 1
        assert won[0].user_id == "7"
        assert len(lost) == self.RACERS - 1, [r for r in results if r not in won + lost]
