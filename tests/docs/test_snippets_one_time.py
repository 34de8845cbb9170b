"""The one-time tokens guide's sample runs (its asserts are the checks)."""

from __future__ import annotations

import runpy
from pathlib import Path

SNIPPETS = Path(__file__).resolve().parents[2] / "docs" / "snippets"


def test_password_reset_snippet_runs() -> None:
    """Request, confirm, and a second use refused, as the guide says."""
    runpy.run_path(str(SNIPPETS / "one_time_reset.py"))
