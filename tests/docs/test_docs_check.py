"""Every code sample on the site is executed by a test.

Three checks, one per place samples come from:

- Markdown pages: a Python block must be an include of a file under docs/snippets/ or
  examples/ (the same scan docs/hooks.py runs during ``mkdocs build``).
- docs/snippets/: every file runs, each in its own process (snippets configure logging and
  build apps). A snippet that needs a service at import time says so in a
  ``# snippet-needs: redis`` comment; it is then skipped here and must be named by a
  dedicated test in tests/docs/.
- The API reference: every ``>>>`` example in a docstring of ``backendkit`` runs (doctest).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docs.hooks import INCLUDE_ROOTS, included_files, scan_markdown

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SNIPPETS = DOCS / "snippets"
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in DOCS.rglob("*.md"))
SNIPPET_FILES = sorted(p.name for p in SNIPPETS.glob("*.py") if p.name != "__init__.py")
_NEEDS = re.compile(r"^# snippet-needs:\s*(?P<services>[\w, -]+)$", re.MULTILINE)


def _needs(name: str) -> list[str]:
    match = _NEEDS.search((SNIPPETS / name).read_text(encoding="utf-8"))
    return [s.strip() for s in match.group("services").split(",")] if match else []


# --------------------------------------------------------------------------- the scanner


@pytest.mark.parametrize(
    "markdown",
    [
        '```python\n--8<-- "docs/snippets/a.py"\n```\n',
        "```py\n--8<-- 'docs/snippets/a.py:10:20'\n```\n",
        '``` { .python .copy }\n--8<-- "examples/app/main.py"\n```\n',
        '!!! example\n    ```python title="a.py"\n    --8<-- "docs/snippets/a.py"\n    ```\n',
        "```python\n--8<--\ndocs/snippets/a.py\ndocs/snippets/b.py\n--8<--\n```\n",
        "```text\nprint('not python, not checked')\n```\n",
        "````markdown\n```python\nprint('an example of markdown')\n```\n````\n",
    ],
)
def test_scanner_accepts_includes_and_other_languages(markdown: str) -> None:
    """Pure includes of tested files, and non-Python blocks, pass the scan."""
    assert scan_markdown(markdown) == []


@pytest.mark.parametrize(
    ("markdown", "reason"),
    [
        ("```python\nprint('hi')\n```\n", "inline"),
        ("~~~py\nx = 1\n~~~\n", "inline"),
        ("```pycon\n>>> 1 + 1\n2\n```\n", "inline"),
        ('```{.python}\n--8<-- "docs/snippets/a.py"\nx = 1\n```\n', "inline"),
        ("!!! note\n    ```python3\n    import os\n    ```\n", "inline"),
        ('```python\n--8<-- "src/backendkit/errors.py"\n```\n', "outside"),
        ("```python\n```\n", "empty"),
        ("```python\n--8<--\ndocs/snippets/a.py\n```\n", "unterminated"),
    ],
)
def test_scanner_refuses_untested_python(markdown: str, reason: str) -> None:
    """Inline, empty or foreign-file Python blocks are reported with their line and why."""
    problems = scan_markdown("intro\n\n" + markdown)
    assert len(problems) == 1
    fence_line = 3 + next(
        i for i, line in enumerate(markdown.splitlines()) if "`" in line or "~" in line
    )
    assert problems[0].line == fence_line
    assert reason in problems[0].reason


def test_scanner_lists_included_files() -> None:
    """included_files returns the included paths without line or section selections."""
    markdown = '```python\n--8<-- "docs/snippets/a.py:3:9"\n--8<-- "examples/b.py:main"\n```\n'
    assert included_files(markdown) == ["docs/snippets/a.py", "examples/b.py"]


# --------------------------------------------------------------------------- the pages


@pytest.mark.parametrize("page", PAGES)
def test_page_has_only_included_python(page: str) -> None:
    """Every Python block of the page is an include of a tested file."""
    problems = scan_markdown((ROOT / page).read_text(encoding="utf-8"))
    assert problems == [], "\n".join(f"{page}:{p.line}: {p.reason}" for p in problems)


def test_every_included_file_exists_and_is_tested() -> None:
    """Included files exist, and those under docs/snippets/ are run by the test below."""
    for page in PAGES:
        for file in included_files((ROOT / page).read_text(encoding="utf-8")):
            assert (ROOT / file).is_file(), f"{page} includes missing {file}"
            assert file.startswith(INCLUDE_ROOTS)
            if file.startswith("docs/snippets/"):
                assert Path(file).name in SNIPPET_FILES, f"{page}: {file} is not a snippet file"


def test_the_hook_is_registered() -> None:
    """mkdocs.yml runs docs/hooks.py, so ``mkdocs build --strict`` fails on untested code."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^hooks:\s*\n\s+-\s+docs/hooks\.py\s*$", config, re.MULTILINE), (
        "add 'hooks:\\n  - docs/hooks.py' to mkdocs.yml"
    )


# --------------------------------------------------------------------------- the snippets


@pytest.mark.parametrize("name", SNIPPET_FILES)
def test_snippet_runs(name: str) -> None:
    """The snippet executes to completion in a fresh interpreter; its asserts are its claims."""
    if _needs(name):
        pytest.skip(f"needs {', '.join(_needs(name))}: run by its dedicated test")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__snippet__')",
            str(SNIPPETS / name),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_snippets_needing_a_service_have_a_dedicated_test() -> None:
    """A snippet skipped above is named by another test module of tests/docs/."""
    tests = "".join(
        p.read_text(encoding="utf-8")
        for p in Path(__file__).parent.glob("test_*.py")
        if p.name != Path(__file__).name
    )
    for name in SNIPPET_FILES:
        if _needs(name):
            assert Path(name).stem in tests, f"no test in tests/docs/ runs {name}"


# --------------------------------------------------------------------------- API reference

SRC = ROOT / "src"
_DOCTEST_RUNNER = """
import doctest, importlib, json, sys
import django
from django.conf import settings
settings.configure()  # the Django adapter's modules read django.conf.settings on import
django.setup()
results = {}
for name in sys.argv[1:]:
    outcome = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    results[name] = [outcome.failed, outcome.attempted]
print("RESULTS=" + json.dumps(results))
"""


def _modules_with_examples() -> list[str]:
    """Modules of src/backendkit whose source holds a >>> example (found without importing)."""
    names = []
    for path in sorted((SRC / "backendkit").rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(SRC).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES_WITH_EXAMPLES = _modules_with_examples()


@pytest.fixture(scope="module")
def doctest_results() -> tuple[dict[str, list[int]], str]:
    """Run every module's doctests once, in a fresh interpreter (Django needs configuring)."""
    result = subprocess.run(
        [sys.executable, "-c", _DOCTEST_RUNNER, *MODULES_WITH_EXAMPLES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    marker = result.stdout.rfind("RESULTS=")
    assert marker >= 0, result.stdout + result.stderr
    results = json.loads(result.stdout[marker + len("RESULTS=") :])
    return results, result.stdout[:marker]


@pytest.mark.parametrize("name", MODULES_WITH_EXAMPLES)
def test_api_reference_examples_run(
    name: str, doctest_results: tuple[dict[str, list[int]], str]
) -> None:
    """Every >>> example in the module's docstrings (shown in the API reference) holds."""
    results, report = doctest_results
    failed, attempted = results[name]
    assert attempted > 0
    assert failed == 0, "\n".join(line for line in report.splitlines() if name in line) or report
