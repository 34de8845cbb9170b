"""The Django quickstart on a real, fresh ``django-admin startproject``.

The documented edits are applied to the generated files as a reader would paste them (the
settings lines at the end of settings.py, the views as urls.py); then ``manage.py check``
must pass and the DELETE view must answer a CSRF failure in the envelope. Each step runs in
its own interpreter: Django's settings are process-wide.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "docs" / "snippets"
DJANGO_ADMIN = Path(sys.executable).with_name("django-admin")

_DRIVE = """
import json
import django
from django.test.utils import setup_test_environment
django.setup()
setup_test_environment()  # lets the test client's "testserver" host in
from django.test import Client
client = Client(enforce_csrf_checks=True)
created = client.post("/api/notes", data={"title": "Hi"}, content_type="application/json")
refused = client.delete("/api/notes/1")
token = "t" * 32
client.cookies["csrftoken"] = token
deleted = client.delete("/api/notes/1", HTTP_X_CSRFTOKEN=token)
print(json.dumps([
    [created.status_code, json.loads(created.content)],
    [refused.status_code, refused["Content-Type"], json.loads(refused.content)],
    [deleted.status_code],
]))
"""


def _edits() -> str:
    """The settings lines the quickstart shows (its ``backendkit`` section)."""
    text = (SNIPPETS / "quickstart_django_settings.py").read_text()
    found = re.search(r"# --8<-- \[start:backendkit\]\n(.*)# --8<-- \[end:backendkit\]", text, re.S)
    assert found is not None
    return found.group(1)


def _env() -> dict[str, str]:
    # As a reader's shell: none of the test run's BACKENDKIT_* variables.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKENDKIT_")}
    env["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh startproject with the quickstart's edits applied."""
    if not DJANGO_ADMIN.exists():
        pytest.skip("django-admin is not installed in this environment")
    created = _run([str(DJANGO_ADMIN), "startproject", "mysite", str(tmp_path)], tmp_path)
    assert created.returncode == 0, created.stderr
    settings = tmp_path / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + "\n" + _edits())
    (tmp_path / "mysite" / "urls.py").write_text((SNIPPETS / "quickstart_django.py").read_text())
    return tmp_path


def test_the_quickstart_passes_the_system_checks(project: Path) -> None:
    """manage.py check: no admin.E408/E409/E410 and no backendkit error."""
    result = _run([sys.executable, "manage.py", "check"], project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_pasting_the_middleware_over_the_stock_list_fails_the_checks(project: Path) -> None:
    """The twin: replacing the stock list by a short one is what Django's admin refuses."""
    settings = project / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text()
        + '\nMIDDLEWARE = ["backendkit.adapters.django.BackendKitMiddleware",'
        + ' "django.middleware.common.CommonMiddleware"]\n'
    )
    result = _run([sys.executable, "manage.py", "check"], project)
    assert result.returncode != 0
    assert "admin.E408" in result.stderr


def test_delete_without_the_csrf_token_is_the_csrf_envelope(project: Path) -> None:
    """DELETE /api/notes/1 without Django's CSRF token: 403 FORBIDDEN, detail on csrf."""
    result = _run([sys.executable, "-c", _DRIVE], project)
    assert result.returncode == 0, result.stderr
    created, refused, deleted = json.loads(result.stdout.strip().splitlines()[-1])
    assert created[0] == 201
    status, content_type, body = refused
    assert (status, content_type) == (403, "application/json; charset=utf-8")
    error = body["error"]
    assert (error["code"], error["message"]) == ("FORBIDDEN", "CSRF verification failed")
    assert [d["field"] for d in error["details"]] == ["csrf"]
    # The valid twin: with the cookie and the header the same request deletes the note.
    assert deleted == [204]
