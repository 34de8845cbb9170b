"""Authentication, permission and throttle classes: the same pipeline calls as the Django
decorators ([`Pipeline.principal`][backendkit.web.Pipeline.principal], ``authorize`` and
``charge``). DRF runs them after authentication, in its own order."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework.authentication import BaseAuthentication  # type: ignore[import-untyped]
from rest_framework.permissions import BasePermission  # type: ignore[import-untyped]
from typing_extensions import Unpack

from backendkit.adapters.django._request import bind
from backendkit.adapters.drf._exceptions import as_api_exception
from backendkit.errors import AppError
from backendkit.web import LimitOptions, Principal, RouteLimit, credentials

__all__ = [
    "JWTAuthentication",
    "RateLimitHeadersMixin",
    "RuleThrottle",
    "has_roles",
    "has_scopes",
    "throttle_for",
]


class JWTAuthentication(BaseAuthentication):  # type: ignore[misc]
    """Bearer (or cookie) access tokens and, with the kit's ``api_keys``, API keys:
    ``request.user`` is the [`Principal`][backendkit.web.Principal] (``is_authenticated``),
    ``request.auth`` the token (for an API key, its [`ApiKey`][backendkit.auth.ApiKey]);
    no credentials, an anonymous request; a bad token or key, ``401 INVALID_TOKEN``."""

    def authenticate(self, request: Any) -> tuple[Principal, Any] | None:
        """``(principal, token)``, or ``None`` without credentials."""
        pipeline, cycle, facts = bind(request)
        try:
            principal = pipeline.principal(cycle, facts)
            if principal is None:
                return None
            if principal.method == "api_key":
                return principal, principal.claims  # the ApiKey, never the secret
            token = credentials(
                pipeline.kit,
                method=facts.method,
                authorization=facts.header("authorization"),
                cookies=facts.cookies(),
                headers=facts.http.headers,
            )
        except AppError as exc:
            raise as_api_exception(exc) from exc
        return principal, token or ""

    def authenticate_header(self, request: Any) -> str:
        """``WWW-Authenticate`` of a 401 (DRF answers 403 when there is none)."""
        return "Bearer"


def _permission(label: str, roles: tuple[str, ...], scopes: tuple[str, ...]) -> Any:
    def has_permission(self: Any, request: Any, view: Any) -> bool:
        pipeline, cycle, facts = bind(request)
        try:
            pipeline.authorize(cycle, facts, roles=roles, scopes=scopes)
        except AppError as exc:  # 401 anonymous, 403 without the role or scope
            raise as_api_exception(exc) from exc
        return True

    return type(label, (BasePermission,), {"has_permission": has_permission})


def has_roles(*roles: str) -> type[BasePermission]:
    """A permission class requiring one of ``roles``: ``[has_roles("admin")]``."""
    return _permission(f"HasRoles{roles!r}", roles, ())  # type: ignore[no-any-return]


def has_scopes(*scopes: str) -> type[BasePermission]:
    """A permission class requiring every one of ``scopes``."""
    return _permission(f"HasScopes{scopes!r}", (), scopes)  # type: ignore[no-any-return]


class RuleThrottle:
    """A DRF throttle charging one [`RouteLimit`][backendkit.web.RouteLimit] (see
    [`throttle_for`][backendkit.adapters.drf.throttle_for]); DRF's interface without
    ``BaseThrottle``, whose module needs configured settings at import time."""

    limit: ClassVar[RouteLimit]

    def allow_request(self, request: Any, view: Any) -> bool:
        """Charge the limit: ``True``, or 429 with ``Retry-After`` and the rate-limit headers."""
        pipeline, cycle, facts = bind(request)
        try:
            pipeline.charge(cycle, facts, self.limit)
        except AppError as exc:
            raise as_api_exception(exc) from exc
        return True

    def wait(self) -> float | None:
        """Never consulted: a denial carries its own ``Retry-After``."""
        return None


def throttle_for(limits: str, **options: Unpack[LimitOptions]) -> type[RuleThrottle]:
    """A throttle class for one [`RouteLimit`][backendkit.web.RouteLimit] of these options
    (the options of [`rate_limit`][backendkit.adapters.django.rate_limit]; a bad limit or an
    ambiguous ``key`` fails here, at import). One class is one rule: DRF charges every
    throttle of a view and stops at the first denial. Key functions get the DRF request."""
    limit = RouteLimit(limits, **options)
    return type(f"Throttle[{limit.name or limits}]", (RuleThrottle,), {"limit": limit})


class RateLimitHeadersMixin:
    """Put the rate-limit headers of the view's throttles on its responses, also without
    ``BackendKitMiddleware`` (which adds them itself)."""

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        """DRF's ``finalize_response``, plus the rate-limit headers."""
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        for name, value in bind(request)[1].extra_headers.items():
            response.setdefault(name, value)
        return response
