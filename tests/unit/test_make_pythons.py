"""`make test` checks the other Pythons first: a missing one stops the run before any suite.

``scripts/check_pythons.sh`` runs at the start of ``make test``. Without Python 3.10 or 3.13
it stops at once, says how to get them and, outside CI only, how to skip those legs
(``SKIP_OTHER_PYTHONS=1``). In CI (``CI=true``, or ``BACKENDKIT_REQUIRE_SERVICES=1`` from
``.ci/run``) a missing interpreter always fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "scripts" / "check_pythons.sh"
THIS = f"{sys.version_info[0]}.{sys.version_info[1]}"


def _env(**extra: str) -> dict[str, str]:
    # This suite itself runs in CI, under `make test`: start from an environment without
    # the CI markers and without the outer make's flags and variables.
    dropped = {"CI", "BACKENDKIT_REQUIRE_SERVICES", "SKIP_OTHER_PYTHONS", "PY310", "PY313"}
    dropped |= {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(extra)
    return env


def _check(*pairs: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(CHECK), *pairs],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env=_env(**env),
    )


def test_present_interpreters_pass_silently() -> None:
    """The valid twin: an interpreter of the stated version passes, with nothing printed."""
    result = _check(f"{THIS}={sys.executable}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""


def test_missing_interpreter_stops_with_how_to_get_it() -> None:
    """Outside CI: exit 1, what is missing, how to install it, and how to skip the legs."""
    gone = "3.10" if THIS != "3.10" else "3.13"  # a version other than the running one
    var = "PY" + gone.replace(".", "")
    result = _check(f"{gone}=/nonexistent/python{gone}", f"{THIS}={sys.executable}")
    assert result.returncode == 1
    err = result.stderr
    assert f"Python {gone}: {var}=/nonexistent/python{gone} does not run" in err
    assert "Nothing has run yet" in err
    assert f"pyenv install {gone} " in err
    assert f"Python {THIS}:" not in err  # the present one is not reported
    assert "python3.X-venv" in err
    assert "make test SKIP_OTHER_PYTHONS=1" in err
    assert "make unit" in err
    assert "unbound variable" not in err


def test_empty_path_is_reported_as_not_found() -> None:
    """PY310 empty (make found nothing): named as such, with where make looked."""
    result = _check("3.10=")
    assert result.returncode == 1
    assert "Python 3.10: not found (PY310 is empty" in result.stderr


def test_wrong_version_and_a_shim_that_cannot_run(tmp_path: Path) -> None:
    """A path to another version, or a pyenv shim for a version not installed, is missing."""
    other = "3.10" if THIS != "3.10" else "3.13"
    shim = tmp_path / "python3.99"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.99: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    result = _check(f"{other}={sys.executable}", f"3.99={shim}")
    assert result.returncode == 1
    var = "PY" + other.replace(".", "")
    assert f"Python {other}: {var}={sys.executable} is Python {THIS}" in result.stderr
    assert f"Python 3.99: PY399={shim} does not run" in result.stderr
    assert f"pyenv install {other} 3.99 " in result.stderr


@pytest.mark.parametrize("marker", [{"CI": "true"}, {"BACKENDKIT_REQUIRE_SERVICES": "1"}])
def test_in_ci_a_missing_interpreter_fails_without_a_skip_offer(marker: dict[str, str]) -> None:
    """In CI nothing may be skipped: the same failure, and no mention of skipping."""
    result = _check("3.10=/nonexistent/python3.10", **marker)
    assert result.returncode == 1
    assert result.stderr.startswith("error (CI):")
    assert "SKIP_OTHER_PYTHONS" not in result.stderr


def test_skip_outside_ci_only() -> None:
    """SKIP_OTHER_PYTHONS=1 skips the legs with a note outside CI, and is refused in CI."""
    skipped = _check("3.10=/nonexistent/python3.10", SKIP_OTHER_PYTHONS="1")
    assert skipped.returncode == 0, skipped.stderr
    assert "will not run on Python 3.10" in skipped.stdout
    refused = _check("3.10=/nonexistent/python3.10", SKIP_OTHER_PYTHONS="1", CI="true")
    assert refused.returncode == 1
    assert "not allowed in CI" in refused.stderr


def test_unit_on_python_without_a_python_is_a_usage_error() -> None:
    """An empty PYTHON (what make passes when it found none) is named, not 'unbound variable'."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "unit_on_python.sh"), "", ".venv-never-created"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env=_env(),
    )
    assert result.returncode == 2
    assert "PYTHON missing or empty" in result.stderr
    assert "unbound variable" not in result.stderr
    assert not (ROOT / ".venv-never-created").exists()


@pytest.mark.parametrize("ci", [{}, {"CI": "true"}])
def test_make_test_stops_before_anything_else(ci: dict[str, str]) -> None:
    """``make test`` with a missing Python 3.10 fails in the check, before any other step."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    # Should the check ever pass, the next step fails at once too: a venv that cannot be built.
    result = subprocess.run(
        [
            make,
            "--no-print-directory",
            "PY310=/nonexistent/python3.10",
            "VENV=/nonexistent-venv",
            "PYTHON=false",
            "test",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env=_env(**ci),
    )
    assert result.returncode != 0
    assert "PY310=/nonexistent/python3.10 does not run" in result.stderr
    assert "check-pythons" in result.stderr
    assert "nonexistent-venv" not in result.stdout + result.stderr
