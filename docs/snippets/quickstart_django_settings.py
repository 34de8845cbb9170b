"""settings.py: the lines that add backendkit to a Django project."""

MIDDLEWARE = [
    "backendkit.adapters.django.BackendKitMiddleware",  # first: sees every response
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

BACKENDKIT = {
    "API_PREFIXES": ["/api/"],  # envelopes for these paths; the rest stays Django's
}
APPEND_SLASH = False  # never redirect a POST to /api/notes/ (the body would be lost)
