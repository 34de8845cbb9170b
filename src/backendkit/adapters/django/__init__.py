"""Django integration: middleware, error views, view decorators and mixins, ORM listing.

``"backendkit.adapters.django"`` goes in ``INSTALLED_APPS`` (the system checks),
``BackendKitMiddleware`` first in ``MIDDLEWARE``, the options in ``settings.BACKENDKIT``.
Every decision is the core's [`Pipeline`][backendkit.web.Pipeline], one per configured
kit. Needs the ``django`` extra (``pip install 'backendkit[django]'``).
"""

# Private aliases keep the package namespace exactly what __all__ lists.
from backendkit._extras import require as _require

_require("django", "django")

from backendkit.adapters.django._conf import current_kit, reset_config
from backendkit.adapters.django._decorators import (
    AuthRequiredMixin,
    RateLimitMixin,
    acharge_limit,
    charge_limit,
    health_view,
    http_cache,
    json_body,
    metrics_view,
    no_store,
    path_params,
    rate_limit,
    read_json,
    require_auth,
    require_roles,
    require_scopes,
)
from backendkit.adapters.django._listing import (
    QueryFilter,
    apaginate_queryset,
    apaginate_queryset_cursor,
    filter_queryset,
    paginate_queryset,
    paginate_queryset_cursor,
)
from backendkit.adapters.django._middleware import BackendKitMiddleware
from backendkit.adapters.django._request import (
    client_key,
    current_cycle,
    get_principal,
    get_request_id,
    page_response,
    success_response,
)

__all__ = [
    "AuthRequiredMixin",
    "BackendKitMiddleware",
    "QueryFilter",
    "RateLimitMixin",
    "acharge_limit",
    "apaginate_queryset",
    "apaginate_queryset_cursor",
    "charge_limit",
    "client_key",
    "current_cycle",
    "current_kit",
    "filter_queryset",
    "get_principal",
    "get_request_id",
    "health_view",
    "http_cache",
    "json_body",
    "metrics_view",
    "no_store",
    "page_response",
    "paginate_queryset",
    "paginate_queryset_cursor",
    "path_params",
    "rate_limit",
    "read_json",
    "require_auth",
    "require_roles",
    "require_scopes",
    "reset_config",
    "success_response",
]
