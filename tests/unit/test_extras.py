"""Importing a module whose optional extra is missing names the extra to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# (module, third-party package hidden from it, extra that provides it)
CASES = [
    ("backendkit.redis", "redis", "redis"),
    ("backendkit.auth", "jwt", "auth"),
    ("backendkit.auth", "bcrypt", "auth"),
    ("backendkit.ratelimit", "limits", "ratelimit"),
    ("backendkit.repository", "sqlalchemy", "sqlalchemy"),
    ("backendkit.adapters.flask", "flask", "flask"),
    ("backendkit.adapters.fastapi", "fastapi", "fastapi"),
    ("backendkit.adapters.django", "django", "django"),
    ("backendkit.adapters.drf", "rest_framework", "drf"),
]


def _import_without(module: str, hidden: str) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules[{hidden!r}] = None  # makes `import {hidden}` raise ImportError
        try:
            import {module}
        except ImportError as exc:
            print(type(exc).__name__)
            print(exc)
            raise SystemExit(3)
        print("imported")
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(("module", "hidden", "extra"), CASES)
def test_missing_extra_names_the_extra(module: str, hidden: str, extra: str) -> None:
    """Hiding the dependency makes the import fail with a message naming the extra."""
    result = _import_without(module, hidden)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"backendkit[{extra}]" in result.stdout
    assert "MissingDependencyError" in result.stdout


@pytest.mark.parametrize("module", sorted({case[0] for case in CASES}))
def test_module_imports_with_its_extra_installed(module: str) -> None:
    """The valid twin: with every extra installed (the dev environment) the import works."""
    result = _import_without(module, "backendkit_no_such_module")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "imported"


def test_core_imports_without_any_extra() -> None:
    """`import backendkit` needs only pydantic and structlog."""
    hidden = ["redis", "jwt", "bcrypt", "limits", "sqlalchemy", "flask", "fastapi", "django"]
    code = "import sys\n"
    code += "".join(f"sys.modules[{name!r}] = None\n" for name in hidden)
    code += "import backendkit\nprint(len(backendkit.__all__))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 10
