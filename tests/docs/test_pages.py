"""The site-wide pages stay true to the code: deployment, security and the quickstart.

The performance page has its own tests (test_performance_page.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.unit.auth.test_attack_corpus import CASES

from backendkit.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
_QUOTED_VAR = re.compile(r"""["'](BACKENDKIT_[A-Z0-9_]*[A-Z0-9])["']""")
# The examples also read the variables of the libraries they configure (OTEL_*, PROMETHEUS_*).
_DOCUMENTED_VAR = re.compile(
    r"^\| `((?:BACKENDKIT_|OTEL_|PROMETHEUS_)[A-Z0-9_]+|PORT)` \|", re.MULTILINE
)


# --------------------------------------------------------------------------- deployment


def _deployment_reference() -> set[str]:
    text = (DOCS / "deployment.md").read_text(encoding="utf-8")
    reference = text.split("## Configuration reference", 1)[1]
    return set(_DOCUMENTED_VAR.findall(reference))


def _settings_variables() -> set[str]:
    return {ENV_PREFIX + name.upper() for name in Settings.model_fields}


def _example_variables() -> set[str]:
    """Variables the example apps read: quoted in their code, or listed in their README."""
    found: set[str] = set()
    for path in (ROOT / "examples").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(_QUOTED_VAR.findall(text))
        found |= set(re.findall(r"""(?:source|environ)\.get\(["']([A-Z][A-Z0-9_]*)["']""", text))
    readme = ROOT / "examples" / "README.md"
    if readme.is_file():
        found |= set(re.findall(r"`(BACKENDKIT_[A-Z0-9_]+|PORT)`", readme.read_text("utf-8")))
    return found


def _test_suite_variables() -> set[str]:
    """Variables the test suite's infrastructure reads (fixtures, helpers, the Django project)."""
    found: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        if not path.name.startswith("test_"):
            found |= set(_QUOTED_VAR.findall(path.read_text(encoding="utf-8")))
    return found


def test_configuration_reference_lists_every_setting() -> None:
    """Every field of Settings has its BACKENDKIT_* row in the deployment reference."""
    missing = _settings_variables() - _deployment_reference()
    assert not missing, f"add to docs/deployment.md#configuration-reference: {sorted(missing)}"


def test_configuration_reference_lists_the_examples_and_test_variables() -> None:
    """The example apps' and the test suite's own variables are documented there too."""
    wanted = _example_variables() | _test_suite_variables()
    assert {"BACKENDKIT_BOOTSTRAP_ADMIN", "PORT", "BACKENDKIT_TEST_REDIS_URL"} <= wanted
    missing = wanted - _deployment_reference()
    assert not missing, f"add to docs/deployment.md#configuration-reference: {sorted(missing)}"


def test_configuration_reference_invents_nothing() -> None:
    """Twin of the above: every documented variable is one something actually reads."""
    known = _settings_variables() | _example_variables() | _test_suite_variables()
    assert _deployment_reference() - known == set()


# --------------------------------------------------------------------------- security


def _table_rows(page: str) -> list[list[str]]:
    rows = []
    for line in (DOCS / page).read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


@pytest.mark.parametrize("case", list(CASES))
def test_security_page_explains_every_corpus_attack(case: str) -> None:
    """Each attack of tests/unit/auth/test_attack_corpus.py has a row with its logged reason."""
    _, reason = CASES[case]
    rows = [row for row in _table_rows("security.md") if row[0] == case]
    assert len(rows) == 1, f"docs/security.md has no (or several) rows for {case!r}"
    assert rows[0][-1] == f"`{reason}`"


def test_security_page_lists_only_real_attacks() -> None:
    """Twin: every row of the corpus tables names a case the tests build."""
    corpus_rows = [row for row in _table_rows("security.md") if len(row) == 3]
    reasons = {reason for _, reason in CASES.values()}
    for row in corpus_rows:
        if row[-1].strip("`") in reasons:
            assert row[0] in CASES


# --------------------------------------------------------------------------- quickstart


def test_quickstart_lists_every_extra() -> None:
    """The quickstart's extras table names every optional dependency group but dev."""
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"][
        "optional-dependencies"
    ]
    text = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    table = {cell.strip("` ") for row in _table_rows("quickstart.md") for cell in row[0].split("/")}
    assert "| Extra |" in text
    assert set(extras) - {"dev"} <= table
