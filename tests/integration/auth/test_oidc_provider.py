"""Provider keys against a real local identity provider: discovery, caching, rotation,
unknown-kid floods, single-flight, outages and a hung provider (requests counted on the
server side; time moved with a fake clock, never slept)."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from tests._provider import AUDIENCE, DISCOVERY, JWKS, LocalProvider

from backendkit.auth import JWTKey, OIDCProvider, OIDCVerifier, ProviderClaims
from backendkit.errors import InvalidToken, ServiceUnavailable
from backendkit.testing import FakeClock, capture_logs

# Generous for a loaded machine; the hung-provider tests use their own short timeout.
TIMEOUT = 5.0


@functools.cache
def rsa_key(kid: str) -> JWTKey:
    """RSA keys are slow to make: one per kid per session."""
    return JWTKey.generate("RS256", kid=kid)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=time.time())


@pytest.fixture
def idp(clock: FakeClock) -> Iterator[LocalProvider]:
    provider = LocalProvider([rsa_key("k1")], clock=clock)
    try:
        yield provider
    finally:
        provider.close()


def verifier_for(
    idp: LocalProvider, clock: FakeClock, *, timeout: float = TIMEOUT, **options: object
) -> OIDCVerifier:
    provider = OIDCProvider(idp.issuer, timeout=timeout, clock=clock)
    return OIDCVerifier(provider, audience=AUDIENCE, clock=clock, **options)  # type: ignore[arg-type]


def unknown_kid_token(idp: LocalProvider) -> str:
    key = rsa_key("k1")
    return idp.token(key, header={"alg": "RS256", "kid": "forged-" + uuid.uuid4().hex})


# ---------------------------------------------------------------------------- the happy path


def test_discovery_then_jwks_then_verify(idp: LocalProvider, clock: FakeClock) -> None:
    """A token verifies with keys found through the discovery document, fetched once."""
    verifier = verifier_for(idp, clock)
    claims = verifier.verify(idp.token(sub="alice"))
    assert isinstance(claims, ProviderClaims)
    assert (claims.iss, claims.sub, claims.client_id) == (idp.issuer, "alice", "web-client")
    verifier.verify(idp.token(sub="bob"))
    assert (idp.count(DISCOVERY), idp.count(JWKS)) == (1, 1)
    assert verifier.provider.jwks_url == idp.issuer + JWKS
    assert verifier.provider.kids == {"k1"}


async def test_async_discovery_then_verify(idp: LocalProvider, clock: FakeClock) -> None:
    """The async twin fetches with the async client and verifies the same token."""
    verifier = verifier_for(idp, clock)
    claims = await verifier.averify(idp.token(sub="alice"))
    assert claims.sub == "alice"
    assert (idp.count(DISCOVERY), idp.count(JWKS)) == (1, 1)


def test_jwks_url_skips_discovery(idp: LocalProvider, clock: FakeClock) -> None:
    """Given a JWKS URL, the discovery document is never asked for."""
    provider = OIDCProvider(idp.issuer, jwks_url=idp.issuer + JWKS, clock=clock)
    OIDCVerifier(provider, audience=AUDIENCE, clock=clock).verify(idp.token())
    assert (idp.count(DISCOVERY), idp.count(JWKS)) == (0, 1)


def test_discovery_naming_another_issuer_is_refused(idp: LocalProvider, clock: FakeClock) -> None:
    """A discovery document for another issuer gives no keys (503), and says why in the log."""
    idp.discovery_issuer = "https://evil.example"
    verifier = verifier_for(idp, clock)
    with capture_logs() as logs, pytest.raises(ServiceUnavailable):
        verifier.verify(idp.token())
    assert any(
        e["event"] == "oidc_keys_unavailable" and e["reason"] == "issuer_mismatch" for e in logs
    )
    assert idp.count(JWKS) == 0


# ---------------------------------------------------------------------------- caching


def test_cached_keys_are_refreshed_after_the_ttl(idp: LocalProvider, clock: FakeClock) -> None:
    """Fresh keys are not fetched again; after cache_ttl one request refreshes them."""
    verifier = verifier_for(idp, clock)
    verifier.verify(idp.token())
    clock.advance(599)
    verifier.verify(idp.token())
    assert idp.count(JWKS) == 1
    clock.advance(2)
    verifier.verify(idp.token())
    verifier.verify(idp.token())
    assert idp.count(JWKS) == 2


def test_key_rotation(idp: LocalProvider, clock: FakeClock) -> None:
    """A new key is found by one refetch; a retired key stops verifying after the refresh."""
    verifier = verifier_for(idp, clock)
    old, new = rsa_key("k1"), rsa_key("k2")
    verifier.verify(idp.token(old))
    idp.keys = [new, old]  # the provider publishes k2 and starts signing with it
    clock.advance(31)  # past the cooldown since the first fetch
    assert verifier.verify(idp.token(new)).sub == "provider-user"
    assert idp.count(JWKS) == 2
    idp.keys = [new]  # k1 retired
    clock.advance(601)  # past the TTL: the next request refreshes
    verifier.verify(idp.token(new))
    assert idp.count(JWKS) == 3
    with pytest.raises(InvalidToken):
        verifier.verify(idp.token(old))
    assert verifier.provider.kids == {"k2"}


async def test_key_rotation_async(idp: LocalProvider, clock: FakeClock) -> None:
    """The async path finds a rotated key with one refetch too."""
    verifier = verifier_for(idp, clock)
    await verifier.averify(idp.token(rsa_key("k1")))
    idp.keys = [rsa_key("k2"), rsa_key("k1")]
    clock.advance(31)
    assert (await verifier.averify(idp.token(rsa_key("k2")))).sub == "provider-user"
    assert idp.count(JWKS) == 2


# ---------------------------------------------------------------------------- no fetch storm


def test_unknown_kid_flood_costs_one_fetch_per_cooldown(
    idp: LocalProvider, clock: FakeClock
) -> None:
    """300 tokens with made-up kids: one refetch in the cooldown, one more after it."""
    verifier = verifier_for(idp, clock)
    verifier.verify(idp.token())
    clock.advance(31)
    for _ in range(150):
        with pytest.raises(InvalidToken):
            verifier.verify(unknown_kid_token(idp))
    assert idp.count(JWKS) == 2  # the first fetch, and one refetch for the flood
    clock.advance(31)
    for _ in range(150):
        with pytest.raises(InvalidToken):
            verifier.verify(unknown_kid_token(idp))
    assert idp.count(JWKS) == 3
    assert verifier.verify(idp.token()).sub == "provider-user"  # the valid twin


def test_concurrent_unknown_kid_flood_is_single_flight(
    idp: LocalProvider, clock: FakeClock
) -> None:
    """16 threads released together with unknown kids start one fetch between them."""
    verifier = verifier_for(idp, clock)
    verifier.verify(idp.token())
    clock.advance(31)
    barrier = threading.Barrier(16)
    outcomes: list[str] = []

    def attack() -> None:
        barrier.wait()
        try:
            verifier.verify(unknown_kid_token(idp))
        except InvalidToken:
            outcomes.append("401")

    threads = [threading.Thread(target=attack) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["401"] * 16
    assert idp.count(JWKS) == 2


def test_cold_start_is_single_flight_for_threads(idp: LocalProvider, clock: FakeClock) -> None:
    """16 threads released together on an empty cache: one discovery, one JWKS, all verify."""
    verifier = verifier_for(idp, clock)
    barrier = threading.Barrier(16)
    subjects: list[str] = []

    def call(n: int) -> None:
        barrier.wait()
        subjects.append(verifier.verify(idp.token(sub=f"u{n}")).sub)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(subjects) == sorted(f"u{n}" for n in range(16))
    assert (idp.count(DISCOVERY), idp.count(JWKS)) == (1, 1)


async def test_cold_start_is_single_flight_for_tasks(idp: LocalProvider, clock: FakeClock) -> None:
    """32 tasks on an empty cache share one fetch task; every token verifies."""
    verifier = verifier_for(idp, clock)
    results = await asyncio.gather(*(verifier.averify(idp.token(sub=f"u{n}")) for n in range(32)))
    assert [r.sub for r in results] == [f"u{n}" for n in range(32)]
    assert (idp.count(DISCOVERY), idp.count(JWKS)) == (1, 1)


async def test_async_unknown_kid_flood(idp: LocalProvider, clock: FakeClock) -> None:
    """64 concurrent tasks with made-up kids: one refetch between them."""
    verifier = verifier_for(idp, clock)
    await verifier.averify(idp.token())
    clock.advance(31)
    results = await asyncio.gather(
        *(verifier.averify(unknown_kid_token(idp)) for _ in range(64)), return_exceptions=True
    )
    assert all(isinstance(r, InvalidToken) for r in results)
    assert idp.count(JWKS) == 2


# ---------------------------------------------------------------------------- outages


def test_cached_keys_keep_working_while_the_provider_is_down(
    idp: LocalProvider, clock: FakeClock
) -> None:
    """Port closed: cached keys verify (past the TTL too); an uncached kid is a 503."""
    verifier = verifier_for(idp, clock)
    verifier.verify(idp.token())
    idp.stop()
    clock.advance(700)  # stale: the next request tries to refresh, fails, keeps the keys
    with capture_logs() as logs:
        assert verifier.verify(idp.token()).sub == "provider-user"
        assert verifier.verify(idp.token()).sub == "provider-user"
    assert [e["event"] for e in logs if e["event"] == "oidc_keys_unavailable"] == [
        "oidc_keys_unavailable"
    ]
    with pytest.raises(ServiceUnavailable) as caught:
        verifier.verify(unknown_kid_token(idp))
    assert caught.value.status == 503
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 30
    # Back up: after the cooldown, the next refresh succeeds and unknown kids are 401 again.
    idp.start()
    clock.advance(31)
    verifier.verify(idp.token())
    with pytest.raises(InvalidToken):
        verifier.verify(unknown_kid_token(idp))


@pytest.mark.parametrize("state", ["down", "hung"])
def test_no_cached_key_and_provider_unreachable_is_503(
    idp: LocalProvider, clock: FakeClock, state: str
) -> None:
    """Cold cache, provider refused or hung: 503 with Retry-After, decided by the timeout;
    within the cooldown the next request is refused at once, without another attempt."""
    idp.stop() if state == "down" else idp.hang()
    verifier = verifier_for(idp, clock, timeout=0.5)
    with pytest.raises(ServiceUnavailable) as caught:
        verifier.verify(idp.token())
    assert caught.value.headers["Retry-After"] == "30"
    clock.advance(10)
    with pytest.raises(ServiceUnavailable) as again:
        verifier.verify(idp.token())
    assert again.value.headers["Retry-After"] == "20"


async def test_hung_provider_async_is_decided_by_the_timeout(
    idp: LocalProvider, clock: FakeClock
) -> None:
    """Under ASGI a hung provider also ends in a 503 for every waiting task."""
    idp.hang()
    verifier = verifier_for(idp, clock, timeout=0.5)
    results = await asyncio.gather(
        *(verifier.averify(idp.token()) for _ in range(8)), return_exceptions=True
    )
    assert all(isinstance(r, ServiceUnavailable) for r in results)


def test_hung_provider_waiters_are_decided_too(idp: LocalProvider, clock: FakeClock) -> None:
    """Threads waiting on a hung fetch are answered when it gives up (single attempt)."""
    idp.hang()
    verifier = verifier_for(idp, clock, timeout=0.5)
    barrier = threading.Barrier(4)
    outcomes: list[int] = []

    def call() -> None:
        barrier.wait()
        try:
            verifier.verify(idp.token())
        except ServiceUnavailable as exc:
            outcomes.append(exc.status)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == [503] * 4


def test_a_bad_jwks_document_keeps_the_cached_keys(idp: LocalProvider, clock: FakeClock) -> None:
    """A refresh that returns no usable key keeps the old set (and logs it)."""
    verifier = verifier_for(idp, clock)
    verifier.verify(idp.token())
    idp.jwks_document = {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}
    clock.advance(601)
    with capture_logs() as logs:
        assert verifier.verify(idp.token()).sub == "provider-user"
    assert any(e.get("reason") == "no_usable_key" for e in logs)


# ---------------------------------------------------------------------------- documents


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"keys": [], "padding": "x" * 300_000}, "too_large"),
        (["not", "an", "object"], "bad_json"),
    ],
)
def test_unreadable_documents_are_failed_fetches(
    idp: LocalProvider, clock: FakeClock, document: object, reason: str
) -> None:
    """A body over the cap or not a JSON object is a failed fetch, logged with its reason."""
    idp.jwks_document = document  # type: ignore[assignment]
    verifier = verifier_for(idp, clock)
    with capture_logs() as logs, pytest.raises(ServiceUnavailable):
        verifier.verify(idp.token())
    assert [e["reason"] for e in logs if e["event"] == "oidc_keys_unavailable"] == [reason]
    idp.jwks_document = None  # the valid twin, after the cooldown
    clock.advance(31)
    verifier.verify(idp.token())


async def test_unreadable_documents_async(idp: LocalProvider, clock: FakeClock) -> None:
    """The async fetch applies the same caps."""
    idp.jwks_document = {"keys": [], "padding": "x" * 300_000}
    verifier = verifier_for(idp, clock)
    with capture_logs() as logs, pytest.raises(ServiceUnavailable):
        await verifier.averify(idp.token())
    assert [e["reason"] for e in logs if e["event"] == "oidc_keys_unavailable"] == ["too_large"]


def test_a_status_other_than_200_is_a_failed_fetch(idp: LocalProvider, clock: FakeClock) -> None:
    """A 404 from the JWKS URL: no keys, 503, reason http_404."""
    provider = OIDCProvider(idp.issuer, jwks_url=idp.issuer + "/missing", clock=clock)
    verifier = OIDCVerifier(provider, audience=AUDIENCE, clock=clock)
    with capture_logs() as logs, pytest.raises(ServiceUnavailable):
        verifier.verify(idp.token())
    assert [e["reason"] for e in logs if e["event"] == "oidc_keys_unavailable"] == ["http_404"]


def test_a_remote_http_jwks_uri_is_refused(idp: LocalProvider, clock: FakeClock) -> None:
    """Discovery pointing at a plain-HTTP key set elsewhere is not followed."""
    original = idp.discovery

    def discovery() -> dict[str, object]:
        return {**original(), "jwks_uri": "http://keys.example/jwks"}

    idp.discovery = discovery  # type: ignore[method-assign]
    verifier = verifier_for(idp, clock)
    with capture_logs() as logs, pytest.raises(ServiceUnavailable):
        verifier.verify(idp.token())
    assert [e["reason"] for e in logs if e["event"] == "oidc_keys_unavailable"] == ["bad_jwks_uri"]


# ---------------------------------------------------------------------- stale while refreshing


def test_requests_are_not_held_by_a_slow_refresh(idp: LocalProvider, clock: FakeClock) -> None:
    """Keys past their TTL, provider hung: one request refreshes (and waits for the
    timeout); meanwhile every other request verifies at once with the cached key."""
    verifier = verifier_for(idp, clock, timeout=60.0)  # the test lets it go itself
    verifier.verify(idp.token())
    idp.hang()
    clock.advance(601)
    outcome: list[str] = []
    refresher = threading.Thread(target=lambda: outcome.append(verifier.verify(idp.token()).sub))
    refresher.start()
    assert idp.hung_request.wait(10)  # the refresh is under way, stuck at the provider
    assert verifier.verify(idp.token(sub="other")).sub == "other"
    assert refresher.is_alive()  # still waiting for its fetch; this request was not held
    idp.release()  # the provider drops the connection: the refresh fails
    refresher.join()
    assert outcome == ["provider-user"]  # the refresh failed; the cached key served


async def test_tasks_are_not_held_by_a_slow_refresh(idp: LocalProvider, clock: FakeClock) -> None:
    """The async twin: a task refreshing against a hung provider holds no other task."""
    verifier = verifier_for(idp, clock, timeout=60.0)
    await verifier.averify(idp.token())
    idp.hang()
    clock.advance(601)
    refresh = asyncio.create_task(verifier.averify(idp.token()))
    assert await asyncio.to_thread(idp.hung_request.wait, 10)
    assert (await verifier.averify(idp.token(sub="other"))).sub == "other"
    assert not refresh.done()
    idp.release()
    assert (await refresh).sub == "provider-user"


async def test_an_async_caller_waits_for_a_sync_fetch(idp: LocalProvider, clock: FakeClock) -> None:
    """A fetch started by a sync caller (a thread) is waited for by async callers too: one
    attempt in all, and both are answered with a 503 when it gives up."""
    idp.hang()
    verifier = verifier_for(idp, clock, timeout=1.0)
    outcomes: list[int] = []

    def sync_call() -> None:
        try:
            verifier.verify(idp.token())
        except ServiceUnavailable as exc:
            outcomes.append(exc.status)

    thread = threading.Thread(target=sync_call)
    thread.start()
    assert await asyncio.to_thread(idp.hung_request.wait, 10)
    with pytest.raises(ServiceUnavailable):
        await verifier.averify(idp.token())
    await asyncio.to_thread(thread.join)
    assert outcomes == [503]
