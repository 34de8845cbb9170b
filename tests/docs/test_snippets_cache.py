"""The caching guide's samples run, and what they claim holds."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "docs" / "snippets"


def _run(name: str) -> dict[str, Any]:
    return runpy.run_path(str(SNIPPETS / f"{name}.py"), run_name="__snippet__")


@pytest.mark.parametrize(
    "name",
    [
        "cache_quickstart",
        "cache_async",
        "cache_keys",
        "cache_serialization",
        "cache_policy",
        "cache_invalidation",
        "cache_outage",
        "cache_testing",
    ],
)
def test_self_checking_snippet_runs(name: str) -> None:
    """Each sample runs to completion; its asserts are the guide's claims."""
    _run(name)


def test_quickstart_loads_once() -> None:
    """The quick start's function ran once for three calls of user 1, then once more."""
    namespace = _run("cache_quickstart")
    assert namespace["loads"] == [1, 1]


def test_redis_snippet(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers on one Redis run a slow query once (cache_redis needs a real Redis)."""
    monkeypatch.setenv("BACKENDKIT_REDIS_URL", redis_url)
    namespace = _run("cache_redis")
    assert namespace["loads"] == ["mon"]
