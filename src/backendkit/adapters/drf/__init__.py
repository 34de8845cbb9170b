"""Django REST framework integration, on top of the Django adapter (keep its middleware):
the exception handler and the authentication, parser, negotiation, renderer, pagination and
throttle classes ``REST_FRAMEWORK`` names (see the *Django REST framework* integration page).
Needs the ``drf`` extra (``pip install 'backendkit[drf]'``)."""

# Private aliases keep the package namespace exactly what __all__ lists.
from backendkit._extras import require as _require

_require("rest_framework", "drf")

from backendkit.adapters.drf._auth import (
    JWTAuthentication,
    RateLimitHeadersMixin,
    RuleThrottle,
    has_roles,
    has_scopes,
    throttle_for,
)
from backendkit.adapters.drf._exceptions import (
    BackendKitAPIException,
    as_api_exception,
    exception_handler,
)
from backendkit.adapters.drf._json import (
    ContentNegotiation,
    CursorPagination,
    EnvelopeJSONRenderer,
    JSONParser,
    PagePagination,
)

__all__ = [
    "BackendKitAPIException",
    "ContentNegotiation",
    "CursorPagination",
    "EnvelopeJSONRenderer",
    "JSONParser",
    "JWTAuthentication",
    "PagePagination",
    "RateLimitHeadersMixin",
    "RuleThrottle",
    "as_api_exception",
    "exception_handler",
    "has_roles",
    "has_scopes",
    "throttle_for",
]
