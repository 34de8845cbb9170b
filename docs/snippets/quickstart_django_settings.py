"""settings.py of a fresh ``django-admin startproject``: the stock lists, then our lines."""

# The stock lists startproject writes (yours may have more): keep them as they are.
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# --8<-- [start:backendkit]
# At the end of settings.py:
INSTALLED_APPS.append("backendkit.adapters.django")  # system checks: mistakes stop the start
MIDDLEWARE.insert(0, "backendkit.adapters.django.BackendKitMiddleware")  # first: sees all

BACKENDKIT = {
    "API_PREFIXES": ["/api/"],  # envelopes for these paths; the rest stays Django's
}
APPEND_SLASH = False  # never redirect a POST to /api/notes/ (the body would be lost)
# --8<-- [end:backendkit]
