"""Importing a module whose optional extra is missing names the extra to install."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# (module, third-party package hidden from it, extra that provides it)
CASES = [
    ("backendkit.redis", "redis", "redis"),
    ("backendkit.auth", "jwt", "auth"),
    ("backendkit.auth", "bcrypt", "auth"),
    ("backendkit.ratelimit", "limits", "ratelimit"),
    ("backendkit.repository", "sqlalchemy", "sqlalchemy"),
    ("backendkit.adapters.flask", "flask", "flask"),
    ("backendkit.adapters.fastapi", "fastapi", "fastapi"),
    ("backendkit.adapters.django", "django", "django"),
    ("backendkit.adapters.drf", "rest_framework", "drf"),
]


def _import_without(module: str, hidden: str) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules[{hidden!r}] = None  # makes `import {hidden}` raise ImportError
        try:
            import {module}
        except ImportError as exc:
            print(type(exc).__name__)
            print(exc)
            raise SystemExit(3)
        print("imported")
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(("module", "hidden", "extra"), CASES)
def test_missing_extra_names_the_extra(module: str, hidden: str, extra: str) -> None:
    """Hiding the dependency makes the import fail with a message naming the extra."""
    result = _import_without(module, hidden)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"backendkit[{extra}]" in result.stdout
    assert "MissingDependencyError" in result.stdout


@pytest.mark.parametrize("module", sorted({case[0] for case in CASES}))
def test_module_imports_with_its_extra_installed(module: str) -> None:
    """The valid twin: with every extra installed (the dev environment) the import works."""
    result = _import_without(module, "backendkit_no_such_module")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "imported"


def test_core_imports_without_any_extra() -> None:
    """`import backendkit` needs only pydantic and structlog."""
    hidden = ["redis", "jwt", "bcrypt", "limits", "sqlalchemy", "flask", "fastapi", "django"]
    code = "import sys\n"
    code += "".join(f"sys.modules[{name!r}] = None\n" for name in hidden)
    code += "import backendkit\nprint(len(backendkit.__all__))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 10


# --------------------------------------------------------------------------- storage URLs

#: A URL's password never appears in an error (only the scheme is named).
_SECRET = "s3cret-pw"
#: Wrong URLs: an unknown scheme, a missing "://", empty and blank, a malformed scheme.
BAD_URLS = ["memcached://x", "redis//oops", "", "   ", f"memcached://u:{_SECRET}@h", "1x://h"]
#: What every refusal names: each supported scheme.
SUPPORTED = [
    "memory://",
    "redis://",
    "rediss://",
    "unix://",
    "redis+cluster://",
    "redis+sentinel://",
]
#: Every component that takes a storage URL (a URL string, or Settings.redis_url).
BUILDERS = {
    "RateLimiter": "RateLimiter(url)",
    "AsyncRateLimiter": "AsyncRateLimiter(url)",
    "Cache": "Cache(url)",
    "token_store_from_url": "token_store_from_url(url)",
    "TokenService": "TokenService(JWTKey.hmac('k' * 32), store=url)",
    "RateLimiter.from_settings": "RateLimiter.from_settings(Settings(env='test', redis_url=url))",
    "AsyncRateLimiter.from_settings": (
        "AsyncRateLimiter.from_settings(Settings(env='test', redis_url=url))"
    ),
    "Cache.from_settings": "Cache.from_settings(Settings(env='test', redis_url=url))",
    "TokenService.from_settings": (
        "TokenService.from_settings(Settings(env='test', secret_key=['k' * 32], redis_url=url))"
    ),
}
_FROM_SETTINGS = {name for name in BUILDERS if name.endswith("from_settings")}
_VALID_REDIS = "redis://127.0.0.1:1/0"
#: (builder, wrong URL) pairs; an empty redis_url in Settings is not wrong but "no Redis".
WRONG = [
    (builder, url)
    for builder in sorted(BUILDERS)
    for url in BAD_URLS
    if url or builder not in _FROM_SETTINGS
]


def _build_all(urls: list[str], *, hide_redis: bool) -> dict[str, dict[str, list[str]]]:
    """Build every component from every URL in one process: builder -> url -> outcome."""
    code = textwrap.dedent(
        f"""
        import inspect, json, sys
        if {hide_redis!r}:
            sys.modules["redis"] = None  # the redis extra is not installed
        from backendkit.auth import JWTKey, TokenService, token_store_from_url
        from backendkit.cache import Cache
        from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
        from backendkit.settings import Settings

        out = {{}}
        for name, expr in {BUILDERS!r}.items():
            out[name] = {{}}
            for url in {urls!r}:
                if name.endswith("from_settings") and not url:
                    continue  # an empty redis_url means "no Redis": the memory backends
                try:
                    built = eval(expr)
                except Exception as exc:
                    out[name][url] = [type(exc).__name__, str(exc)]
                else:
                    out[name][url] = ["built", type(built).__name__]
                    close = getattr(built, "close", None)
                    if callable(close) and not inspect.iscoroutinefunction(close):
                        close()
        print(json.dumps(out))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def without_redis() -> dict[str, dict[str, list[str]]]:
    """Outcomes with the redis extra hidden."""
    return _build_all([*BAD_URLS, _VALID_REDIS, "memory://"], hide_redis=True)


@pytest.fixture(scope="module")
def with_redis() -> dict[str, dict[str, list[str]]]:
    """Outcomes with every extra installed (the dev environment)."""
    return _build_all([*BAD_URLS, _VALID_REDIS], hide_redis=False)


def _assert_names_the_schemes(outcome: list[str], *, memory: bool) -> None:
    kind, message = outcome
    assert kind == "ConfigurationError", outcome
    for scheme in SUPPORTED:
        if scheme != "memory://" or memory:
            assert scheme in message, (scheme, message)
    assert "backendkit[redis]" not in message
    assert "install" not in message
    assert _SECRET not in message
    assert "@h" not in message


@pytest.mark.parametrize(("builder", "url"), WRONG)
def test_wrong_url_without_the_extra_names_the_schemes(
    without_redis: dict[str, dict[str, list[str]]], builder: str, url: str
) -> None:
    """Without the redis extra, a wrong URL is a configuration error, not "install redis"."""
    _assert_names_the_schemes(without_redis[builder][url], memory=builder not in _FROM_SETTINGS)


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_valid_redis_url_without_the_extra_names_the_extra(
    without_redis: dict[str, dict[str, list[str]]], builder: str
) -> None:
    """The valid twin: a Redis URL without the redis extra asks for backendkit[redis]."""
    kind, message = without_redis[builder][_VALID_REDIS]
    assert kind == "MissingDependencyError", message
    assert "backendkit[redis]" in message


@pytest.mark.parametrize("builder", sorted(set(BUILDERS) - _FROM_SETTINGS))
def test_memory_url_needs_no_extra(
    without_redis: dict[str, dict[str, list[str]]], builder: str
) -> None:
    """memory:// builds without the redis extra."""
    assert without_redis[builder]["memory://"][0] == "built"


@pytest.mark.parametrize(("builder", "url"), WRONG)
def test_wrong_url_with_the_extra_names_the_schemes(
    with_redis: dict[str, dict[str, list[str]]], builder: str, url: str
) -> None:
    """With the extra installed, the same wrong URLs get the same refusal."""
    _assert_names_the_schemes(with_redis[builder][url], memory=builder not in _FROM_SETTINGS)


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_valid_redis_url_with_the_extra_builds(
    with_redis: dict[str, dict[str, list[str]]], builder: str
) -> None:
    """The valid twin: with the extra, a Redis URL builds (connections are made on use)."""
    assert with_redis[builder][_VALID_REDIS][0] == "built"
