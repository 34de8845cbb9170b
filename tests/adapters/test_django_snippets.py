"""The Django and DRF documentation samples (docs/snippets/django_*.py, drf_*.py) run and hold."""

from __future__ import annotations

import importlib.util
import json
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.test import override_settings
from django.utils.module_loading import import_string
from tests.adapters._apps import make_kit
from tests.adapters._django_app import client_for, use_kit

from backendkit.adapters.django import reset_config
from backendkit.web import WebKit

SNIPPETS = Path(__file__).resolve().parents[2] / "docs" / "snippets"
API_ONLY = {"KIT": "tests.adapters._django_app.current_kit", "API_PREFIXES": ["/api/"]}


def load(name: str) -> ModuleType:
    """Import a snippet as a module (Django resolves URLconfs by module name)."""
    module_name = f"docs_snippet_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, SNIPPETS / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


@pytest.fixture(autouse=True)
def api_prefix() -> Iterator[None]:
    with override_settings(BACKENDKIT=API_ONLY):
        yield
    reset_config()


@pytest.fixture
def kit() -> WebKit:
    return use_kit(make_kit())


def token(kit: WebKit, sub: str, **claims: Any) -> dict[str, str]:
    assert kit.tokens is not None
    return {"HTTP_AUTHORIZATION": "Bearer " + kit.tokens.issue_access(sub, claims=claims)}


@pytest.mark.parametrize("name", ["django_settings", "drf_settings"])
def test_settings_snippets_name_real_objects(name: str) -> None:
    """Every dotted path in the settings samples imports; our middleware comes first."""
    values = runpy.run_path(str(SNIPPETS / f"{name}.py"))
    paths: list[str] = []
    for key, value in values.items():
        if key.isupper():
            items = value.values() if isinstance(value, dict) else [value]
            for item in items:
                paths.extend(item if isinstance(item, list) else [item])
    dotted = [p for p in paths if isinstance(p, str) and p.count(".") >= 2 and "/" not in p]
    assert dotted
    for item in dotted:
        assert import_string(item) is not None
    if name == "django_settings":
        assert values["MIDDLEWARE"][0] == "backendkit.adapters.django.BackendKitMiddleware"


def test_django_views_snippet(kit: WebKit) -> None:
    """The users API sample: register, conflict, auth, roles, pages, class-based views, 404."""
    module = load("django_views")
    client = client_for(module.__name__)
    created = client.post(
        "/api/users",
        data=json.dumps({"email": "grace@example.com", "displayName": "Grace"}),
        content_type="application/json",
    )
    assert created.status_code == 201
    assert json.loads(created.content)["message"] == "User created"
    again = client.post(
        "/api/users",
        data=json.dumps({"email": "grace@example.com", "display_name": "G"}),
        content_type="application/json",
    )
    assert json.loads(again.content)["error"]["code"] == "CONFLICT"
    assert client.get("/api/users/me").status_code == 401
    assert json.loads(client.get("/api/users/me", **token(kit, "7")).content)["data"] == {"id": "7"}
    assert client.get("/api/users/all", **token(kit, "7")).status_code == 403
    page = client.get("/api/users/all?perPage=1", **token(kit, "1", roles=["admin"]))
    assert json.loads(page.content)["pagination"] == {
        "page": 1,
        "perPage": 1,
        "total": 2,
        "totalPages": 2,
    }
    detail = client.get("/api/users/1", **token(kit, "7"))
    assert detail.status_code == 200
    assert detail["RateLimit-Limit"] == "30"
    # The limit is keyed by user: another caller has a budget of their own.
    assert client.get("/api/users/1", **token(kit, "7"))["RateLimit-Remaining"] == "28"
    assert client.get("/api/users/1", **token(kit, "8"))["RateLimit-Remaining"] == "29"
    missing = client.get("/api/users/99", **token(kit, "7"))
    assert json.loads(missing.content)["error"]["message"] == "User not found"
    assert client.get("/api/nowhere").status_code == 404


def test_kit_snippet_builds_a_complete_kit() -> None:
    """build_kit gives the adapter a token service and both limiters."""
    from backendkit.settings import Settings

    kit = load("django_kit").build_kit(Settings(env="test"))
    assert kit.tokens is not None
    assert kit.limiter is not None
    assert kit.async_limiter is not None
    kit.close()


def test_drf_views_snippet(kit: WebKit) -> None:
    """The DRF sample: validation per field, per-user throttle headers, role permission."""
    module = load("drf_views")
    client = client_for(module.__name__)
    auth = token(kit, "writer")
    bad = client.post(
        "/api/notes",
        data=json.dumps({"title": "t", "priority": "urgent"}),
        content_type="application/json",
        **auth,
    )
    assert json.loads(bad.content)["error"]["details"] == [
        {"field": "priority", "message": "Not a valid choice."}
    ]
    good = client.post(
        "/api/notes",
        data=json.dumps({"title": "t", "priority": "low"}),
        content_type="application/json",
        **auth,
    )
    assert good.status_code == 201
    assert json.loads(good.content)["data"]["owner"] == "writer"
    assert good["RateLimit-Remaining"] == "8"
    assert client.get("/api/audit", **auth).status_code == 403
    assert client.get("/api/audit", **token(kit, "a", roles=["auditor"])).status_code == 200
