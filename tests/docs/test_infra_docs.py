"""The settings, logging and Redis docs: samples run, the settings table is complete."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from backendkit.redis import RedisConnector
from backendkit.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "docs" / "snippets"


@pytest.mark.parametrize(
    "name",
    [
        "settings_env",
        "logging_setup",
        "logging_stdlib",
        "logging_capture",
        "logging_events",
        "logging_processors",
        "redis_outage",
    ],
)
def test_snippet_runs(name: str) -> None:
    """Each self-checking snippet runs to completion (in its own process: it configures logging)."""
    result = subprocess.run(
        [sys.executable, str(SNIPPETS / f"{name}.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_redis_connector_snippet(redis_url: str, redis_prefix: str, dead_redis_url: str) -> None:
    """The VisitCounter example counts on a real Redis and fails soft when Redis is down."""
    module = runpy.run_path(str(SNIPPETS / "redis_connector.py"))
    conn: RedisConnector = module["build"](redis_url)
    counter = module["VisitCounter"](conn, namespace=redis_prefix)
    assert [counter.hit("home"), counter.hit("home"), counter.hit("about")] == [1, 2, 1]
    assert conn.execute(lambda r: r.ttl(redis_prefix + "visits:home")) > 0
    conn.close()
    down = module["VisitCounter"](module["build"](dead_redis_url), namespace=redis_prefix)
    assert down.hit("home") is None


def test_settings_page_documents_every_variable() -> None:
    """docs/guide/settings.md names every BACKENDKIT_* variable, and no other."""
    text = (ROOT / "docs" / "guide" / "settings.md").read_text()
    documented = set(re.findall(r"`(BACKENDKIT_[A-Z_]+)`", text))
    expected = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert expected <= documented
    assert documented - expected <= {"BACKENDKIT_REQUIRE_SERVICES"} | {
        v for v in documented if v.startswith("BACKENDKIT_TEST_")
    }
