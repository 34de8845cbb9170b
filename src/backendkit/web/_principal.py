"""The authenticated caller, as every adapter hands it to route code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as every adapter hands it to route code.

    Attributes:
        user_id: the token's subject (``sub``).
        roles: roles granted by the token.
        scopes: scopes granted by the token.
        claims: the verified claims (a ``TokenClaims``), for app-specific checks.
        user: the app's own user record, when the kit has a ``user_loader`` (else ``None``).
    """

    user_id: str
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    claims: Any = None
    user: Any = None

    @property
    def is_authenticated(self) -> bool:
        """Always ``True``: a token verified (Django, DRF and Flask-Login read this flag)."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Always ``False`` (the counterpart of ``is_authenticated``)."""
        return False

    def has_role(self, *roles: str) -> bool:
        """True when the principal holds at least one of ``roles``."""
        return not self.roles.isdisjoint(roles)

    def has_scopes(self, *scopes: str) -> bool:
        """True when the principal holds every one of ``scopes``."""
        return self.scopes.issuperset(scopes)
