"""WebKit.from_settings builds what the settings describe; adapters refuse what cannot work.

Each "refuses" test has a valid twin beside it. Redis tests use the shared real server
under a per-test key prefix.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from typing import Any

import pytest
from docs.snippets import quickstart_fastapi, quickstart_flask

from backendkit.auth import JWTKey, RedisTokenStore, TokenService
from backendkit.cache import Cache
from backendkit.errors import ConfigurationError, InvalidToken
from backendkit.ratelimit import AsyncRateLimiter, RateLimiter, Rule
from backendkit.redis import AsyncRedisConnector, RedisConnector
from backendkit.settings import Settings
from backendkit.web import CookieAuth, WebKit

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

SECRET = "a-secret-key-of-at-least-16-bytes"


# --------------------------------------------------------------------------- building


def test_memory_services_are_built_without_a_redis_url() -> None:
    """No Redis URL: memory limiters (sync and async), a token service and a cache."""
    kit = WebKit.from_settings(Settings(env="test", secret_key=SECRET))
    assert isinstance(kit.limiter, RateLimiter)
    assert isinstance(kit.async_limiter, AsyncRateLimiter)
    assert kit.limiter.connector is None
    assert kit.async_limiter.connector is None
    assert isinstance(kit.tokens, TokenService)
    assert not isinstance(kit.tokens.store, RedisTokenStore)
    assert isinstance(kit.cache, Cache)
    assert kit.closers == ()  # nothing opened, nothing extra to close
    pair = kit.tokens.issue_pair("user-1")
    assert kit.tokens.verify_access(pair.access_token).sub == "user-1"


def test_explicit_arguments_win() -> None:
    """A service passed in is kept as it is; the rest is still built."""
    tokens = TokenService(JWTKey.hmac("t" * 32), store="memory://")
    limiter = RateLimiter("memory://")
    cache = Cache("memory://")
    kit = WebKit.from_settings(
        Settings(env="test", secret_key=SECRET), tokens=tokens, limiter=limiter, cache=cache
    )
    assert (kit.tokens, kit.limiter, kit.cache) == (tokens, limiter, cache)
    assert isinstance(kit.async_limiter, AsyncRateLimiter)


async def test_a_redis_url_builds_redis_services_on_one_connector_pair(
    redis_url: str, redis_prefix: str
) -> None:
    """Limiters, token store and cache share one sync and one async connector."""
    settings = Settings(env="test", secret_key=SECRET, redis_url=redis_url)
    kit = WebKit.from_settings(settings, redis_key_prefix=redis_prefix)
    assert kit.limiter is not None
    assert kit.async_limiter is not None
    sync, async_ = kit.limiter.connector, kit.async_limiter.connector
    assert isinstance(sync, RedisConnector)
    assert isinstance(async_, AsyncRedisConnector)
    assert kit.tokens is not None
    store = kit.tokens.store
    assert isinstance(store, RedisTokenStore)
    assert (store._connectors.sync, store._connectors.asynchronous) == (sync, async_)
    assert kit.cache is not None
    assert kit.cache._runtime.given_sync is sync
    assert kit.cache._runtime.given_async is async_
    assert kit.closers == (sync, async_)
    assert (kit.redis, kit.async_redis) == (sync, async_)
    # They really talk to Redis, under the prefix.
    rule = Rule("t", "1/minute")
    assert kit.limiter.hit(rule, "k").allowed
    assert not (await kit.async_limiter.hit(rule, "k")).allowed
    pair = await kit.tokens.aissue_pair("user-1")
    assert (await kit.tokens.averify_access(pair.access_token)).sub == "user-1"
    kit.cache.set("x", 1, ttl=60)
    assert kit.cache.get("x", int) == 1
    keys = [k.decode() for k in sync.client.keys(redis_prefix + "*")]
    assert any(k.startswith(redis_prefix + "rl:") for k in keys)
    assert any(k.startswith(redis_prefix + "tokens:") for k in keys)
    assert any(k.startswith(redis_prefix + "cache:") for k in keys)
    await kit.aclose()


async def test_connectors_passed_in_are_shared_and_left_open(
    redis_url: str, redis_prefix: str
) -> None:
    """redis=/async_redis= are used by every service and are not the kit's to close."""
    settings = Settings(env="test", secret_key=SECRET, redis_url=redis_url)
    sync, async_ = RedisConnector(redis_url), AsyncRedisConnector(redis_url)
    kit = WebKit.from_settings(
        settings,
        redis=sync,
        async_redis=async_,
        redis_key_prefix=redis_prefix,
        token_options={"check_revocation": True},
    )
    assert kit.limiter is not None
    assert kit.async_limiter is not None
    assert (kit.limiter.connector, kit.async_limiter.connector) == (sync, async_)
    assert kit.closers == ()
    assert kit.tokens is not None
    pair = await kit.tokens.aissue_pair("user-1")
    await kit.tokens.arevoke(pair.access_token)
    with pytest.raises(InvalidToken):  # check_revocation reached the built service
        await kit.tokens.averify_access(pair.access_token)
    await kit.aclose()
    assert sync.ping()  # still open: the caller owns it
    assert await async_.ping()
    sync.close()
    await async_.aclose()


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


_BUILD = """
    import sys
    for hidden in {hidden!r}:
        sys.modules[hidden] = None  # `import hidden` raises ImportError
    from backendkit.settings import Settings
    from backendkit.web import CookieAuth, WebKit
    try:
        kit = WebKit.from_settings(Settings(env="test", secret_key="s" * 16, **{settings!r}))
    except ImportError as exc:
        print(type(exc).__name__, exc)
        raise SystemExit(3)
    print("built", kit.limiter is not None, kit.tokens is not None)
"""


@pytest.mark.parametrize(
    ("hidden", "settings", "extra"),
    [
        (["redis"], {"redis_url": "redis://127.0.0.1:1/0"}, "redis"),
        (["limits"], {"rate_limit_default": "5/minute"}, "ratelimit"),
        (["jwt"], {"jwt_secret": "j" * 32}, "auth"),
    ],
)
def test_a_missing_extra_is_named_when_the_kit_is_built(
    hidden: list[str], settings: dict[str, Any], extra: str
) -> None:
    """A setting that needs an extra raises MissingDependencyError naming it, at build time."""
    result = _run(_BUILD.format(hidden=hidden, settings=settings))
    assert result.returncode == 3, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("MissingDependencyError")
    assert f"backendkit[{extra}]" in last


@pytest.mark.parametrize(
    ("hidden", "expected"),
    [([], "built True True"), (["limits"], "built False True"), (["jwt"], "built True False")],
)
def test_without_a_setting_that_needs_it_a_missing_extra_is_fine(
    hidden: list[str], expected: str
) -> None:
    """Valid twin: no Redis URL, no default limit, no JWT secret: the kit builds what it can."""
    result = _run(_BUILD.format(hidden=hidden, settings={}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


# --------------------------------------------------------------------------- check()


@pytest.mark.parametrize(("flavour", "missing"), [("sync", "limiter"), ("async", "async_limiter")])
def test_check_refuses_a_default_limit_without_its_limiter(flavour: Any, missing: str) -> None:
    """A default limit and no limiter of the framework's flavour: refused, naming the setting."""
    kit = WebKit(settings=Settings(env="test", rate_limit_default="2/minute"))
    with pytest.raises(ConfigurationError, match="BACKENDKIT_RATE_LIMIT_DEFAULT") as info:
        kit.check(flavour)
    assert missing in str(info.value)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_check_accepts_a_built_kit(flavour: Any) -> None:
    """Valid twin: from_settings builds both limiters, so either flavour passes."""
    WebKit.from_settings(Settings(env="test", rate_limit_default="2/minute")).check(flavour)
    WebKit(settings=Settings(env="test")).check(flavour)  # no default limit: nothing needed


def test_check_refuses_a_jwt_secret_without_a_token_service() -> None:
    """A JWT secret describes authentication: a hand-built kit without tokens is refused."""
    with pytest.raises(ConfigurationError, match="BACKENDKIT_JWT_SECRET"):
        WebKit(settings=Settings(env="test", jwt_secret="j" * 32)).check("sync")
    WebKit.from_settings(Settings(env="test", jwt_secret="j" * 32)).check("sync")


def test_check_refuses_cookie_auth_without_a_token_service() -> None:
    """Cookie transport authenticates: a kit without tokens is refused; with them it passes."""
    settings = Settings(env="test", secret_key=SECRET)
    with pytest.raises(ConfigurationError, match="cookie_auth"):
        WebKit(settings=settings, cookie_auth=CookieAuth()).check("async")
    WebKit.from_settings(settings, cookie_auth=CookieAuth()).check("async")


# --------------------------------------------------------------------------- install


def _api_ping_fastapi(app: Any) -> None:
    @app.get("/api/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}


def _api_ping_flask(app: Any) -> None:
    @app.get("/api/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}


LIMITED = Settings(env="test", rate_limit_default="2/minute")


def test_quickstart_fastapi_with_a_default_limit_answers_429_not_500() -> None:
    """The quickstart with BACKENDKIT_RATE_LIMIT_DEFAULT=2/minute: 200, 200, 429."""
    app = quickstart_fastapi.create_app(LIMITED)
    _api_ping_fastapi(app)
    client = TestClient(app)
    statuses = [client.get("/api/ping").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_quickstart_flask_with_a_default_limit_answers_429_not_500() -> None:
    """The Flask quickstart with the same setting: 200, 200, 429."""
    app = quickstart_flask.create_app(LIMITED)
    _api_ping_flask(app)
    client = app.test_client()
    statuses = [client.get("/api/ping").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_fastapi_install_refuses_a_default_limit_without_an_async_limiter() -> None:
    """install() stops the start (not every request) when the kit cannot charge the limit."""
    from fastapi import FastAPI

    from backendkit.adapters.fastapi import install

    bare = WebKit(settings=LIMITED, limiter=RateLimiter("memory://"))
    with pytest.raises(ConfigurationError, match="BACKENDKIT_RATE_LIMIT_DEFAULT"):
        install(FastAPI(), bare)
    install(FastAPI(), WebKit(settings=LIMITED, async_limiter=AsyncRateLimiter("memory://")))


def test_flask_init_app_refuses_a_default_limit_without_a_limiter() -> None:
    """init_app() refuses a kit with a default limit and no sync limiter; its twin installs."""
    from flask import Flask

    from backendkit.adapters.flask import BackendKit

    bare = WebKit(settings=LIMITED, async_limiter=AsyncRateLimiter("memory://"))
    with pytest.raises(ConfigurationError, match="BACKENDKIT_RATE_LIMIT_DEFAULT"):
        BackendKit(Flask("refused"), kit=bare)
    BackendKit(Flask("accepted"), kit=WebKit(settings=LIMITED, limiter=RateLimiter("memory://")))


# --------------------------------------------------------------------------- dev key


def test_the_development_key_warns_once_per_process() -> None:
    """No JWT secret and no secret key: one loud warning, however many services are built."""
    code = """
        from backendkit.auth import TokenService
        from backendkit.settings import Settings
        from backendkit.testing import capture_logs
        with capture_logs() as logs:
            for _ in range(3):
                TokenService.from_settings(Settings(env="development"))
            TokenService.from_settings(Settings(env="test", secret_key="s" * 16))
        print(sum(e.get("event") == "development_signing_key" for e in logs))
    """
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


def test_a_configured_secret_does_not_warn() -> None:
    """Valid twin: with a secret key, no development-key warning."""
    code = """
        from backendkit.auth import TokenService
        from backendkit.settings import Settings
        from backendkit.testing import capture_logs
        with capture_logs() as logs:
            TokenService.from_settings(Settings(env="development", secret_key="s" * 16))
            TokenService.from_settings(Settings(env="development", jwt_secret="j" * 32))
        print(sum(e.get("event") == "development_signing_key" for e in logs))
    """
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def _kid(settings: Settings) -> str:
    token = TokenService.from_settings(settings).issue_pair("u").access_token
    header = token.split(".")[0]
    padded = header + "=" * (-len(header) % 4)
    import base64

    return str(json.loads(base64.urlsafe_b64decode(padded))["kid"])


def test_two_apps_on_the_development_key_get_different_keys() -> None:
    """Apps that name themselves differently do not share the development key (or kid)."""
    one = Settings(env="development", jwt_issuer="app-one", jwt_audience="one-api")
    two = Settings(env="development", jwt_issuer="app-two", jwt_audience="two-api")
    assert _kid(one) != _kid(two)
    assert _kid(one) == _kid(one)  # stable across restarts of the same app
