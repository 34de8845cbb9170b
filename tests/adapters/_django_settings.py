"""Django settings for the adapter tests when the shared ``tests.djangoproject`` is absent.

``tests/adapters/_django_app.py`` prefers ``tests.djangoproject.settings`` and then applies
``ADAPTER_SETTINGS`` (below) on top, so the adapter tests see the same configuration whatever
project settings the process was started with.
"""

from __future__ import annotations

from typing import Any

SECRET_KEY = "adapter-tests-" + "x" * 40
DEBUG = False
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
ROOT_URLCONF = "tests.adapters._django_harness_urls"

#: What the adapter tests need from any project settings.
ADAPTER_SETTINGS: dict[str, Any] = {
    "ALLOWED_HOSTS": ["testserver", "localhost", "127.0.0.1"],
    "MIDDLEWARE": [
        "backendkit.adapters.django.BackendKitMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    "BACKENDKIT": {"KIT": "tests.adapters._django_app.current_kit", "API_PREFIXES": ["/"]},
    "CSRF_FAILURE_VIEW": "backendkit.adapters.django.views.csrf_failure",
    "REST_FRAMEWORK": {
        "EXCEPTION_HANDLER": "backendkit.adapters.drf.exception_handler",
        "DEFAULT_AUTHENTICATION_CLASSES": ["backendkit.adapters.drf.JWTAuthentication"],
        "DEFAULT_PARSER_CLASSES": ["backendkit.adapters.drf.JSONParser"],
        "DEFAULT_CONTENT_NEGOTIATION_CLASS": "backendkit.adapters.drf.ContentNegotiation",
        "DEFAULT_RENDERER_CLASSES": ["backendkit.adapters.drf.EnvelopeJSONRenderer"],
        "UNAUTHENTICATED_USER": None,
    },
}

globals().update(ADAPTER_SETTINGS)
