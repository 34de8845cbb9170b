"""One-time tokens on the Django ORM: the app in INSTALLED_APPS, migrate, then the store."""

import tempfile
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command

settings.configure(  # in a project: these lines of settings.py
    INSTALLED_APPS=["backendkit.adapters.django.onetime"],
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

from backendkit.adapters.django.onetime import DjangoOneTimeTokenStore
from backendkit.auth import PASSWORD_RESET, OneTimeTokens


class Mailer:
    """Your sender (see above): here it keeps the last token."""

    token = ""

    def send(self, email: str, purpose: str, token: str) -> None:
        self.token = token


mailer = Mailer()
tokens = OneTimeTokens(DjangoOneTimeTokenStore(), keys=[b"k" * 32], sender=mailer)
tokens.issue(PASSWORD_RESET, "ann@example.com", user_id="7", address="203.0.113.7")
assert tokens.consume(PASSWORD_RESET, mailer.token).user_id == "7"
call_command("backendkit_purge_one_time_tokens")  # in a project: a scheduled manage.py command
