"""The caching guide's L1 sample runs on a real Redis, and what it claims holds."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

SNIPPET = Path(__file__).resolve().parents[2] / "docs" / "snippets" / "cache_local.py"


def test_local_cache_snippet(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """cache_local: an L1 hit, then another worker's write seen on the next call."""
    monkeypatch.setenv("BACKENDKIT_REDIS_URL", redis_url)
    namespace = runpy.run_path(str(SNIPPET), run_name="__snippet__")
    assert namespace["loads"] == [1]
    assert namespace["cache"].local_entries == 0
