"""The ``users`` table and the link table of identity-provider users."""

from django.db import models
from django.utils import timezone


class User(models.Model):
    """An account of the example service (not ``django.contrib.auth``: bcrypt by backendkit).

    ``password_hash`` is ``None`` for a user an identity provider signs in: no password
    login works for it.
    """

    email = models.CharField(max_length=254, unique=True)
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=20, default="user", db_index=True)
    password_hash = models.CharField(max_length=255, null=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "users"
        # The default sort (newest first) and keyset paging walk this index.
        indexes = [models.Index(fields=["created_at", "id"], name="ix_users_created_at_id")]  # noqa: RUF012

    def __str__(self) -> str:
        return str(self.email)


class ProviderIdentity(models.Model):
    """An identity provider's user ``(issuer, subject)``, linked to the local user it acts as.

    Found by ``key``, ``provider_identity_key`` of the pair (SHA-256, hex): one unique index
    on every database, and exact on MySQL/MariaDB, whose default collation would take
    subjects ``"Ab"`` and ``"ab"`` for one. ``issuer`` and ``subject`` are kept as the
    provider wrote them.
    """

    key = models.CharField(max_length=64, unique=True)
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identities")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "provider_identities"

    def __str__(self) -> str:
        return f"{self.issuer}#{self.subject}"
