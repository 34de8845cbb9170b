"""Django settings of the example, all read from the environment (``examples/README.md``)."""

from importlib.util import find_spec

from examples._shared.config import load_config

#: The example's configuration (BACKENDKIT_* variables, PORT, ...), read once.
EXAMPLE = load_config("django")

_settings = EXAMPLE.settings

DEBUG = _settings.env == "development"
# Django's own secret (sessions, signing) is not used by this API; backendkit derives its
# keys from BACKENDKIT_SECRET_KEY. In production that variable is required (settings.py of
# backendkit refuses to start without it), so Django's key is taken from it too.
SECRET_KEY = (
    _settings.secret_key[0].get_secret_value()
    if _settings.secret_key
    else "django-insecure-development-only-key"
)
ALLOWED_HOSTS = ["*"]  # put the service behind a proxy that checks the Host header
ROOT_URLCONF = "examples.django_app.project.urls"
WSGI_APPLICATION = "examples.django_app.project.wsgi.application"

INSTALLED_APPS = [
    "examples.django_app.users",
    # backendkit's stores on this database (all migrated, whichever the environment uses):
    # API keys; sessions with BACKENDKIT_TOKEN_STORE=sql; password-reset tokens without Redis.
    "backendkit.adapters.django.apikeys",
    "backendkit.adapters.django.tokenstore",
    "backendkit.adapters.django.onetime",
]
MIDDLEWARE = [
    # First, so it sees every response (CommonMiddleware's, Django's own error pages).
    "backendkit.adapters.django.BackendKitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
BACKENDKIT = {
    # The kit (token verification, limiter) is built by the example's services module.
    "KIT": "examples.django_app.users.services.build_kit",
    # The whole site is the API: every error path answers in the envelope, and every
    # request but /health (a health_view) is charged the default budget.
    "API_PREFIXES": ["/"],
}
CSRF_FAILURE_VIEW = "backendkit.adapters.django.views.csrf_failure"

DATABASES = {"default": EXAMPLE.django_database()}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql" and not find_spec("MySQLdb"):
    # Django's MySQL backend imports MySQLdb (mysqlclient, a C build against the MySQL or
    # MariaDB client library). Without it, PyMySQL (pure Python, in backendkit[mysql])
    # takes its name: Django does not support that pairing, the contract suite runs it on
    # MariaDB. Install mysqlclient to get Django's supported driver instead.
    import pymysql

    pymysql.install_as_MySQLdb()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
# Request bodies are capped by backendkit (BACKENDKIT_MAX_BODY_BYTES, 413 in the envelope).
DATA_UPLOAD_MAX_MEMORY_SIZE = _settings.max_body_bytes

# backendkit's structlog setup (configure_logging, called in wsgi.py) owns the log output:
# Django's own loggers (django.request, django.server) propagate to its root handler, which
# logs their request URLs without the query string (cursors, search terms, emails).
LOGGING_CONFIG = None
