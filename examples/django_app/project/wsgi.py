"""WSGI entry point: ``gunicorn examples.django_app.project.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_app.project.settings")

application = get_wsgi_application()

# Logging and the bootstrap admin, once the apps are loaded (every worker; idempotent).
from examples.django_app.users.services import on_start

on_start()
