"""App configuration of ``users``."""

from django.apps import AppConfig


class UsersConfig(AppConfig):
    """The ``users`` app (label ``users``)."""

    name = "examples.django_app.users"
    label = "users"
    default_auto_field = "django.db.models.BigAutoField"
