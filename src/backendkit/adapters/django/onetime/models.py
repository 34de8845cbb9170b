"""The one-time token table on the Django ORM (``bk_dj_one_time_tokens``).

The fields are those of the SQLAlchemy table (``backendkit.auth.sql.one_time_tokens_table``);
the table has its own name, so the two never collide in one database. A token is found by
its digest (the primary key); times are seconds since the epoch, from the service's clock.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models  # type: ignore[import-untyped]

__all__ = ["StoredOneTimeToken"]


class StoredOneTimeToken(models.Model):  # type: ignore[misc]
    """One outstanding token: the HMAC digest it is found by (never the token) and what it
    was issued for."""

    digest = models.CharField(max_length=64, primary_key=True)
    purpose = models.CharField(max_length=40)
    user_id = models.CharField(max_length=255)
    email = models.CharField(max_length=320)
    issued_at = models.FloatField()
    expires_at = models.FloatField(db_index=True)

    class Meta:
        db_table = "bk_dj_one_time_tokens"
        # invalidate() deletes by (user, purpose); add() deletes that user's expired ones.
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["user_id", "purpose"], name="bk_dj_one_time_user_purpose")
        ]
