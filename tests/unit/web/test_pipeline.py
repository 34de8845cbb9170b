"""The framework-free request pipeline, driven through a plain RequestFacts.

Every adapter translates its request into these reads and calls these steps; what is tested
here is therefore what every framework does.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from backendkit.auth import JWTKey, TokenService
from backendkit.errors import (
    ConfigurationError,
    Forbidden,
    InvalidToken,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
)
from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
from backendkit.settings import Settings
from backendkit.testing import FakeClock
from backendkit.web import CookieAuth, Pipeline, Principal, RequestCycle, RouteLimit, WebKit


@dataclass
class Facts:
    """A request as an adapter would describe it."""

    method: str = "GET"
    path: str = "/api/notes"
    peer: str | None = "203.0.113.7"
    headers: dict[str, str] = field(default_factory=dict)
    cookie_jar: dict[str, str] = field(default_factory=dict)
    template: str = "/api/notes"
    session: str | None = None
    native: Any = "native-request"

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def cookies(self) -> Mapping[str, str]:
        return self.cookie_jar

    def route(self) -> str:
        return self.template

    def session_user(self) -> str | None:
        return self.session


def make_pipeline(
    *,
    default: str | None = None,
    cookie_auth: CookieAuth | None = None,
    limiter: bool = True,
    async_limiter: bool = True,
    offload: Any = None,
) -> Pipeline:
    clock = FakeClock()
    settings = Settings(env="test", rate_limit_default=default)
    tokens = TokenService(JWTKey.hmac("s" * 32), store="memory://", clock=clock)
    kit = WebKit(
        settings=settings,
        tokens=tokens,
        limiter=RateLimiter("memory://", clock=clock) if limiter else None,
        async_limiter=AsyncRateLimiter("memory://", clock=clock) if async_limiter else None,
        cookie_auth=cookie_auth,
    )
    return Pipeline(kit, offload=offload)


def start(pipeline: Pipeline, facts: Facts) -> RequestCycle:
    return pipeline.start(method=facts.method, path=facts.path, request_id=None)


def bearer(pipeline: Pipeline, sub: str, **claims: Any) -> dict[str, str]:
    assert pipeline.kit.tokens is not None
    return {"Authorization": f"Bearer {pipeline.kit.tokens.issue_access(sub, claims=claims)}"}


# ------------------------------------------------------------------- RouteLimit vocabulary


@pytest.mark.parametrize("key", ["login:1.2.3.4", "IP", "address", ""])
def test_an_ambiguous_key_string_is_refused(key: str) -> None:
    """A string that is not a key kind used to count under the client address in silence."""
    with pytest.raises(ConfigurationError, match="bucket="):
        RouteLimit("5/minute", key=key)  # type: ignore[arg-type]


def test_the_key_kinds_a_function_and_a_literal_bucket_are_accepted() -> None:
    """The valid twins of the refusal above."""
    assert RouteLimit("5/minute").key == "ip"
    assert RouteLimit("5/minute", key="user").needs_user
    assert callable(RouteLimit("5/minute", key=lambda request: "k").key)
    assert RouteLimit("5/minute", bucket="login:1.2.3.4").bucket == "login:1.2.3.4"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"key": "ip", "bucket": "b"}, "not both"),
        ({"bucket": ""}, "non-empty"),
        ({"cost": 0}, "at least 1"),
        ({"cost": True}, "at least 1"),
    ],
)
def test_contradictory_limits_are_refused(options: dict[str, Any], message: str) -> None:
    """Both a key and a bucket, an empty bucket or a cost below one: refused when defined."""
    with pytest.raises(ConfigurationError, match=message):
        RouteLimit("5/minute", **options)


def test_an_unparsable_limit_fails_when_defined() -> None:
    """Not at the first request."""
    with pytest.raises(ValueError, match="limit"):
        RouteLimit("lots")


def test_the_rule_is_named_after_the_route_template_unless_named() -> None:
    """The same template in every worker gives the same counters."""
    assert RouteLimit("5/minute").rule("get", "/notes/{id}").name == "GET/notes/id"
    assert RouteLimit("5/minute", name="login").rule("POST", "/x").name == "login"


# ------------------------------------------------------------------- start and admit


def test_admit_refuses_a_declared_body_over_the_cap() -> None:
    """The declared size is checked before anything reads the body; a size at the cap passes."""
    pipeline = make_pipeline()
    cap = pipeline.kit.max_body_bytes
    facts = Facts(method="POST")
    pipeline.admit(start(pipeline, facts), facts, str(cap))
    with pytest.raises(PayloadTooLarge):
        pipeline.admit(start(pipeline, facts), facts, str(cap + 1))


def test_the_default_limit_charges_api_paths_per_address_only() -> None:
    """Under the API prefix, per client address; outside it and on exempt paths, never."""
    pipeline = make_pipeline(default="2/minute")
    pipeline.exempt("/api/health")
    api, page, health = Facts(), Facts(path="/about"), Facts(path="/api/health")
    for _ in range(2):
        pipeline.admit(start(pipeline, api), api, None)
    with pytest.raises(RateLimited):
        pipeline.admit(start(pipeline, api), api, None)
    for _ in range(5):
        pipeline.admit(start(pipeline, page), page, None)
        pipeline.admit(start(pipeline, health), health, None)
    other = Facts(peer="198.51.100.1")
    pipeline.admit(start(pipeline, other), other, None)


def test_the_async_default_limit_counts_like_the_sync_one() -> None:
    """The async twin charges the async limiter with the same rule and bucket."""
    pipeline = make_pipeline(default="1/minute")
    facts = Facts()

    async def run() -> None:
        await pipeline.aadmit(start(pipeline, facts), facts, None)
        with pytest.raises(RateLimited):
            await pipeline.aadmit(start(pipeline, facts), facts, None)

    asyncio.run(run())


def test_an_async_request_without_an_async_limiter_uses_the_offload() -> None:
    """Django under ASGI with a hand-built sync-only kit: the sync limiter, off the loop."""
    calls: list[Callable[[], Any]] = []

    async def offload(call: Callable[[], Any]) -> Any:
        calls.append(call)
        return call()

    pipeline = make_pipeline(default="1/minute", async_limiter=False, offload=offload)
    facts = Facts()

    async def run() -> None:
        await pipeline.aadmit(start(pipeline, facts), facts, None)
        with pytest.raises(RateLimited):
            await pipeline.aadmit(start(pipeline, facts), facts, None)

    asyncio.run(run())
    assert len(calls) == 2


def test_an_async_request_without_any_async_way_to_limit_is_a_configuration_error() -> None:
    """No async limiter and no offload: said plainly."""
    pipeline = make_pipeline(default="1/minute", async_limiter=False)
    facts = Facts()
    with pytest.raises(ConfigurationError, match="async_limiter"):
        asyncio.run(pipeline.aadmit(start(pipeline, facts), facts, None))


# ------------------------------------------------------------------- authentication


def test_no_credentials_is_anonymous_and_authorize_refuses_it() -> None:
    """principal() is None; authorize() is a 401."""
    pipeline = make_pipeline()
    facts = Facts()
    cycle = start(pipeline, facts)
    assert pipeline.principal(cycle, facts) is None
    with pytest.raises(Unauthenticated):
        pipeline.authorize(cycle, facts)


def test_a_bearer_token_gives_the_principal_once_per_request() -> None:
    """Verified once: the cycle remembers it, binds the user and makes the response no-store."""
    pipeline = make_pipeline()
    facts = Facts(headers=bearer(pipeline, "u1", roles=["admin"], scope="read"))
    cycle = start(pipeline, facts)
    principal = pipeline.authorize(cycle, facts, roles=["admin"], scopes=["read"])
    assert principal.user_id == "u1"
    assert cycle.user_id == "u1"
    assert cycle.no_store
    facts.headers = {"Authorization": "Bearer not.a.token"}
    assert pipeline.principal(cycle, facts) is principal  # not verified again
    with pytest.raises(Forbidden):
        pipeline.authorize(cycle, facts, roles=["owner"])


def test_an_invalid_token_is_a_401_even_where_authentication_is_optional() -> None:
    """A client that sent credentials expects them to be used."""
    pipeline = make_pipeline()
    facts = Facts(headers={"Authorization": "Bearer not.a.token"})
    with pytest.raises(InvalidToken):
        pipeline.principal(start(pipeline, facts), facts)


def test_async_authentication_matches_sync() -> None:
    """The async twin verifies with the async store and gives the same principal."""
    pipeline = make_pipeline()
    facts = Facts(headers=bearer(pipeline, "u2", scope="a b"))
    principal = asyncio.run(pipeline.aauthorize(start(pipeline, facts), facts, scopes=["a"]))
    assert principal.user_id == "u2"
    assert principal.scopes == {"a", "b"}


def test_the_cookie_transport_checks_csrf_on_unsafe_methods() -> None:
    """The cookie is read only with cookie_auth; an unsafe request must echo the CSRF cookie."""
    pipeline = make_pipeline(cookie_auth=CookieAuth())
    assert pipeline.kit.tokens is not None
    token = pipeline.kit.tokens.issue_access("u3")
    jar = {"access_token": token, "csrf_token": "c" * 20}
    safe = Facts(cookie_jar=jar)
    assert pipeline.authorize(start(pipeline, safe), safe).user_id == "u3"
    forged = Facts(method="DELETE", cookie_jar=jar)
    with pytest.raises(Forbidden):
        pipeline.principal(start(pipeline, forged), forged)
    echoed = Facts(method="DELETE", cookie_jar=jar, headers={"x-csrf-token": "c" * 20})
    assert pipeline.authorize(start(pipeline, echoed), echoed).user_id == "u3"


def test_without_cookie_auth_a_cookie_is_not_a_credential() -> None:
    """The twin: the same cookie on a kit without the cookie transport is anonymous."""
    pipeline = make_pipeline()
    assert pipeline.kit.tokens is not None
    facts = Facts(cookie_jar={"access_token": pipeline.kit.tokens.issue_access("u4")})
    assert pipeline.principal(start(pipeline, facts), facts) is None


# ------------------------------------------------------------------- route limits


def charge_twice(pipeline: Pipeline, limit: RouteLimit, first: Facts, second: Facts) -> None:
    """The first request passes; the second is denied when it shares the bucket."""
    pipeline.charge(start(pipeline, first), first, limit)
    pipeline.charge(start(pipeline, second), second, limit)


def test_ip_keys_count_per_client_address() -> None:
    """Two addresses, two buckets; one address, one bucket."""
    pipeline = make_pipeline()
    limit = RouteLimit("1/minute")
    charge_twice(pipeline, limit, Facts(), Facts(peer="198.51.100.1"))
    with pytest.raises(RateLimited):
        charge_twice(pipeline, limit, Facts(peer="192.0.2.1"), Facts(peer="192.0.2.1"))


def test_user_keys_count_per_verified_user_then_session_then_address() -> None:
    """The token's user first (verified before charging), else a session user, else the address."""
    pipeline = make_pipeline()
    limit = RouteLimit("1/minute", key="user", name="per-user")
    one, two = bearer(pipeline, "alice"), bearer(pipeline, "bob")
    # Same address, different users: separate buckets.
    charge_twice(pipeline, limit, Facts(headers=one), Facts(headers=two))
    with pytest.raises(RateLimited):
        pipeline.charge(start(pipeline, Facts(headers=one)), Facts(headers=one), limit)
    # A session user (Django) is a user too; anonymous requests share their address's bucket.
    charge_twice(pipeline, limit, Facts(session="carol"), Facts(peer="192.0.2.9"))
    with pytest.raises(RateLimited):
        pipeline.charge(start(pipeline, Facts(peer="192.0.2.9")), Facts(peer="192.0.2.9"), limit)


def test_a_literal_bucket_and_a_key_function_are_used_as_given() -> None:
    """bucket= is the key itself; a function receives the framework's own request."""
    pipeline = make_pipeline()
    seen: list[Any] = []

    def key(request: Any) -> str:
        seen.append(request)
        return "shared"

    charge_twice(pipeline, RouteLimit("2/minute", bucket="b1"), Facts(), Facts(peer="192.0.2.1"))
    with pytest.raises(RateLimited):
        pipeline.charge(start(pipeline, Facts()), Facts(), RouteLimit("2/minute", bucket="b1"))
    charge_twice(pipeline, RouteLimit("2/minute", key=key), Facts(), Facts(peer="192.0.2.1"))
    assert seen == ["native-request", "native-request"]


def test_cost_charges_that_many_units() -> None:
    """A cost of 2 on a limit of 3: the second request is denied, with cost 1 it is not."""
    pipeline = make_pipeline()
    heavy = RouteLimit("3/minute", cost=2, name="heavy")
    pipeline.charge(start(pipeline, Facts()), Facts(), heavy)
    with pytest.raises(RateLimited):
        pipeline.charge(start(pipeline, Facts()), Facts(), heavy)
    light = RouteLimit("3/minute", name="light")
    for _ in range(3):
        pipeline.charge(start(pipeline, Facts()), Facts(), light)


def test_an_async_key_function_needs_the_async_twin() -> None:
    """Sync charge refuses an awaitable key; acharge awaits it."""
    pipeline = make_pipeline()

    async def key(request: Any) -> str:
        return "async-bucket"

    limit = RouteLimit("1/minute", key=key)
    with pytest.raises(ConfigurationError, match="async"):
        pipeline.charge(start(pipeline, Facts()), Facts(), limit)

    async def run() -> None:
        await pipeline.acharge(start(pipeline, Facts()), Facts(), limit)
        with pytest.raises(RateLimited):
            await pipeline.acharge(start(pipeline, Facts()), Facts(), limit)

    asyncio.run(run())


def test_the_response_carries_the_most_restrictive_rules_headers() -> None:
    """Two rules on one request: the one with less room left names the headers."""
    pipeline = make_pipeline()
    facts = Facts()
    cycle = start(pipeline, facts)
    pipeline.charge(cycle, facts, RouteLimit("10/minute", name="wide"))
    pipeline.charge(cycle, facts, RouteLimit("2/minute", name="narrow"))
    headers = cycle.response_headers()
    assert headers["RateLimit-Limit"] == "2"
    assert headers["RateLimit-Remaining"] == "1"


def test_a_kit_without_a_limiter_says_so_when_a_limit_is_charged() -> None:
    """A hand-built kit without a limiter: a ConfigurationError naming it."""
    pipeline = make_pipeline(limiter=False)
    with pytest.raises(ConfigurationError, match="limiter"):
        pipeline.charge(start(pipeline, Facts()), Facts(), RouteLimit("1/minute"))


def test_render_gives_the_envelope_with_the_request_id() -> None:
    """Errors render through the core with the cycle's request id and user."""
    pipeline = make_pipeline()
    cycle = pipeline.start(method="GET", path="/api/x", request_id="rid-123")
    rendered = pipeline.render(cycle, Unauthenticated())
    assert rendered.status == 401
    assert b'"requestId":"rid-123"' in rendered.body.replace(b" ", b"")
    assert rendered.headers["WWW-Authenticate"].startswith("Bearer")


# ------------------------------------------------------------------- the user loader


def with_loader(loader: Any) -> Pipeline:
    pipeline = make_pipeline()
    kit = dataclasses.replace(pipeline.kit, user_loader=loader)
    return Pipeline(kit)


def test_the_user_loader_puts_the_apps_record_on_the_principal() -> None:
    """Loaded once per request, after the token verifies; anonymous requests load nothing."""
    calls: list[str] = []

    def load(principal: Principal) -> dict[str, str]:
        calls.append(principal.user_id)
        return {"name": f"user {principal.user_id}"}

    pipeline = with_loader(load)
    facts = Facts(headers=bearer(pipeline, "u5"))
    cycle = start(pipeline, facts)
    assert pipeline.authorize(cycle, facts).user == {"name": "user u5"}
    pipeline.principal(cycle, facts)
    assert pipeline.principal(start(pipeline, Facts()), Facts()) is None
    assert calls == ["u5"]


def test_a_user_that_no_longer_exists_is_an_invalid_token() -> None:
    """The loader's None is a 401, as for a revoked token; the twin above loads a record."""
    pipeline = with_loader(lambda principal: None)
    facts = Facts(headers=bearer(pipeline, "gone"))
    with pytest.raises(InvalidToken):
        pipeline.principal(start(pipeline, facts), facts)


def test_an_async_user_loader_is_awaited_by_the_async_twin_only() -> None:
    """Under ASGI the loader may be async; a sync request refuses it plainly."""

    async def load(principal: Principal) -> str:
        return f"record {principal.user_id}"

    pipeline = with_loader(load)
    facts = Facts(headers=bearer(pipeline, "u6"))
    principal = asyncio.run(pipeline.aprincipal(start(pipeline, facts), facts))
    assert principal is not None
    assert principal.user == "record u6"
    with pytest.raises(ConfigurationError, match="async"):
        pipeline.principal(start(pipeline, facts), facts)


def test_render_without_a_cycle_has_no_request_id() -> None:
    """A view served without the middleware: the same envelope, with a null request id."""
    rendered = make_pipeline().render(None, Unauthenticated())
    assert rendered.status == 401
    assert b'"requestId":null' in rendered.body


def test_admits_without_checks_only_when_admit_has_nothing_to_do() -> None:
    """No declared body and no default limit on the path: nothing to check; else there is."""
    pipeline = make_pipeline(default="5/minute")
    pipeline.exempt("/api/health")
    assert pipeline.admits_without_checks("/about", None)
    assert pipeline.admits_without_checks("/api/health", None)
    assert not pipeline.admits_without_checks("/api/notes", None)
    assert not pipeline.admits_without_checks("/about", "10")
    assert make_pipeline().admits_without_checks("/api/notes", None)
