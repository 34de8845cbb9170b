"""Authentication and permission classes backed by the core's ``TokenService``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from backendkit._extras import require

require("rest_framework", "drf")

from rest_framework.authentication import (  # type: ignore[import-untyped]
    BaseAuthentication,
)
from rest_framework.permissions import BasePermission  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import get_kit
from backendkit.adapters.django._request import django_request, set_principal
from backendkit.adapters.drf._exceptions import as_api_exception
from backendkit.errors import AppError, Forbidden
from backendkit.web import Principal, authenticate, check_roles, check_scopes, credentials

__all__ = ["JWTAuthentication", "TokenUser", "has_roles", "has_scopes"]


@dataclass(frozen=True, slots=True)
class TokenUser(Principal):
    """Kept for compatibility: [`Principal`][backendkit.web.Principal] itself now has
    ``is_authenticated``/``is_anonymous``, and ``request.user`` is the principal.

    Existing code that builds one (``TokenUser.of(principal)``) keeps working.
    """

    @classmethod
    def of(cls, principal: Principal) -> TokenUser:
        """The same principal as a ``TokenUser``."""
        return cls(**{f.name: getattr(principal, f.name) for f in fields(principal)})


class JWTAuthentication(BaseAuthentication):  # type: ignore[misc]
    """Verify ``Authorization: Bearer <access token>`` (or the cookie transport) with the kit's
    ``TokenService``.

    On success ``request.user`` is the [`Principal`][backendkit.web.Principal]
    (``user_id``, ``roles``, ``scopes``, ``claims``; ``is_authenticated`` is ``True``, as
    DRF's ``IsAuthenticated`` expects) and ``request.auth`` the token; the user id is
    bound to the log context and the response becomes ``Cache-Control: no-store``. A
    request without credentials is left anonymous (permission classes decide); a bad
    token is a ``401 INVALID_TOKEN`` with ``WWW-Authenticate``.

    ```python
    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["backendkit.adapters.drf.JWTAuthentication"],
    }
    ```
    """

    def authenticate(self, request: Any) -> tuple[Principal, str] | None:
        """Return ``(principal, token)``, ``None`` without credentials, or raise 401/403."""
        kit = get_kit()
        http_request = django_request(request)
        try:
            token = credentials(
                kit,
                method=http_request.method or "GET",
                authorization=http_request.META.get("HTTP_AUTHORIZATION"),
                cookies=http_request.COOKIES,
                headers=http_request.headers,
            )
            if token is None:
                return None
            principal = authenticate(kit, token)
        except AppError as exc:
            raise as_api_exception(exc) from exc
        set_principal(request, principal)
        return principal, token

    def authenticate_header(self, request: Any) -> str:
        """``WWW-Authenticate`` value of a 401 (DRF answers 403 when this is empty)."""
        return "Bearer"


def _principal(request: Any) -> Principal | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, Principal) else None


def has_roles(*roles: str) -> type[BasePermission]:
    """A permission class requiring at least one of ``roles``: ``[has_roles("admin")]``.

    Anonymous callers get ``401``; authenticated ones without the role ``403 FORBIDDEN``.
    """

    class HasRoles(BasePermission):  # type: ignore[misc]
        message = Forbidden.default_message

        def has_permission(self, request: Any, view: Any) -> bool:
            principal = _principal(request)
            if principal is None:
                return False
            try:
                check_roles(principal, roles)
            except AppError:
                return False
            return True

    HasRoles.__qualname__ = HasRoles.__name__ = f"HasRoles{roles!r}"
    return HasRoles


def has_scopes(*scopes: str) -> type[BasePermission]:
    """A permission class requiring every one of ``scopes``."""

    class HasScopes(BasePermission):  # type: ignore[misc]
        message = Forbidden.default_message

        def has_permission(self, request: Any, view: Any) -> bool:
            principal = _principal(request)
            if principal is None:
                return False
            try:
                check_scopes(principal, scopes)
            except AppError:
                return False
            return True

    HasScopes.__qualname__ = HasScopes.__name__ = f"HasScopes{scopes!r}"
    return HasScopes
