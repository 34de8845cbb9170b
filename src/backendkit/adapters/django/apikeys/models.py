"""The API-key table on the Django ORM (``bk_dj_api_keys``).

The fields are those of the SQLAlchemy table (``backendkit.auth.sql.api_keys_table``);
the table has its own name, so the two never collide in one database. Times are seconds
since the epoch, from the service's clock.
"""

from __future__ import annotations

from django.db import models  # type: ignore[import-untyped]

__all__ = ["StoredApiKey"]


class StoredApiKey(models.Model):  # type: ignore[misc]
    """One API key: its public fields and the HMAC digest of its secret (never the secret)."""

    id = models.CharField(max_length=16, primary_key=True)
    prefix = models.CharField(max_length=40)
    user_id = models.CharField(max_length=255, db_index=True)
    name = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)
    digest = models.CharField(max_length=64)
    created_at = models.FloatField()
    expires_at = models.FloatField(null=True)
    last_used_at = models.FloatField(null=True)
    revoked_at = models.FloatField(null=True)

    class Meta:
        db_table = "bk_dj_api_keys"
