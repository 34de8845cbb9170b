"""The Django token store: the app in INSTALLED_APPS, migrate, then DjangoTokenStore."""

import tempfile
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command

settings.configure(  # in a project: these lines of settings.py
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "backendkit.adapters.django.tokenstore",
    ],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(Path(tempfile.mkdtemp()) / "db.sqlite3"),
        }
    },
    USE_TZ=True,
)
django.setup()
call_command("migrate", verbosity=0)  # in a project: manage.py migrate

from backendkit.adapters.django.tokenstore import DjangoTokenStore
from backendkit.auth import JWTKey, TokenService

tokens = TokenService(JWTKey.hmac(b"a-32-byte-or-longer-secret-key!!"), store=DjangoTokenStore())
pair = tokens.issue_pair("user-1")
assert tokens.refresh(pair.refresh_token).session_id == pair.session_id
call_command("backendkit_purge_tokens")  # in a project: a scheduled manage.py command
