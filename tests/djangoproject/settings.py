"""Settings of the shared Django test project.

``BACKENDKIT_TEST_DJANGO_DB`` chooses the ``default`` database: ``sqlite`` (the default: a
file in a fresh temporary directory) or ``postgres`` (the server of
``BACKENDKIT_TEST_POSTGRES_URL``). A second alias, ``postgres``, always points at that server
so tests can run against it in the same process; Django connects to it only when a test
uses it. Test databases get unique names, so parallel runs never collide.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

_RUN = uuid.uuid4().hex[:8]


def _postgres(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": (parts.path or "/test").lstrip("/") or "test",
        "USER": unquote(parts.username or "postgres"),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
        "TEST": {"NAME": f"bk_django_{_RUN}"},
    }


_POSTGRES = _postgres(
    os.environ.get("BACKENDKIT_TEST_POSTGRES_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_KIND = os.environ.get("BACKENDKIT_TEST_DJANGO_DB", "sqlite").strip().lower() or "sqlite"
if _KIND not in ("sqlite", "postgres"):
    raise RuntimeError("BACKENDKIT_TEST_DJANGO_DB must be 'sqlite' or 'postgres'")

_SQLITE_DIR = tempfile.mkdtemp(prefix="bk-django-")

SECRET_KEY = "django-test-project-" + "x" * 40
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "tests.djangoproject.urls"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework",
    "backendkit.adapters.django.apikeys",
    "backendkit.adapters.django.onetime",
    "backendkit.adapters.django.tokenstore",
    "tests.djangoproject.testapp",
]

MIDDLEWARE = [
    "backendkit.adapters.django.BackendKitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

DATABASES: dict[str, dict[str, Any]] = {
    "default": dict(_POSTGRES)
    if _KIND == "postgres"
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(_SQLITE_DIR, "db.sqlite3"),
        "TEST": {"NAME": os.path.join(_SQLITE_DIR, "test.sqlite3")},
    },
    "postgres": {**_POSTGRES, "TEST": {"NAME": f"bk_django_{_RUN}_pg"}},
}

# backendkit's Django and DRF adapters (tests/adapters/): each test's kit comes from
# tests.adapters._django_app.current_kit; the harness apps serve the whole site as an API
# (tests that need HTML paths narrow API_PREFIXES with override_settings).
BACKENDKIT = {"KIT": "tests.adapters._django_app.current_kit", "API_PREFIXES": ["/"]}
CSRF_FAILURE_VIEW = "backendkit.adapters.django.views.csrf_failure"
REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "backendkit.adapters.drf.exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": ["backendkit.adapters.drf.JWTAuthentication"],
    "DEFAULT_PARSER_CLASSES": ["backendkit.adapters.drf.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "backendkit.adapters.drf.ContentNegotiation",
    "DEFAULT_RENDERER_CLASSES": ["backendkit.adapters.drf.EnvelopeJSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
