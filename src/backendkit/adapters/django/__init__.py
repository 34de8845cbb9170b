"""Django integration: middleware, error views, view decorators and mixins, ORM pagination.

```python
# settings.py
MIDDLEWARE = ["backendkit.adapters.django.BackendKitMiddleware", ...]
BACKENDKIT = {"RATE_LIMIT_DEFAULT": "100/minute"}
CSRF_FAILURE_VIEW = "backendkit.adapters.django.views.csrf_failure"

# urls.py
handler400 = "backendkit.adapters.django.views.bad_request"
handler403 = "backendkit.adapters.django.views.permission_denied"
handler404 = "backendkit.adapters.django.views.page_not_found"
handler500 = "backendkit.adapters.django.views.server_error"
```

Needs the ``django`` extra (``pip install 'backendkit[django]'``).
"""

from __future__ import annotations

from backendkit._extras import require

require("django", "django")

from backendkit.adapters.django._conf import (
    DjangoOptions,
    get_kit,
    get_options,
    reset_config,
)
from backendkit.adapters.django._decorators import (
    acharge_limit,
    charge_limit,
    http_cache,
    json_body,
    no_store,
    rate_limit,
    read_json,
    require_auth,
    require_roles,
    require_scopes,
)
from backendkit.adapters.django._health import health_view
from backendkit.adapters.django._middleware import BackendKitMiddleware
from backendkit.adapters.django._mixins import AuthRequiredMixin, RateLimitMixin
from backendkit.adapters.django._pagination import (
    QueryFilter,
    filter_queryset,
    paginate_queryset,
    paginate_queryset_cursor,
)
from backendkit.adapters.django._params import path_params
from backendkit.adapters.django._request import (
    client_key,
    get_principal,
    get_request_id,
)
from backendkit.adapters.django._responses import page_response, success_response

__all__ = [
    "AuthRequiredMixin",
    "BackendKitMiddleware",
    "DjangoOptions",
    "QueryFilter",
    "RateLimitMixin",
    "acharge_limit",
    "charge_limit",
    "client_key",
    "filter_queryset",
    "get_kit",
    "get_options",
    "get_principal",
    "get_request_id",
    "health_view",
    "http_cache",
    "json_body",
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
