"""OneTimeTokens on the memory store: the store contract (sync and async), and what the
service decides itself: rate limits under the credential policy, unknown emails, key
rotation, configuration refusals, the development sender, and what reaches the logs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import B64URL_ALPHABET
from tests.unit.auth._one_time_contract import ANN, SERVER_KEY, Driver, OneTimeContract, Outbox

from backendkit.auth import (
    DEFAULT_TTLS,
    EMAIL_VERIFICATION,
    PASSWORD_RESET,
    AsyncOneTimeTokenStore,
    InvalidOneTimeToken,
    LoggingTokenSender,
    MemoryOneTimeTokenStore,
    OneTimeTokens,
    OneTimeTokenStore,
)
from backendkit.errors import ConfigurationError, RateLimited
from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
from backendkit.settings import Settings
from backendkit.testing import FakeClock, capture_logs


def _service(
    store: MemoryOneTimeTokenStore | None = None,
    clock: FakeClock | None = None,
    outbox: Outbox | None = None,
    **options: object,
) -> OneTimeTokens:
    return OneTimeTokens(
        MemoryOneTimeTokenStore() if store is None else store,
        keys=[SERVER_KEY],
        sender=Outbox() if outbox is None else outbox,
        clock=clock or FakeClock(),
        **options,  # type: ignore[arg-type]
    )


class TestMemoryStore(OneTimeContract):
    @pytest.fixture(params=["sync", "async"])
    def ott(self, request: pytest.FixtureRequest) -> Driver:
        clock, outbox = FakeClock(), Outbox()
        service = _service(clock=clock, outbox=outbox)
        return Driver(service, clock, outbox, asynchronous=request.param == "async")


def test_the_store_keeps_a_digest_never_the_token() -> None:
    """The memory store's keys and records hold no trace of the token."""
    store, outbox = MemoryOneTimeTokenStore(), Outbox()
    _service(store, outbox=outbox).issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    token = outbox.last()
    [(digest, record)] = store._records.items()
    assert len(digest) == 64
    assert token not in digest
    assert token not in repr(record)
    assert len(token) == 43  # 256 bits from secrets, base64url


def test_an_unknown_email_writes_like_a_known_one_and_sends_nothing() -> None:
    """One record written for each (the unknown one's token is thrown away, unconsumable);
    one send, for the known email only; both return None."""
    store, outbox = MemoryOneTimeTokenStore(), Outbox()
    service = _service(store, outbox=outbox)
    assert service.issue(PASSWORD_RESET, ANN, user_id="7", address="192.0.2.1") is None
    assert len(store) == 1
    assert len(outbox.sent) == 1
    assert (
        service.issue(PASSWORD_RESET, "no@example.com", user_id=None, address="192.0.2.1") is None
    )
    assert len(store) == 2
    assert len(outbox.sent) == 1
    decoy = [r for r in store._records.values() if r.user_id == ""]
    assert len(decoy) == 1
    assert decoy[0].email == ""


@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
def test_the_email_limit_answers_the_same_429_for_known_and_unknown(known: bool) -> None:
    """Five issues per email per 15 minutes, from any address; the sixth is a 429 with
    Retry-After, whether the email has an account or not; another email still passes."""
    clock = FakeClock()
    limiter = RateLimiter("memory://", clock=clock)
    service = _service(clock=clock, limiter=limiter)
    user_id = "7" if known else None
    for i in range(5):
        service.issue(PASSWORD_RESET, ANN, user_id=user_id, address=f"192.0.2.{i}")
    with pytest.raises(RateLimited) as caught:
        service.issue(PASSWORD_RESET, ANN.upper(), user_id=user_id, address="192.0.2.99")
    assert caught.value.status == 429
    assert "Retry-After" in caught.value.headers
    service.issue(PASSWORD_RESET, "bob@example.com", user_id="8", address="192.0.2.99")


async def test_the_address_limit_counts_every_email_from_one_address() -> None:
    """Ten issues per address per minute whatever the emails; the 11th is a 429; another
    address passes; a minute later the first passes again (async limiter)."""
    clock = FakeClock()
    service = _service(clock=clock, limiter=AsyncRateLimiter("memory://", clock=clock))
    for i in range(10):
        await service.aissue(PASSWORD_RESET, f"u{i}@example.com", user_id=None, address="192.0.2.1")
    with pytest.raises(RateLimited):
        await service.aissue(PASSWORD_RESET, "x@example.com", user_id=None, address="192.0.2.1")
    await service.aissue(PASSWORD_RESET, "x@example.com", user_id=None, address="192.0.2.2")
    clock.advance(120)
    await service.aissue(PASSWORD_RESET, "y@example.com", user_id=None, address="192.0.2.1")


def test_the_limits_are_credential_rules_that_never_fail_open() -> None:
    """fail_open is refused; local_fallback (default) and fail_closed are accepted, and the
    rules carry the policy."""
    limiter = RateLimiter("memory://")
    with pytest.raises(ConfigurationError, match="fail_open"):
        _service(limiter=limiter, failure_policy="fail_open")
    for policy in ("local_fallback", "fail_closed"):
        service = _service(limiter=limiter, failure_policy=policy)
        assert service._rules is not None
        assert {rule.failure_policy for rule in service._rules} == {policy}


async def test_a_limiter_of_the_other_flavour_is_refused() -> None:
    """issue() needs a RateLimiter and aissue() an AsyncRateLimiter; the matching ones work."""
    sync_service = _service(limiter=RateLimiter("memory://"))
    async_service = _service(limiter=AsyncRateLimiter("memory://"))
    with pytest.raises(ConfigurationError):
        async_service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    with pytest.raises(ConfigurationError):
        await sync_service.aissue(PASSWORD_RESET, ANN, user_id="7", address=None)
    sync_service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    await async_service.aissue(PASSWORD_RESET, ANN, user_id="7", address=None)


def test_tokens_survive_a_key_rotation() -> None:
    """A token issued under the old key is consumed once the new key signs first; one
    issued under a key that was dropped is refused."""
    store, outbox, clock = MemoryOneTimeTokenStore(), Outbox(), FakeClock()
    old, new = SERVER_KEY, b"another-server-key-of-32-bytes-at-least"
    before = OneTimeTokens(store, keys=[old], sender=outbox, clock=clock)
    before.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    rotated = OneTimeTokens(store, keys=[new, old], sender=outbox, clock=clock)
    assert rotated.consume(PASSWORD_RESET, outbox.last()).user_id == "7"
    before.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    dropped = OneTimeTokens(store, keys=[new], sender=outbox, clock=clock)
    with pytest.raises(InvalidOneTimeToken):
        dropped.consume(PASSWORD_RESET, outbox.last())
    assert rotated.consume(PASSWORD_RESET, outbox.last()).user_id == "7"


@pytest.mark.parametrize(
    "options",
    [
        {"keys": []},
        {"keys": [b"short"]},
        {"ttls": {}},
        {"ttls": {"Bad Purpose": 60}},
        {"ttls": {PASSWORD_RESET: 0}},
        {"ttls": {PASSWORD_RESET: True}},
    ],
    ids=["no-key", "short-key", "no-purpose", "bad-purpose", "zero-ttl", "bool-ttl"],
)
def test_bad_configuration_is_refused_at_construction(options: dict[str, object]) -> None:
    """Keys under 32 bytes, no purposes, bad names or lifetimes: refused at once; the
    defaults are accepted."""
    settings: dict[str, object] = {"keys": [SERVER_KEY], "sender": Outbox(), **options}
    with pytest.raises(ConfigurationError):
        OneTimeTokens(MemoryOneTimeTokenStore(), **settings)  # type: ignore[arg-type]
    service = OneTimeTokens(MemoryOneTimeTokenStore(), keys=["k" * 32], sender=Outbox())
    assert service.purposes == frozenset(DEFAULT_TTLS)


def test_unknown_purposes_and_empty_arguments_are_programming_errors() -> None:
    """A purpose the service was not given, an empty email or user id: ValueError (a bug in
    the caller, not a client's mistake); a custom purpose works."""
    outbox = Outbox()
    service = _service(outbox=outbox, ttls={"magic_link": 300})
    with pytest.raises(ValueError, match="purpose"):
        service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    with pytest.raises(ValueError, match="purpose"):
        service.consume(PASSWORD_RESET, "A" * 43)
    with pytest.raises(ValueError, match="purpose"):
        service.invalidate("7", PASSWORD_RESET)
    with pytest.raises(ValueError, match="email"):
        service.issue("magic_link", " ", user_id="7", address=None)
    with pytest.raises(ValueError, match="user_id"):
        service.issue("magic_link", ANN, user_id="", address=None)
    service.issue("magic_link", ANN, user_id="7", address=None)
    assert service.consume("magic_link", outbox.last()).purpose == "magic_link"


def test_from_settings_derives_the_key_from_the_secret_key() -> None:
    """Two services from the same secret share tokens; another secret does not."""
    store, outbox = MemoryOneTimeTokenStore(), Outbox()
    settings = Settings(env="test", secret_key=["s" * 32])
    issuer = OneTimeTokens.from_settings(settings, store, sender=outbox)
    issuer.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    other = OneTimeTokens.from_settings(
        Settings(env="test", secret_key=["t" * 32]), store, sender=outbox
    )
    with pytest.raises(InvalidOneTimeToken):
        other.consume(PASSWORD_RESET, outbox.last())
    same = OneTimeTokens.from_settings(settings, store, sender=outbox)
    assert same.consume(PASSWORD_RESET, outbox.last()).user_id == "7"


def test_refusals_are_security_events_that_never_carry_the_token() -> None:
    """Malformed, unknown and expired refusals log their reason and purpose, not the token."""
    clock, outbox = FakeClock(), Outbox()
    service = _service(clock=clock, outbox=outbox)
    service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    token = outbox.last()
    with capture_logs() as logs:
        for bad in ("nope", "A" * 43):
            with pytest.raises(InvalidOneTimeToken):
                service.consume(PASSWORD_RESET, bad)
        clock.advance(DEFAULT_TTLS[PASSWORD_RESET])
        with pytest.raises(InvalidOneTimeToken) as caught:
            service.consume(PASSWORD_RESET, token)
    assert [e["reason"] for e in logs] == ["malformed", "unknown", "expired"]
    assert all(e["event"] == "one_time_token_refused" and e["security"] for e in logs)
    assert token not in repr(logs)
    assert caught.value.status == 400
    assert caught.value.code == "BAD_REQUEST"
    assert caught.value.message == "The token is invalid or has expired"


def test_the_logging_sender_is_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Production settings (or BACKENDKIT_ENV unset) refuse it; development logs the token
    under a field the redaction leaves alone."""
    with pytest.raises(ConfigurationError, match="outside development"):
        LoggingTokenSender(Settings(env="production", secret_key=["s" * 32]))
    monkeypatch.delenv("BACKENDKIT_ENV", raising=False)
    with pytest.raises(ConfigurationError):
        LoggingTokenSender()
    monkeypatch.setenv("BACKENDKIT_ENV", "development")
    sender = LoggingTokenSender()
    with capture_logs() as logs:
        sender.send(ANN, PASSWORD_RESET, "the-token")
    assert logs[0]["event"] == "one_time_token_issued"
    assert logs[0]["code"] == "the-token"


async def test_aissue_awaits_an_async_sender_and_threads_a_sync_one() -> None:
    """LoggingTokenSender.asend is awaited; a sender with only send() runs in a thread."""

    class SyncOnly:
        def __init__(self) -> None:
            self.sent: list[str] = []

        def send(self, email: str, purpose: str, token: str) -> None:
            self.sent.append(token)

    sync_only = SyncOnly()
    service = _service(outbox=sync_only)  # type: ignore[arg-type]
    await service.aissue(EMAIL_VERIFICATION, ANN, user_id="7", address=None)
    assert (await service.aconsume(EMAIL_VERIFICATION, sync_only.sent[0])).user_id == "7"
    logging_service = OneTimeTokens(
        MemoryOneTimeTokenStore(),
        keys=[SERVER_KEY],
        sender=LoggingTokenSender(Settings(env="development")),
    )
    with capture_logs() as logs:
        await logging_service.aissue(EMAIL_VERIFICATION, ANN, user_id="7", address=None)
    assert len(logs[0]["code"]) == 43


async def test_a_store_or_sender_of_the_other_flavour_is_refused() -> None:
    """A sync-only store refuses the async API and an async-only one the sync API; an
    async-only sender refuses issue()."""

    class SyncStore:
        def __init__(self) -> None:
            self.inner = MemoryOneTimeTokenStore()

        def add(self, digest: str, record: object) -> None:
            self.inner.add(digest, record)  # type: ignore[arg-type]

        def take(self, digests: object) -> object:
            return self.inner.take(digests)  # type: ignore[arg-type]

        def invalidate(self, user_id: str, purpose: str) -> int:
            return self.inner.invalidate(user_id, purpose)

    class AsyncStore:
        async def aadd(self, digest: str, record: object) -> None:
            pass

        async def atake(self, digests: object) -> None:
            return None

        async def ainvalidate(self, user_id: str, purpose: str) -> int:
            return 0

    class AsyncSender:
        async def asend(self, email: str, purpose: str, token: str) -> None:
            pass

    assert isinstance(SyncStore(), OneTimeTokenStore)
    assert not isinstance(SyncStore(), AsyncOneTimeTokenStore)
    service = OneTimeTokens(SyncStore(), keys=[SERVER_KEY], sender=Outbox())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        await service.ainvalidate("7")
    assert service.invalidate("7") == 0
    async_only = OneTimeTokens(AsyncStore(), keys=[SERVER_KEY], sender=Outbox())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        async_only.invalidate("7")
    assert await async_only.ainvalidate("7") == 0
    async_sender = _service(outbox=AsyncSender())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        async_sender.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    await async_sender.aissue(PASSWORD_RESET, ANN, user_id="7", address=None)
    assert "password_reset" in repr(service)
    with pytest.raises(ConfigurationError, match="send"):
        _service(outbox=object())  # type: ignore[arg-type]


def test_the_memory_store_drops_expired_records_when_a_token_is_added() -> None:
    """An expired record is gone after the next issue; a live one stays."""
    store, clock = MemoryOneTimeTokenStore(), FakeClock()
    service = _service(store, clock=clock)
    service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    service.issue(EMAIL_VERIFICATION, ANN, user_id="7", address=None)
    clock.advance(service.ttl(PASSWORD_RESET))
    service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    assert sorted(r.purpose for r in store._records.values()) == [
        EMAIL_VERIFICATION,
        PASSWORD_RESET,
    ]


_ISSUED = MemoryOneTimeTokenStore()
_OUTBOX = Outbox()
_SERVICE = _service(_ISSUED, outbox=_OUTBOX)


@settings(deadline=None, max_examples=200)
@given(position=st.integers(0, 42), replacement=st.sampled_from(B64URL_ALPHABET), text=st.text())
def test_no_change_to_a_token_is_accepted(position: int, replacement: str, text: str) -> None:
    """Any one character replaced, or any text at all, is refused, and leaves the real
    token usable (consumed at the end of each example)."""
    _SERVICE.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    token = _OUTBOX.last()
    changed = token[:position] + replacement + token[position + 1 :]
    for attempt in {changed, text} - {token}:
        with pytest.raises(InvalidOneTimeToken):
            _SERVICE.consume(PASSWORD_RESET, attempt)
    assert _SERVICE.consume(PASSWORD_RESET, token).user_id == "7"
