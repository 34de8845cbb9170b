"""Django as Django users expect: CSRF failures in the envelope, settings mistakes as checks.

Each system check id has a failing case and a valid twin that reports nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from backendkit.adapters.django import (
    current_kit,
    rate_limit,
    require_auth,
    reset_config,
    success_response,
)
from backendkit.adapters.django.checks import check_settings
from backendkit.ratelimit import RateLimiter
from backendkit.settings import Settings
from backendkit.web import WebKit

SETTINGS = Settings(env="test", secret_key="django-checks-test-secret")
MIDDLEWARE = "backendkit.adapters.django.BackendKitMiddleware"
STOCK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]


def form_post(request: HttpRequest) -> HttpResponse:
    """A form view: Django's CSRF check applies (not csrf_exempt)."""
    return success_response({"posted": True})


def denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("secret reason")


@require_auth
def me(request: HttpRequest) -> HttpResponse:
    return success_response({"ok": True})


@rate_limit("1/minute")
def limited(request: HttpRequest) -> HttpResponse:
    return success_response({"ok": True})


# This module is the URLconf of these tests (the test project's MIDDLEWARE has
# BackendKitMiddleware first and Django's CsrfViewMiddleware).
urlpatterns = [
    path("api/form", form_post),
    path("api/denied", denied),
    path("api/me", me),
    path("api/limited", limited),
]


@pytest.fixture(autouse=True)
def _fresh_config() -> Iterator[None]:
    kit = WebKit.from_settings(SETTINGS)
    with override_settings(
        ROOT_URLCONF=__name__, BACKENDKIT={"KIT": kit, "API_PREFIXES": ["/api/"]}
    ):
        reset_config()
        yield
    reset_config()


# --------------------------------------------------------------------------- CSRF


def _csrf_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 403, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    error: dict[str, Any] = json.loads(response.content)["error"]
    return error


@pytest.mark.parametrize("failure_view", ["django.views.csrf.csrf_failure", None])
def test_a_csrf_failure_is_the_csrf_envelope_with_djangos_failure_view(
    failure_view: str | None,
) -> None:
    """Stock CSRF_FAILURE_VIEW (or backendkit's): 403 FORBIDDEN, CSRF message, csrf detail."""
    view = failure_view or "backendkit.adapters.django.views.csrf_failure"
    client = Client(enforce_csrf_checks=True)
    with override_settings(CSRF_FAILURE_VIEW=view):
        response = client.post("/api/form", data={"a": "1"})
    error = _csrf_error(response)
    assert (error["code"], error["message"]) == ("FORBIDDEN", "CSRF verification failed")
    assert [d["field"] for d in error["details"]] == ["csrf"]
    assert error["requestId"] == response["X-Request-ID"]


def test_a_request_passing_the_csrf_check_is_not_refused() -> None:
    """Valid twin: with the CSRF cookie and token the same view answers 200."""
    client = Client(enforce_csrf_checks=True)
    token = "a" * 32
    client.cookies["csrftoken"] = token
    with override_settings(CSRF_FAILURE_VIEW="django.views.csrf.csrf_failure"):
        response = client.post("/api/form", data={"a": "1"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content


def test_a_403_from_a_view_stays_a_permission_error() -> None:
    """Another 403 (PermissionDenied in a view) is not reported as a CSRF failure."""
    client = Client()
    response = client.get("/api/denied")
    error = _csrf_error(response)
    assert error["code"] == "FORBIDDEN"
    assert error["message"] != "CSRF verification failed"


# --------------------------------------------------------------------------- system checks


def _ids(settings: dict[str, Any]) -> list[str]:
    """The ids backendkit's check reports under ``settings`` (the kit rebuilt for them)."""
    with override_settings(**settings):
        reset_config()
        try:
            return [m.id for m in check_settings()]
        finally:
            reset_config()


VALID = {"MIDDLEWARE": [MIDDLEWARE, *STOCK_MIDDLEWARE], "BACKENDKIT": {"API_PREFIXES": ["/api/"]}}


def test_valid_settings_report_nothing() -> None:
    """The twin of every check below: the stock list with the middleware inserted first."""
    assert _ids(VALID) == []
    assert _ids({**VALID, "BACKENDKIT": {"RATE_LIMIT_DEFAULT": "5/minute"}}) == []


@pytest.mark.parametrize(
    "backendkit",
    [
        ["RATE_LIMIT_DEFAULT", "5/minute"],  # not a dict
        {"RATE_LIMT_DEFAULT": "5/minute"},  # a typo: unknown key
        {"RATE_LIMIT_DEFAULT": "lots"},  # a value that does not parse
        {"MAX_BODY_BYTES": -1},
        {"API_PREFIXES": "/api/"},  # a string, not a list
        {"KIT": WebKit(settings=SETTINGS), "MAX_BODY_BYTES": 10},  # KIT brings its settings
        {"KIT": "tests.adapters.test_django_checks.STOCK_MIDDLEWARE"},  # no WebKit
    ],
)
def test_an_invalid_backendkit_dict_is_e001(backendkit: Any) -> None:
    """settings.BACKENDKIT mistakes are backendkit.E001 at check time."""
    assert _ids({**VALID, "BACKENDKIT": backendkit}) == ["backendkit.E001"]


def test_missing_middleware_is_e002() -> None:
    """MIDDLEWARE without BackendKitMiddleware is backendkit.E002."""
    assert _ids({**VALID, "MIDDLEWARE": STOCK_MIDDLEWARE}) == ["backendkit.E002"]


def test_middleware_not_first_is_w002() -> None:
    """BackendKitMiddleware below another middleware is the warning backendkit.W002."""
    assert _ids({**VALID, "MIDDLEWARE": [*STOCK_MIDDLEWARE, MIDDLEWARE]}) == ["backendkit.W002"]


def test_a_default_limit_without_a_limiter_is_e003() -> None:
    """A KIT built by hand with a default limit and no sync limiter is backendkit.E003."""
    kit = WebKit(settings=Settings(env="test", rate_limit_default="5/minute"))
    assert _ids({**VALID, "BACKENDKIT": {"KIT": kit}}) == ["backendkit.E003"]


def test_a_default_limit_with_a_limiter_passes() -> None:
    """Valid twin of E003: the same kit with a limiter reports nothing."""
    settings = Settings(env="test", rate_limit_default="5/minute")
    kit = WebKit(settings=settings, limiter=RateLimiter("memory://"))
    assert _ids({**VALID, "BACKENDKIT": {"KIT": kit}}) == []


def test_the_checks_run_under_manage_py_check() -> None:
    """Installing the app registers the checks with Django's registry under their tag."""
    assert check_settings in checks.registry.registry.get_checks(include_deployment_checks=False)


# --------------------------------------------------------------------------- no KIT


def test_a_kit_built_from_the_dict_authenticates_and_limits() -> None:
    """Without KIT the adapter's own kit verifies tokens and charges @rate_limit (no 500)."""
    with override_settings(BACKENDKIT={"ENV": "test", "API_PREFIXES": ["/api/"]}):
        reset_config()
        kit = current_kit()
        assert kit.tokens is not None
        token = kit.tokens.issue_access("u1")
        client = Client()
        assert client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
        assert client.get("/api/me").status_code == 401  # the twin: no token
        assert [client.get("/api/limited").status_code for _ in range(2)] == [200, 429]
