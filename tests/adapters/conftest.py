"""Configure Django once for the adapter tests (the shared project ``tests.djangoproject``).

Django is configured once per process; test modules import Django and DRF views at module
level, so the settings must be in place before collection imports them.
"""

from __future__ import annotations

import os

import django
from django.apps import apps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.djangoproject.settings")
if not apps.ready:
    django.setup()
