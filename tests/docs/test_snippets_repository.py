"""The repository guide's samples run, and what they claim holds."""

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
        "repository_define",
        "repository_paging",
        "repository_transactions",
        "repository_async",
        "repository_engine",
        "repository_replicas",
    ],
)
def test_self_checking_snippet_runs(name: str) -> None:
    """Each sample runs to completion; its asserts are the guide's claims."""
    _run(name)


def test_define_snippet_pages_with_filters() -> None:
    """The definition sample's page holds what the guide shows."""
    namespace = _run("repository_define")
    assert [u.name for u in namespace["page"].items] == ["Ann", "Bob"]
    assert namespace["page"].total == 2


def test_paging_snippet_walks_every_row() -> None:
    """The cursor walk in the paging sample saw all 45 rows once."""
    namespace = _run("repository_paging")
    assert sorted(namespace["seen"]) == list(range(1, 46))
