"""The rate-limiting guide's samples run, and what they claim holds."""

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
        "ratelimit_quickstart",
        "ratelimit_costs",
        "ratelimit_keys",
        "ratelimit_headers",
        "ratelimit_failures",
        "ratelimit_async",
        "ratelimit_testing",
    ],
)
def test_self_checking_snippet_runs(name: str) -> None:
    """Each sample runs to completion; its asserts are the guide's claims."""
    _run(name)


def test_strategies_snippet_shows_the_boundary_burst() -> None:
    """Fixed window lets twice the limit through around a boundary; the others do not."""
    burst = _run("ratelimit_strategies")["burst_at_boundary"]
    assert burst("fixed-window") == 20
    assert burst("moving-window") == 10
    assert burst("sliding-window-counter") == 10


def test_redis_snippet(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two limiters on one Redis share counters (ratelimit_redis needs a real Redis)."""
    monkeypatch.setenv("BACKENDKIT_REDIS_URL", redis_url)
    _run("ratelimit_redis")
