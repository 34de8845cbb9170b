"""The token store's tables on the Django ORM (``bk_dj_`` prefixed).

The fields are those of the SQLAlchemy tables (``backendkit.auth.sql``), so both stores
take the same changes from ``backendkit.auth._store_rules``; the tables have their own
names (and a surrogate key, as Django models do), so the two never collide in one database.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models  # type: ignore[import-untyped]

__all__ = ["DeniedToken", "TokenSession", "UserCutoff"]


def _unique(table: str, *fields: str) -> list[Any]:
    """The constraint making ``fields`` a natural key, named after its table and fields."""
    return [models.UniqueConstraint(fields=list(fields), name="_".join((table, *fields)))]


class TokenSession(models.Model):  # type: ignore[misc]
    """One session (refresh family): its current and previous refresh ``jti`` and state."""

    sub = models.CharField(max_length=256)
    sid = models.CharField(max_length=64)
    current_jti = models.CharField(max_length=64)
    previous_jti = models.CharField(max_length=64, null=True)
    rotated_at = models.FloatField()
    revoked = models.BooleanField(default=False)
    # The pair handed out at the last rotation (it holds a live refresh token): cleared by
    # the clean-up once grace_until has passed.
    grace_pair = models.TextField(null=True)
    grace_until = models.FloatField(null=True, db_index=True)
    expires_at = models.FloatField(db_index=True)

    class Meta:
        db_table = "bk_dj_token_sessions"
        constraints: ClassVar[list[Any]] = _unique("bk_dj_token_sessions", "sub", "sid")


class DeniedToken(models.Model):  # type: ignore[misc]
    """A token id revoked one by one, kept until the token would have expired."""

    sub = models.CharField(max_length=256)
    jti = models.CharField(max_length=64)
    expires_at = models.FloatField(db_index=True)

    class Meta:
        db_table = "bk_dj_token_denied"
        constraints: ClassVar[list[Any]] = _unique("bk_dj_token_denied", "sub", "jti")


class UserCutoff(models.Model):  # type: ignore[misc]
    """``revoke_user``'s cut-off: tokens of ``sub`` issued before ``not_before`` are refused."""

    sub = models.CharField(max_length=256, unique=True)
    not_before = models.FloatField()
    expires_at = models.FloatField(db_index=True)

    class Meta:
        db_table = "bk_dj_token_user_cutoffs"
