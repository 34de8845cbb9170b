"""Throttle classes backed by the core rate limiter, one class per rule, plus their headers.

DRF runs every throttle class of a view and charges each, so a rule is one class:
``throttle_for("5/minute")`` builds it. DRF throttles run after authentication, so a
``key="user"`` rule counts per authenticated user (Django middleware cannot: it runs before
DRF authenticates). A throttle cannot set headers; the rate-limit headers reach the
response through ``BackendKitMiddleware`` or, without it, through
[`RateLimitHeadersMixin`][backendkit.adapters.drf.RateLimitHeadersMixin].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from backendkit._extras import require

require("rest_framework", "drf")

from backendkit.adapters.django._conf import get_kit
from backendkit.adapters.django._request import client_key, django_request, get_cycle
from backendkit.adapters.drf._exceptions import as_api_exception
from backendkit.errors import ConfigurationError, RateLimited
from backendkit.web import (
    KeyKind,
    Principal,
    RequestCycle,
    enforce_limit,
    limit_key,
    route_rule,
    rule_name,
)

if TYPE_CHECKING:
    from backendkit.ratelimit import FailurePolicy

__all__ = ["RateLimitHeadersMixin", "RuleThrottle", "throttle_for"]

# Attributes on the HttpRequest: the headers of the rules charged so far, and (without
# BackendKitMiddleware) a cycle of its own that merges them.
_HEADERS = "_backendkit_rate_headers"
_DETACHED_CYCLE = "_backendkit_throttle_cycle"

ThrottleKey = Callable[[Any], str]


def _user_id(request: Any) -> str | None:
    user = getattr(request, "user", None)
    if isinstance(user, Principal):
        return user.user_id
    pk = getattr(user, "pk", None)
    if pk is not None and getattr(user, "is_authenticated", False):
        return str(pk)  # session or other Django authentication
    return None


def _bucket(request: Any, key: KeyKind | ThrottleKey) -> str:
    if callable(key):
        return str(key(request))
    client = client_key(request, get_kit())
    return limit_key(key, client_ip=client, user_id=_user_id(request) if key == "user" else None)


def _rule(
    limits: str, name: str | None, policy: FailurePolicy | None, request: Any, view: Any
) -> Any:
    if name is None:
        match = django_request(request).resolver_match
        route = match.route if match is not None and match.route else type(view).__qualname__
        name = rule_name(request.method or "GET", route)
    return route_rule(limits, name, policy)


def _cycle_for(http_request: Any) -> RequestCycle:
    """The request's cycle, or (without ``BackendKitMiddleware``) one that only merges
    the rate-limit decisions of this request's throttles."""
    cycle = get_cycle(http_request) or getattr(http_request, _DETACHED_CYCLE, None)
    if cycle is None:
        cycle = RequestCycle(
            method=http_request.method or "GET", path=http_request.path, request_id=""
        )
        setattr(http_request, _DETACHED_CYCLE, cycle)
    return cycle


class RuleThrottle:
    """A DRF throttle charging one backendkit rule (built by :func:`throttle_for`).

    It implements DRF's throttle interface (``allow_request``, ``wait``) without subclassing
    ``BaseThrottle``, whose module needs configured Django settings at import time.
    """

    rule_limits: str = ""
    rule_key: KeyKind | ThrottleKey = "ip"
    rule_name: str | None = None
    rule_failure_policy: FailurePolicy | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        """Charge one hit; ``True`` when allowed, else raise 429 (``Throttled``)."""
        limiter = get_kit().limiter
        if limiter is None:
            raise ConfigurationError("throttle_for needs a limiter in the WebKit")
        rule = _rule(self.rule_limits, self.rule_name, self.rule_failure_policy, request, view)
        http_request = django_request(request)
        cycle = _cycle_for(http_request)
        try:
            headers = enforce_limit(limiter, rule, _bucket(request, self.rule_key), cycle)
        except RateLimited as exc:  # carries Retry-After and the rate-limit headers
            raise as_api_exception(exc) from exc
        # The most restrictive rule's headers so far, for RateLimitHeadersMixin.
        setattr(http_request, _HEADERS, headers)
        return True

    def wait(self) -> float | None:
        """Never consulted: a denial raises with its own ``Retry-After``."""
        return None


def throttle_for(
    limits: str,
    *,
    key: KeyKind | ThrottleKey = "ip",
    name: str | None = None,
    failure_policy: FailurePolicy | None = None,
) -> type[RuleThrottle]:
    """Build a DRF throttle class for one rule.

    Args:
        limits: a limits string such as ``"5/minute"`` or ``"10/second;1000/day"``.
        key: ``"ip"`` (client address behind the trusted proxies), ``"user"`` (the
            authenticated user; anonymous requests fall back to the address) or a function
            of the DRF request returning the key.
        name: the rule name; views sharing a name share counters (default: the method and
            URL pattern of each view).
        failure_policy: what this rule does while the limiter's storage is down,
            overriding the limiter's policy (``"local_fallback"`` or ``"fail_closed"``
            for rules that guard credentials); ``None`` keeps the limiter's.

    Raises:
        ValueError: ``limits`` does not parse (when the class is built).

    Example:
        ```python
        class LoginView(APIView):
            throttle_classes = [throttle_for("5/minute")]
        ```

    A denied request is a ``429 RATE_LIMITED`` with ``Retry-After`` and the rate-limit
    headers; DRF stops there, so later throttles are not charged for it.
    """
    route_rule(limits, name or "check", failure_policy)  # a bad limit fails at import time

    attrs = {
        "rule_limits": limits,
        "rule_key": staticmethod(key) if callable(key) else key,
        "rule_name": name,
        "rule_failure_policy": failure_policy,
    }
    return type(f"Throttle[{name or limits}]", (RuleThrottle,), attrs)


class RateLimitHeadersMixin:
    """Add the rate-limit headers of the view's throttles to its responses.

    Only needed without ``BackendKitMiddleware`` (which adds them itself); harmless with it.

    ```python
    class Search(RateLimitHeadersMixin, APIView):
        throttle_classes = [throttle_for("30/minute", key="user")]
    ```
    """

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        """DRF's ``finalize_response`` plus the stored rate-limit headers."""
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        for header, value in (getattr(django_request(request), _HEADERS, None) or {}).items():
            if not response.has_header(header):
                response[header] = value
        return response
