"""The authenticated caller, as every adapter hands it to route code."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["LinkedUser", "Principal"]


@dataclass(frozen=True, slots=True)
class LinkedUser:
    """What a ``user_loader`` returns to link a credential to a local user.

    A provider's token names its subject in the provider's namespace: ``sub`` ``"1"`` at
    an identity provider is not this app's user 1. The loader looks the ``(issuer,
    subject)`` pair up (or creates the user) and returns ``LinkedUser(user_id, record)``;
    the principal then acts as that local user. A loader that returns a bare record sets
    only ``principal.user`` and leaves ``user_id`` as it was.

    Attributes:
        user_id: the local user's id, as the app's own tokens write it in ``sub``.
        record: the app's user record (becomes ``principal.user``).
    """

    user_id: str
    record: Any = None


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as every adapter hands it to route code.

    Attributes:
        user_id: the local user: the ``sub`` of the app's own tokens. For a provider's
            token it is ``"<issuer>#<sub>"`` (never a bare provider ``sub``, which could
            equal a local id) until the ``user_loader`` links it with a
            [`LinkedUser`][backendkit.web.LinkedUser].
        roles: roles granted by the token (a provider's only as its mapping says).
        scopes: scopes granted by the token (likewise).
        claims: the verified claims (a ``TokenClaims``, or a ``ProviderClaims`` for a
            provider's token), for app-specific checks.
        user: the app's own user record, when the kit has a ``user_loader`` (else ``None``).
        issuer: who issued the credential (the token's ``iss``; ``None`` when the app's
            own tokens carry none).
        method: how the caller authenticated: ``"bearer"`` (the app's own token, from the
            header or the cookie), ``"provider"`` (an identity provider's access token) or
            ``"api_key"`` (an API key: ``scopes`` are the key's, ``roles`` are empty and
            ``claims`` is the [`ApiKey`][backendkit.auth.ApiKey]).
        subject: the credential's subject as its issuer wrote it (``sub``; for an API key,
            its owner).
    """

    user_id: str
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    claims: Any = None
    user: Any = None
    issuer: str | None = None
    method: str = "bearer"
    subject: str | None = None

    @property
    def is_authenticated(self) -> bool:
        """Always ``True``: a credential verified (Django, DRF and Flask-Login read this flag)."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Always ``False`` (the counterpart of ``is_authenticated``)."""
        return False

    def with_user(self, loaded: Any) -> Principal:
        """This principal with what the ``user_loader`` returned: a
        [`LinkedUser`][backendkit.web.LinkedUser] sets ``user_id`` and ``user``; anything
        else becomes ``user``."""
        if isinstance(loaded, LinkedUser):
            return dataclasses.replace(self, user_id=str(loaded.user_id), user=loaded.record)
        return dataclasses.replace(self, user=loaded)

    def has_role(self, *roles: str) -> bool:
        """True when the principal holds at least one of ``roles``."""
        return not self.roles.isdisjoint(roles)

    def has_scopes(self, *scopes: str) -> bool:
        """True when the principal holds every one of ``scopes``."""
        return self.scopes.issuperset(scopes)
