"""Mixins for class-based views: the same checks as the decorators, set as class attributes.

Put them left of ``View`` (authentication before rate limiting, so a ``"user"``-keyed
limit sees the caller):

```python
class UserDetail(AuthRequiredMixin, RateLimitMixin, View):
    required_roles = ("admin",)
    rate_limit = "30/minute"
    rate_limit_key = "user"
```

Decorators work too: ``@method_decorator(require_auth, name="dispatch")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from backendkit._extras import require

require("django", "django")

from django.http import HttpRequest  # type: ignore[import-untyped]

from backendkit.adapters.django._decorators import (
    KeyFunc,
    aauthorize_request,
    acharge_limit,
    authorize_request,
    charge_limit,
)
from backendkit.web import KeyKind

if TYPE_CHECKING:
    from backendkit.ratelimit import FailurePolicy

__all__ = ["AuthRequiredMixin", "RateLimitMixin"]


def _is_async(view: object) -> bool:
    return bool(getattr(type(view), "view_is_async", False))


class AuthRequiredMixin:
    """Require a valid access token before ``dispatch`` (sync and async views).

    Attributes:
        required_roles: the caller needs at least one of these (empty: any caller).
        required_scopes: the caller needs every one of these.
    """

    required_roles: ClassVar[Sequence[str]] = ()
    required_scopes: ClassVar[Sequence[str]] = ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        """Authenticate and authorize, then dispatch as usual."""
        if _is_async(self):
            return self._auth_adispatch(request, *args, **kwargs)
        authorize_request(request, self.required_roles, self.required_scopes)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    async def _auth_adispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        await aauthorize_request(request, self.required_roles, self.required_scopes)
        return await super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class RateLimitMixin:
    """Charge a rate limit before ``dispatch`` and add the rate-limit headers.

    Attributes:
        rate_limit: a limits string (``"5/minute"``); ``None`` disables the check.
        rate_limit_key: ``"ip"``, ``"user"``, or a ``staticmethod`` taking the request.
        rate_limit_name: the rule name (default: method and URL pattern).
        rate_limit_failure_policy: the rule's policy while the limiter's storage is down
            (default ``None``: the limiter's own).
    """

    rate_limit: ClassVar[str | None] = None
    rate_limit_key: ClassVar[KeyKind | KeyFunc] = "ip"
    rate_limit_name: ClassVar[str | None] = None
    rate_limit_failure_policy: ClassVar[FailurePolicy | None] = None

    def _limit_args(self) -> dict[str, Any]:
        return {
            "key": self.rate_limit_key,
            "name": self.rate_limit_name,
            "failure_policy": self.rate_limit_failure_policy,
            "fallback": f"{type(self).__module__}.{type(self).__qualname__}",
        }

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        """Charge the limit, then dispatch as usual."""
        if self.rate_limit is None:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        if _is_async(self):
            return self._limit_adispatch(request, *args, **kwargs)
        charge_limit(request, self.rate_limit, **self._limit_args())
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    async def _limit_adispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        assert self.rate_limit is not None
        await acharge_limit(request, self.rate_limit, **self._limit_args())
        return await super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
