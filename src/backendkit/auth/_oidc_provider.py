"""One identity provider's signing keys: discovery, JWKS fetching and the key cache.

[`OIDCProvider`][backendkit.auth.OIDCProvider] finds the key set from the issuer's
discovery document (``/.well-known/openid-configuration``, fetched once) or from a JWKS
URL given outright, and caches the keys. Which keys to use and when to fetch is decided
by one I/O-free step (``_plan``) that the sync and async paths share:

- a key that is cached is used; once the cache is older than ``cache_ttl`` the next
  request refreshes it, and every other request keeps using the cached key meanwhile;
- a ``kid`` not in the cache triggers a refetch, but at most one attempt (of any kind)
  starts per ``cooldown``, however many tokens arrive: a flood of made-up key ids costs
  the provider one request per cooldown, never one per token;
- one attempt at a time (single-flight): sync callers wait on a lock-guarded event,
  async callers on one shared task; each waiter then decides from the new cache;
- when the provider is down or slow, cached keys keep working (stale is better than
  refusing every user); a token whose key is not cached is then a 503 with
  ``Retry-After`` (the end of the cooldown), decided within ``timeout``;
- after a successful fetch, a ``kid`` the provider does not publish is a 401.

Which keys of a JWKS are used, and with which algorithm, is ``_oidc_jwks``'s part.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from backendkit.auth._algorithms import HMAC_ALGORITHMS, SUPPORTED_ALGORITHMS
from backendkit.auth._jwt import Rejected
from backendkit.auth._keys import JWTKey
from backendkit.auth._oidc_fetch import FetchFailed, afetch_json, check_url, fetch_json
from backendkit.auth._oidc_jwks import parse_jwks
from backendkit.clock import Clock, system_clock
from backendkit.errors import ConfigurationError, ServiceUnavailable
from backendkit.logging import get_logger

__all__ = ["DISCOVERY_PATH", "OIDCProvider"]

#: Where an issuer publishes its discovery document (OpenID Connect Discovery 1.0 §4).
DISCOVERY_PATH = "/.well-known/openid-configuration"
_log = get_logger("backendkit.auth")

PlanKind = Literal["use", "refresh", "fetch", "unknown", "unavailable"]


@dataclass(frozen=True, slots=True)
class _State:
    """What the cache knows, replaced whole (under the lock) so a reader sees one moment."""

    keys: Mapping[str, JWTKey] | None = None  # None: no fetch has succeeded yet
    fetched_at: float = 0.0
    attempted_at: float | None = None
    failed: bool = False  # the last attempt failed
    pinned: bool = False  # keys given at construction: never fetched, never stale


@dataclass(frozen=True, slots=True)
class _Plan:
    kind: PlanKind
    key: JWTKey | None = None
    retry_after: float = 0.0


@dataclass(frozen=True, slots=True)
class _Step:
    """What a key lookup does next: answer ``key``, run the fetch ``run`` (its own), wait
    for another caller's ``wait``, or (none of them) plan again."""

    key: JWTKey | None = None
    run: _Flight | None = None
    wait: _Flight | None = None


class _Flight:
    """One fetch attempt in progress: sync waiters wait on ``done``, async ones on ``task``."""

    __slots__ = ("done", "started", "task")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.started = time.monotonic()
        self.task: asyncio.Task[None] | None = None

    def abandoned(self, timeout: float) -> bool:
        # A fetch whose event loop closed under it never finishes: forget it after a while.
        return time.monotonic() - self.started > 2 * timeout + 1


class OIDCProvider:
    """An issuer's signing keys, fetched from its discovery document or JWKS URL and cached.

    Args:
        issuer: the issuer identifier, exactly as the provider writes it in ``iss``
            (``https://tenant.eu.auth0.com/``, with or without its trailing slash as the
            provider has it).
        jwks_url: the JWKS URL; by default read from the discovery document at
            ``issuer + "/.well-known/openid-configuration"``.
        algorithms: the algorithms this issuer's keys may use (default ``RS256``, the one
            every OpenID provider supports). A JWK naming another is skipped.
        cache_ttl: seconds a fetched key set is fresh (default 600).
        cooldown: minimum seconds between two fetch attempts (default 30), whatever
            triggers them.
        timeout: seconds one refresh may take in total, discovery included (default 3).
        clock: the time source for the cache (tests move it).
        keys: pinned keys instead of fetching (your app's tests, or a deployment that
            distributes the provider's public keys itself): nothing is ever fetched, and
            a ``kid`` not among them is refused. Each key's algorithm must be allowed.

    Raises:
        ConfigurationError: a URL that is not ``https://`` (``http://`` only to
            localhost), an unsupported or HMAC algorithm, or a non-positive duration.

    Example:
        >>> provider = OIDCProvider("https://idp.example.com/realms/main")
        >>> provider.discovery_url
        'https://idp.example.com/realms/main/.well-known/openid-configuration'
    """

    def __init__(
        self,
        issuer: str,
        *,
        jwks_url: str | None = None,
        keys: Iterable[JWTKey] | JWTKey | None = None,
        algorithms: Iterable[str] = ("RS256",),
        cache_ttl: float = 600.0,
        cooldown: float = 30.0,
        timeout: float = 3.0,
        clock: Clock = system_clock,
    ) -> None:
        self.issuer = check_url(issuer, "issuer")
        self.discovery_url = issuer.rstrip("/") + DISCOVERY_PATH
        self._jwks_url = None if jwks_url is None else check_url(jwks_url, "JWKS URL")
        allowed = frozenset([algorithms] if isinstance(algorithms, str) else algorithms)
        wrong = allowed - (frozenset(SUPPORTED_ALGORITHMS) - HMAC_ALGORITHMS)
        if not allowed or wrong:
            raise ConfigurationError(
                "a provider's algorithms must be among "
                f"{sorted(frozenset(SUPPORTED_ALGORITHMS) - HMAC_ALGORITHMS)}"
            )
        self.algorithms = allowed
        for name, value in (("cache_ttl", cache_ttl), ("cooldown", cooldown), ("timeout", timeout)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigurationError(f"OIDCProvider {name} must be a positive number")
        self.cache_ttl, self.cooldown = float(cache_ttl), float(cooldown)
        self.timeout = float(timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self._state = _State() if keys is None else self._pinned(keys, jwks_url)
        self._flight: _Flight | None = None

    def __repr__(self) -> str:
        return f"OIDCProvider(issuer={self.issuer!r})"

    def _pinned(self, keys: Iterable[JWTKey] | JWTKey, jwks_url: str | None) -> _State:
        pinned = {key.kid: key for key in ([keys] if isinstance(keys, JWTKey) else keys)}
        if jwks_url is not None or not pinned:
            raise ConfigurationError("OIDCProvider keys= needs at least one key, and no jwks_url")
        if any(key.algorithm not in self.algorithms for key in pinned.values()):
            raise ConfigurationError("OIDCProvider keys= holds a key outside its algorithms")
        return _State(keys=MappingProxyType(pinned), pinned=True)

    @property
    def jwks_url(self) -> str | None:
        """The JWKS URL: as configured, or as discovery gave it (``None`` before that)."""
        return self._jwks_url

    @property
    def kids(self) -> frozenset[str]:
        """The key ids cached now (empty before the first successful fetch)."""
        keys = self._state.keys
        return frozenset() if keys is None else frozenset(keys)

    # -- the decision (no I/O) ---------------------------------------------------------------

    def _plan(self, kid: str | None, now: float) -> _Plan:
        state = self._state
        keys, attempted = state.keys, state.attempted_at
        may_fetch = not state.pinned and (attempted is None or now - attempted >= self.cooldown)
        key = None if keys is None else _lookup(keys, kid)
        if key is not None:
            stale = now - state.fetched_at >= self.cache_ttl
            return _Plan("refresh" if stale and may_fetch else "use", key)
        if may_fetch:
            return _Plan("fetch")
        if keys is None or state.failed:
            wait = self.cooldown - (now - (attempted or now))
            return _Plan("unavailable", retry_after=max(wait, 1.0))
        return _Plan("unknown")

    def _begin(self) -> _Flight | None:
        # Claims the attempt under the lock, so two callers cannot both start one.
        with self._lock:
            now, state, flight = self._clock.now(), self._state, self._flight
            attempted = state.attempted_at
            if (flight is not None and not flight.abandoned(self.timeout)) or (
                attempted is not None and now - attempted < self.cooldown
            ):
                return None
            self._state = dataclasses.replace(state, attempted_at=now)
            self._flight = _Flight()
            return self._flight

    def _step(self, kid: str | None) -> _Step:
        # One turn of key_for and akey_for, which differ only in how they run and wait.
        plan = self._plan(kid, self._clock.now())
        if plan.kind == "use":
            return _Step(key=self._decide(plan))
        flight = self._begin() if plan.kind in ("refresh", "fetch") else None
        if flight is not None:
            return _Step(run=flight)
        if plan.kind == "refresh":  # another caller is refreshing: the cached key serves
            return _Step(key=self._decide(plan))
        current = self._flight
        if current is not None:
            return _Step(wait=current)
        if plan.kind != "fetch":
            return _Step(key=self._decide(plan))
        return _Step()  # "fetch" lost a race to an attempt that just ended: plan again

    def _finish(self, flight: _Flight, keys: dict[str, JWTKey] | None, reason: str) -> None:
        with self._lock:
            state = self._state
            if keys:
                fresh = MappingProxyType(keys)
                self._state = dataclasses.replace(
                    state, keys=fresh, fetched_at=self._clock.now(), failed=False
                )
            else:
                self._state = dataclasses.replace(state, failed=True)
            if self._flight is flight:
                self._flight = None
        flight.done.set()
        if not keys:
            _log.warning(
                "oidc_keys_unavailable",
                issuer=self.issuer,
                reason=reason or "no_usable_key",
                cached=self._state.keys is not None,
            )

    @staticmethod
    def _decide(plan: _Plan) -> JWTKey:
        if plan.key is not None:
            return plan.key
        if plan.kind == "unknown":
            raise Rejected("unknown_kid")
        raise ServiceUnavailable(
            "The identity provider's keys are unavailable",
            retry_after=max(plan.retry_after, 1.0),
        )

    def _deadline(self) -> float:
        return time.monotonic() + self.timeout

    def _check_discovery(self, document: Mapping[str, Any]) -> str:
        # OpenID Connect Discovery §4.3: the document must name exactly this issuer.
        if document.get("issuer") != self.issuer:
            raise FetchFailed("issuer_mismatch")
        url = document.get("jwks_uri")
        try:
            return check_url(url, "jwks_uri")  # type: ignore[arg-type]
        except ConfigurationError:
            raise FetchFailed("bad_jwks_uri") from None

    # -- sync --------------------------------------------------------------------------------

    def key_for(self, kid: str | None) -> JWTKey:
        """The key for a token's ``kid``, fetching the key set if the rules above allow.

        Raises:
            Rejected: the provider does not publish this key (a 401 for the caller).
            ServiceUnavailable: the key is not cached and the provider cannot be reached.
        """
        for _ in range(3):
            step = self._step(kid)
            if step.key is not None:
                return step.key
            if step.run is not None:
                self._run(step.run)
            elif step.wait is not None:
                step.wait.done.wait(self.timeout)
        return self._decide(self._plan(kid, self._clock.now()))

    def _run(self, flight: _Flight) -> None:
        keys, reason = None, "error"
        try:
            deadline = self._deadline()
            url = self._jwks_url or self._discover(fetch_json(self.discovery_url, deadline))
            keys, reason = parse_jwks(fetch_json(url, deadline), self.algorithms), ""
        except FetchFailed as exc:
            reason = exc.reason
        finally:
            self._finish(flight, keys, reason)

    def _discover(self, document: dict[str, Any]) -> str:
        self._jwks_url = self._check_discovery(document)
        return self._jwks_url

    # -- async -------------------------------------------------------------------------------

    async def akey_for(self, kid: str | None) -> JWTKey:
        """Async twin of [`key_for`][backendkit.auth.OIDCProvider.key_for]: fetches with
        httpx's ``AsyncClient``; concurrent callers share one fetch task."""
        for _ in range(3):
            step = self._step(kid)
            if step.key is not None:
                return step.key
            if step.run is not None:
                flight = step.run
                flight.task = asyncio.get_running_loop().create_task(self._arun(flight))
                # Shielded: a caller that gives up does not cancel the others' fetch.
                await asyncio.shield(flight.task)
            elif step.wait is not None:
                await _wait(step.wait, self.timeout)
        return self._decide(self._plan(kid, self._clock.now()))

    async def _arun(self, flight: _Flight) -> None:
        keys, reason = None, "error"
        try:
            deadline = self._deadline()
            url = self._jwks_url or self._discover(await afetch_json(self.discovery_url, deadline))
            keys, reason = parse_jwks(await afetch_json(url, deadline), self.algorithms), ""
        except FetchFailed as exc:
            reason = exc.reason
        finally:
            self._finish(flight, keys, reason)


def _lookup(keys: Mapping[str, JWTKey], kid: str | None) -> JWTKey | None:
    if kid is not None:
        return keys.get(kid)
    # A token without a kid is verified only by a provider's single key.
    return next(iter(keys.values())) if len(keys) == 1 else None


async def _wait(flight: _Flight, timeout: float) -> None:
    task = flight.task
    if task is not None and task.get_loop() is asyncio.get_running_loop():
        await asyncio.shield(task)
        return
    # A fetch by a sync caller (or another event loop): wait for it off this loop.
    wait: Callable[[], bool] = lambda: flight.done.wait(timeout)  # noqa: E731
    done: Awaitable[bool] = asyncio.get_running_loop().run_in_executor(None, wait)
    await done
