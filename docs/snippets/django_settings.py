"""settings.py excerpt: backendkit in a Django project."""

MIDDLEWARE = [
    # First, so it sees every response: other middleware's redirects and errors too.
    "backendkit.adapters.django.BackendKitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

BACKENDKIT = {
    # Any backendkit setting (BACKENDKIT_* environment variables fill in the rest).
    "RATE_LIMIT_DEFAULT": "300/minute",
    "MAX_BODY_BYTES": 262_144,
    # Paths served as a JSON API: the envelope on every error path, the body cap and the
    # default rate limit apply here; the admin and HTML pages keep Django's behaviour.
    "API_PREFIXES": ["/api/"],
    # Or hand over a kit you built (token service, limiters):
    # "KIT": "myproject.kit.build_kit",
}

# CSRF failures on API paths come out as 403 FORBIDDEN envelopes.
CSRF_FAILURE_VIEW = "backendkit.adapters.django.views.csrf_failure"

# A POST to /api/users (no slash) is a 404 envelope, never a redirect that drops the body;
# APIs usually also turn the redirect off altogether.
APPEND_SLASH = False
