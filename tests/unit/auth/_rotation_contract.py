"""Refresh rotation, reuse detection, grace window and revocation: one suite, every backend.

Subclasses provide a ``make`` fixture: ``make(**service_options) -> Driver``. The suite runs
over the memory store (unit tests) and Redis, standalone and cluster (integration tests),
each through the sync and the async API.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from backendkit.auth import JWTKey, TokenClaims, TokenPair, TokenService
from backendkit.errors import InvalidToken
from backendkit.testing import FakeClock, capture_logs

SECRET = b"rotation-contract-secret-0123456789"


class Driver:
    """Calls the sync or the async API of one service, with one awaitable interface."""

    def __init__(self, service: TokenService, clock: FakeClock, *, asynchronous: bool) -> None:
        self.service = service
        self.clock = clock
        self.asynchronous = asynchronous

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.asynchronous:
            return await getattr(self.service, "a" + name)(*args, **kwargs)
        return getattr(self.service, name)(*args, **kwargs)

    async def issue_pair(self, sub: str = "user-1", **kw: Any) -> TokenPair:
        return await self._call("issue_pair", sub, **kw)  # type: ignore[no-any-return]

    async def refresh(self, token: str, **kw: Any) -> TokenPair:
        return await self._call("refresh", token, **kw)  # type: ignore[no-any-return]

    async def verify_access(self, token: str, **kw: Any) -> TokenClaims:
        return await self._call("verify_access", token, **kw)  # type: ignore[no-any-return]

    async def revoke(self, token: str) -> None:
        await self._call("revoke", token)

    async def revoke_user(self, sub: str) -> None:
        await self._call("revoke_user", sub)

    async def revoke_session(self, sub: str, sid: str) -> None:
        await self._call("revoke_session", sub, sid)

    async def revoke_jti(self, sub: str, jti: str, **kw: Any) -> None:
        await self._call("revoke_jti", sub, jti, **kw)

    def thread_done(self) -> None:
        """Called in each racing thread as it ends (a store may close its connections)."""

    async def refresh_concurrently(self, token: str, n: int) -> list[TokenPair | Exception]:
        """Refresh the same token n times at once (threads behind a barrier, or gather)."""
        if self.asynchronous:
            results = await asyncio.gather(
                *(self.service.arefresh(token) for _ in range(n)), return_exceptions=True
            )
            return list(results)
        barrier = threading.Barrier(n)
        out: list[TokenPair | Exception] = [RuntimeError("not run")] * n

        def worker(i: int) -> None:
            barrier.wait(timeout=10)
            try:
                out[i] = self.service.refresh(token)
            except Exception as exc:
                out[i] = exc
            finally:
                self.thread_done()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        return out


MakeDriver = Callable[..., Driver]


def key() -> JWTKey:
    return JWTKey.hmac(SECRET, kid="rot-1")


class RotationContract:
    """The behaviour every token store must give the service."""

    #: How many refreshes of one token race in the concurrency tests.
    concurrent_refreshes = 20

    async def test_refresh_returns_a_new_working_pair(self, make: MakeDriver) -> None:
        """A refresh returns new tokens that verify, in the same session."""
        d = make()
        first = await d.issue_pair("user-1", claims={"roles": ["admin"]})
        d.clock.advance(10)
        second = await d.refresh(first.refresh_token)
        assert second.refresh_token != first.refresh_token
        assert second.access_token != first.access_token
        assert second.session_id == first.session_id
        claims = await d.verify_access(second.access_token, check_revoked=True)
        assert (claims.sub, claims["roles"], claims.sid) == ("user-1", ["admin"], first.session_id)

    async def test_custom_claims_carry_over_or_are_replaced(self, make: MakeDriver) -> None:
        """Refresh keeps custom claims unless new ones are given."""
        d = make()
        first = await d.issue_pair("user-1", claims={"roles": ["user"]})
        kept = await d.refresh(first.refresh_token)
        assert (await d.verify_access(kept.access_token))["roles"] == ["user"]
        replaced = await d.refresh(kept.refresh_token, claims={"roles": ["admin"]})
        assert (await d.verify_access(replaced.access_token))["roles"] == ["admin"]

    async def test_reuse_after_grace_revokes_the_family(self, make: MakeDriver) -> None:
        """A retired token presented again ends the session: the newest token dies too."""
        d = make(refresh_grace=5)
        first = await d.issue_pair()
        second = await d.refresh(first.refresh_token)
        d.clock.advance(6)
        with capture_logs() as logs, pytest.raises(InvalidToken):
            await d.refresh(first.refresh_token)  # the attacker (or the victim) replays
        assert [(e["event"], e["user_id"]) for e in logs] == [("refresh_token_reuse", "user-1")]
        with pytest.raises(InvalidToken):
            await d.refresh(second.refresh_token)  # the legitimate holder is out too
        with pytest.raises(InvalidToken):
            await d.verify_access(second.access_token, check_revoked=True)

    async def test_valid_twin_chain_of_rotations(self, make: MakeDriver) -> None:
        """The valid twin of reuse: always presenting the newest token works indefinitely."""
        d = make(refresh_grace=5)
        pair = await d.issue_pair()
        for _ in range(5):
            d.clock.advance(60)
            pair = await d.refresh(pair.refresh_token)
        assert (await d.verify_access(pair.access_token, check_revoked=True)).sub == "user-1"

    async def test_grace_window_returns_the_same_pair(self, make: MakeDriver) -> None:
        """A second refresh of the same token within the window gets the identical pair."""
        d = make(refresh_grace=5)
        first = await d.issue_pair()
        a = await d.refresh(first.refresh_token)
        d.clock.advance(4)
        b = await d.refresh(first.refresh_token)
        assert a == b
        assert a.access_token == b.access_token
        assert a.refresh_token == b.refresh_token
        # The shared new token still works afterwards.
        assert (await d.refresh(b.refresh_token)).session_id == first.session_id

    async def test_grace_window_ends(self, make: MakeDriver) -> None:
        """After the window the same replay is reuse."""
        d = make(refresh_grace=5)
        first = await d.issue_pair()
        await d.refresh(first.refresh_token)
        d.clock.advance(5.5)
        with pytest.raises(InvalidToken):
            await d.refresh(first.refresh_token)

    async def test_no_grace_means_immediate_reuse(self, make: MakeDriver) -> None:
        """With refresh_grace=0 even an immediate second refresh is reuse."""
        d = make(refresh_grace=0)
        first = await d.issue_pair()
        second = await d.refresh(first.refresh_token)
        with pytest.raises(InvalidToken):
            await d.refresh(first.refresh_token)
        with pytest.raises(InvalidToken):
            await d.refresh(second.refresh_token)

    async def test_concurrent_refreshes_get_one_pair(self, make: MakeDriver) -> None:
        """Parallel refreshes of one token (overlapping for real) all get the same pair."""
        d = make(refresh_grace=5)
        first = await d.issue_pair()
        results = await d.refresh_concurrently(first.refresh_token, self.concurrent_refreshes)
        assert all(isinstance(r, TokenPair) for r in results), results
        assert len({r.refresh_token for r in results if isinstance(r, TokenPair)}) == 1

    async def test_concurrent_refreshes_without_grace_never_fork(self, make: MakeDriver) -> None:
        """Without grace, racing refreshes can never yield two live branches of a family."""
        d = make(refresh_grace=0)
        first = await d.issue_pair()
        results = await d.refresh_concurrently(first.refresh_token, self.concurrent_refreshes)
        winners = [r for r in results if isinstance(r, TokenPair)]
        assert len(winners) >= 1
        assert all(isinstance(r, InvalidToken) for r in results if not isinstance(r, TokenPair))
        assert len({w.refresh_token for w in winners}) == 1
        if len(winners) < len(results):  # a loser was seen: the family is revoked
            with pytest.raises(InvalidToken):
                await d.refresh(winners[0].refresh_token)

    async def test_max_session_lifetime_caps_the_family(self, make: MakeDriver) -> None:
        """However often it is refreshed, a session ends at auth_time + max lifetime."""
        d = make(refresh_ttl=3600, access_ttl=600, max_session_lifetime=7200)
        start = int(d.clock.now())
        pair = await d.issue_pair()
        for _ in range(3):
            d.clock.advance(2000)
            pair = await d.refresh(pair.refresh_token)
            assert pair.refresh_expires_at <= start + 7200
            assert pair.access_expires_at <= start + 7200
        assert pair.refresh_expires_at == start + 7200
        d.clock.set(start + 7200)
        with pytest.raises(InvalidToken):
            await d.refresh(pair.refresh_token)

    async def test_expired_refresh_token_is_refused(self, make: MakeDriver) -> None:
        """A refresh token past its exp is refused; one second before, it works."""
        d = make(refresh_ttl=100)
        pair = await d.issue_pair()
        d.clock.advance(99)
        pair = await d.refresh(pair.refresh_token)
        d.clock.advance(100)
        with pytest.raises(InvalidToken):
            await d.refresh(pair.refresh_token)

    async def test_revoke_refresh_token_ends_the_session(self, make: MakeDriver) -> None:
        """Logging out with the refresh token kills it and the session's access tokens."""
        d = make()
        pair = await d.issue_pair()
        await d.revoke(pair.refresh_token)
        with pytest.raises(InvalidToken):
            await d.refresh(pair.refresh_token)
        with pytest.raises(InvalidToken):
            await d.verify_access(pair.access_token, check_revoked=True)
        # Stateless verification does not consult the store (documented).
        assert (await d.verify_access(pair.access_token)).sub == "user-1"

    async def test_revoke_expired_access_token_still_ends_session(self, make: MakeDriver) -> None:
        """Logout with an expired access token still ends its (live) session."""
        d = make(access_ttl=60)
        pair = await d.issue_pair()
        d.clock.advance(120)
        await d.revoke(pair.access_token)
        with pytest.raises(InvalidToken):
            await d.refresh(pair.refresh_token)

    async def test_other_sessions_survive_one_logout(self, make: MakeDriver) -> None:
        """Revoking one session leaves the user's other sessions working."""
        d = make()
        phone, laptop = await d.issue_pair(), await d.issue_pair()
        await d.revoke_session("user-1", phone.session_id)
        with pytest.raises(InvalidToken):
            await d.refresh(phone.refresh_token)
        assert (await d.refresh(laptop.refresh_token)).session_id == laptop.session_id

    async def test_revoke_user_ends_every_session(self, make: MakeDriver) -> None:
        """Log out everywhere: all sessions die; a login in the same second works."""
        d = make()
        a, b = await d.issue_pair(), await d.issue_pair()
        other = await d.issue_pair("user-2")
        await d.revoke_user("user-1")
        for pair in (a, b):
            with pytest.raises(InvalidToken):
                await d.refresh(pair.refresh_token)
            with pytest.raises(InvalidToken):
                await d.verify_access(pair.access_token, check_revoked=True)
        fresh = await d.issue_pair()  # same clock second as the revocation
        assert (await d.verify_access(fresh.access_token, check_revoked=True)).sub == "user-1"
        assert (await d.refresh(fresh.refresh_token)).session_id == fresh.session_id
        assert (await d.refresh(other.refresh_token)).session_id == other.session_id

    async def test_revoke_user_reaches_standalone_access_tokens(self, make: MakeDriver) -> None:
        """Access tokens without a session are refused (when checked) if issued before."""
        d = make()
        before = d.service.issue_access("user-1")
        d.clock.advance(1)
        await d.revoke_user("user-1")
        with pytest.raises(InvalidToken):
            await d.verify_access(before, check_revoked=True)
        d.clock.advance(1)
        after = d.service.issue_access("user-1")
        assert (await d.verify_access(after, check_revoked=True)).sub == "user-1"

    async def test_revoke_by_jti(self, make: MakeDriver) -> None:
        """A denied jti is refused when checked; another token of the user is not."""
        d = make()
        pair = await d.issue_pair()
        other = await d.issue_pair()
        claims = await d.verify_access(pair.access_token)
        assert claims.jti is not None
        await d.revoke_jti("user-1", claims.jti)
        with pytest.raises(InvalidToken):
            await d.verify_access(pair.access_token, check_revoked=True)
        assert (await d.verify_access(other.access_token, check_revoked=True)).sub == "user-1"

    async def test_denied_refresh_jti_cannot_rotate(self, make: MakeDriver) -> None:
        """A refresh token denied by jti is refused by refresh."""
        d = make()
        pair = await d.issue_pair()
        jti = d.service.verify_refresh(pair.refresh_token).jti
        assert jti is not None
        await d.revoke_jti("user-1", jti, expires_at=pair.refresh_expires_at)
        with pytest.raises(InvalidToken):
            await d.refresh(pair.refresh_token)

    async def test_unknown_session_is_refused(self, make: MakeDriver) -> None:
        """A correctly signed refresh token whose session this store never saw is refused."""
        d = make()
        stranger = TokenService(key(), clock=d.clock)  # same key, its own memory store
        pair = stranger.issue_pair("user-1")
        with capture_logs() as logs, pytest.raises(InvalidToken):
            await d.refresh(pair.refresh_token)
        assert logs[-1]["reason"] == "session_unknown"
        with pytest.raises(InvalidToken):
            await d.verify_access(pair.access_token, check_revoked=True)

    async def test_revocation_check_can_be_the_default(self, make: MakeDriver) -> None:
        """check_revocation=True makes verify_access consult the store by default."""
        d = make(check_revocation=True)
        pair = await d.issue_pair()
        assert (await d.verify_access(pair.access_token)).sub == "user-1"
        await d.revoke(pair.access_token)
        with pytest.raises(InvalidToken):
            await d.verify_access(pair.access_token)
        assert (await d.verify_access(pair.access_token, check_revoked=False)).sub == "user-1"
