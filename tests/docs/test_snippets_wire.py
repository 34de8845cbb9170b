"""The Python samples of the wire-format, validation and pagination pages run and hold."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["docs/guide/wire-format.md", "docs/guide/validation.md", "docs/guide/pagination.md"]
SNIPPETS = [
    "docs/snippets/wire_envelopes.py",
    "docs/snippets/wire_problem.py",
    "docs/snippets/wire_openapi.py",
    "docs/snippets/validation_parse.py",
    "docs/snippets/validation_models.py",
    "docs/snippets/pagination_params.py",
    "docs/snippets/pagination_cursor.py",
]
_INCLUDE = re.compile(r'--8<--\s+"([^"]+)"')


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_snippet_runs(snippet: str) -> None:
    """Each sample executes; its asserts are the claims the page makes."""
    runpy.run_path(str(ROOT / snippet), run_name="__snippet__")


@pytest.mark.parametrize("page", PAGES)
def test_pages_include_only_tested_snippets(page: str) -> None:
    """Every Python block of these pages is an included, tested snippet."""
    text = (ROOT / page).read_text(encoding="utf-8")
    included = _INCLUDE.findall(text)
    assert included, f"{page} includes no snippet"
    assert set(included) <= set(SNIPPETS)
    # A ```python block must hold only an include line, never inline, untested code.
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL):
        assert _INCLUDE.fullmatch(block.strip()), f"untested python block in {page}"
