"""The ``users`` table."""

from django.db import models
from django.utils import timezone


class User(models.Model):
    """An account of the example service (not ``django.contrib.auth``: bcrypt by backendkit)."""

    email = models.CharField(max_length=254, unique=True)
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=20, default="user", db_index=True)
    password_hash = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "users"
        # The default sort (newest first) and keyset paging walk this index.
        indexes = [models.Index(fields=["created_at", "id"], name="ix_users_created_at_id")]  # noqa: RUF012

    def __str__(self) -> str:
        return str(self.email)
