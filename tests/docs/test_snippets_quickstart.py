"""The home page's taste and the quickstart's first endpoints behave as the pages say."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from docs.snippets import quickstart_fastapi, quickstart_flask

from backendkit.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings(env="test")
CREATED = {"success": True, "data": {"id": 1, "title": "Hi", "body": ""}, "message": "Note created"}
#: `GET /notes/abc`: the same 400 in every framework, naming the path parameter in camelCase.
MALFORMED_ID = (
    400,
    "VALIDATION_ERROR",
    [
        {
            "field": "noteId",
            "message": "Input should be a valid integer, unable to parse string as an integer",
        }
    ],
)


def _malformed(status: int, payload: dict[str, Any]) -> tuple[int, str, list[dict[str, str]]]:
    return status, payload["error"]["code"], payload["error"]["details"]


def test_fastapi_first_endpoint() -> None:
    """Create, read, a 404 and a validation error, all in the envelope, with request ids."""
    client = TestClient(quickstart_fastapi.create_app(SETTINGS))
    created = client.post("/notes", json={"title": "Hi"})
    assert (created.status_code, created.json()) == (201, CREATED)
    assert created.headers["X-Request-ID"]
    assert client.get("/notes/1").json()["data"]["title"] == "Hi"
    missing = client.get("/notes/2")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "NOT_FOUND")
    invalid = client.post("/notes", json={"body": "no title"})
    assert (invalid.status_code, invalid.json()["error"]["code"]) == (400, "VALIDATION_ERROR")
    malformed = client.get("/notes/abc")
    assert _malformed(malformed.status_code, malformed.json()) == MALFORMED_ID


def test_fastapi_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """create_app() without settings reads BACKENDKIT_* (development needs no secret)."""
    monkeypatch.setenv("BACKENDKIT_ENV", "development")
    client = TestClient(quickstart_fastapi.create_app())
    assert client.post("/notes", json={"title": "Hi"}).status_code == 201


@pytest.mark.usefixtures("restore_logging")
def test_flask_first_endpoint() -> None:
    """The same behaviour through Flask."""
    client = quickstart_flask.create_app(SETTINGS).test_client()
    created = client.post("/notes", json={"title": "Hi"})
    assert (created.status_code, created.get_json()) == (201, CREATED)
    assert created.headers["X-Request-ID"]
    assert client.get("/notes/1").get_json()["data"]["title"] == "Hi"
    missing = client.get("/notes/2")
    assert (missing.status_code, missing.get_json()["error"]["code"]) == (404, "NOT_FOUND")
    invalid = client.post("/notes", json={"body": "no title"})
    assert invalid.get_json()["error"]["code"] == "VALIDATION_ERROR"
    malformed = client.get("/notes/abc")
    assert _malformed(malformed.status_code, malformed.get_json()) == MALFORMED_ID


_DJANGO = """
import json, sys
import django
from django.conf import settings
import runpy
lines = runpy.run_path("docs/snippets/quickstart_django_settings.py")
settings.configure(
    DEBUG=False, SECRET_KEY="x" * 50, ALLOWED_HOSTS=["testserver"],
    INSTALLED_APPS=lines["INSTALLED_APPS"], ROOT_URLCONF="docs.snippets.quickstart_django",
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    MIDDLEWARE=lines["MIDDLEWARE"], APPEND_SLASH=lines["APPEND_SLASH"],
    BACKENDKIT={**lines["BACKENDKIT"], "ENV": "test"},
)
django.setup()
from django.test import Client
client = Client()
out = []
for method, path, body in [
    ("post", "/api/notes", {"title": "Hi"}),
    ("get", "/api/notes/1", None),
    ("get", "/api/notes/2", None),
    ("post", "/api/notes", {"body": "no title"}),
    ("get", "/api/notes", None),
    ("get", "/api/notes/abc", None),
]:
    kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body else {}
    response = getattr(client, method)(path, **kwargs)
    out.append([response.status_code, json.loads(response.content), bool(response["X-Request-ID"])])
print(json.dumps(out))
"""


def test_django_first_endpoint() -> None:
    """The same through Django (its own interpreter: Django's settings are process-wide)."""
    result = subprocess.run(
        [sys.executable, "-c", _DJANGO],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    responses = json.loads(result.stdout.strip().splitlines()[-1])
    assert responses[0] == [201, CREATED, True]
    assert responses[1][1]["data"]["title"] == "Hi"
    assert [(r[0], r[1].get("error", {}).get("code")) for r in responses[2:5]] == [
        (404, "NOT_FOUND"),
        (400, "VALIDATION_ERROR"),
        (405, "METHOD_NOT_ALLOWED"),
    ]
    assert _malformed(responses[5][0], responses[5][1]) == MALFORMED_ID
    assert all(r[2] for r in responses)
