"""View decorators and class-based-view mixins: each step is a call of the core's
[`Pipeline`][backendkit.web.Pipeline], so a Django view answers as a Flask or FastAPI one.

They work on sync and async function views, on class-based views through Django's
``method_decorator`` or the mixins, and raise [`AppError`][backendkit.errors.AppError]s that
``BackendKitMiddleware`` renders.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpResponseNotModified  # type: ignore[import-untyped]
from pydantic import BaseModel

from backendkit.adapters.django._conf import current_kit
from backendkit.adapters.django._request import bind, django_request
from backendkit.errors import ConfigurationError
from backendkit.validation import path_validator
from backendkit.web import (
    NO_STORE,
    KeyFunc,
    KeyKind,
    RouteLimit,
    cache_control,
    check_content_length,
    conditional,
    parse_body,
    read_body,
)

if TYPE_CHECKING:
    from backendkit.ratelimit import FailurePolicy

__all__ = [
    "AuthRequiredMixin",
    "RateLimitMixin",
    "acharge_limit",
    "charge_limit",
    "http_cache",
    "json_body",
    "no_store",
    "path_params",
    "rate_limit",
    "read_json",
    "require_auth",
    "require_roles",
    "require_scopes",
]

V = TypeVar("V", bound=Callable[..., Any])
#: What runs before a view, with its first argument (the request) and its keyword arguments,
#: in a sync and an async flavour.
Steps = tuple[
    Callable[[Any, dict[str, Any]], None], Callable[[Any, dict[str, Any]], Awaitable[None]]
]


def _run(is_async: bool, steps: Steps, call: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    if not is_async:
        steps[0](args[0], kwargs)
        return call(*args, **kwargs)

    async def run() -> Any:
        await steps[1](args[0], kwargs)
        return await call(*args, **kwargs)

    return run()


def _wrap(view: V, steps: Steps, *, csrf_exempt: bool = False) -> V:
    is_async = iscoroutinefunction(view)

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return _run(is_async, steps, view, args, kwargs)

    if is_async:
        markcoroutinefunction(wrapped)
    if csrf_exempt:
        # Such a view protects itself: a token is no ambient credential (the cookie
        # transport runs its own CSRF check) and no cross-site form can send JSON.
        wrapped.csrf_exempt = True  # type: ignore[attr-defined]
    return cast(V, wrapped)


def _sync_only(step: Callable[[Any, dict[str, Any]], None]) -> Steps:
    async def astep(request: Any, kwargs: dict[str, Any]) -> None:
        step(request, kwargs)

    return step, astep


def _authorizing(roles: Iterable[str], scopes: Iterable[str]) -> Steps:
    roles, scopes = tuple(roles), tuple(scopes)

    def step(request: Any, _: dict[str, Any]) -> None:
        pipeline, cycle, facts = bind(request)
        request.principal = pipeline.authorize(cycle, facts, roles=roles, scopes=scopes)

    async def astep(request: Any, _: dict[str, Any]) -> None:
        pipeline, cycle, facts = bind(request)
        request.principal = await pipeline.aauthorize(cycle, facts, roles=roles, scopes=scopes)

    return step, astep


def _charging(limit: RouteLimit) -> Steps:
    def step(request: Any, _: dict[str, Any]) -> None:
        pipeline, cycle, facts = bind(request)
        pipeline.charge(cycle, facts, limit)

    async def astep(request: Any, _: dict[str, Any]) -> None:
        pipeline, cycle, facts = bind(request)
        await pipeline.acharge(cycle, facts, limit)

    return step, astep


def require_auth(
    view: V | None = None, *, roles: Iterable[str] = (), scopes: Iterable[str] = ()
) -> Any:
    """Require a valid access token ([`Pipeline.authorize`][backendkit.web.Pipeline.authorize]):
    401 without one, 403 without one of ``roles`` or all of ``scopes``.

    The caller is ``request.principal``
    ([`get_principal`][backendkit.adapters.django.get_principal]); the view is exempt from
    ``CsrfViewMiddleware``. Use it bare (``@require_auth``) or called.
    """
    steps = _authorizing(roles, scopes)

    def decorate(func: V) -> V:
        return _wrap(func, steps, csrf_exempt=True)

    return decorate(view) if view is not None else decorate


def require_roles(*roles: str) -> Callable[[V], V]:
    """Require authentication and at least one of ``roles`` (``@require_roles("admin")``)."""
    return cast(Callable[[V], V], require_auth(roles=roles))


def require_scopes(*scopes: str) -> Callable[[V], V]:
    """Require authentication and every one of ``scopes``."""
    return cast(Callable[[V], V], require_auth(scopes=scopes))


def rate_limit(
    limits: str,
    *,
    key: KeyKind | KeyFunc | None = None,
    bucket: str | None = None,
    name: str | None = None,
    failure_policy: FailurePolicy | None = None,
    cost: int = 1,
) -> Callable[[V], V]:
    """Charge a [`RouteLimit`][backendkit.web.RouteLimit] with these fields before the view
    (429 with ``Retry-After`` once spent); ``key="user"`` verifies the token first, else
    counts the session user, else the address.

    Raises:
        ConfigurationError, ValueError: at decoration, as ``RouteLimit`` does.
    """
    steps = _charging(RouteLimit(limits, key, bucket, name, failure_policy, cost))

    def decorate(view: V) -> V:
        return _wrap(view, steps)

    return decorate


def charge_limit(
    request: Any,
    limits: str,
    *,
    key: KeyKind | KeyFunc | None = None,
    bucket: str | None = None,
    name: str | None = None,
    failure_policy: FailurePolicy | None = None,
    cost: int = 1,
) -> None:
    """Charge a limit from inside a view, as [`rate_limit`][backendkit.adapters.django.rate_limit]
    does: e.g. a login limit on the bucket the view computes (``bucket=f"login:{digest}"``)."""
    _charging(RouteLimit(limits, key, bucket, name, failure_policy, cost))[0](request, {})


async def acharge_limit(
    request: Any,
    limits: str,
    *,
    key: KeyKind | KeyFunc | None = None,
    bucket: str | None = None,
    name: str | None = None,
    failure_policy: FailurePolicy | None = None,
    cost: int = 1,
) -> None:
    """Async twin of [`charge_limit`][backendkit.adapters.django.charge_limit]."""
    await _charging(RouteLimit(limits, key, bucket, name, failure_policy, cost))[1](request, {})


def read_json(request: Any, model: type[BaseModel] | None = None) -> Any:
    """The request's JSON body, read under ``MAX_BODY_BYTES`` and parsed by the core
    ([`parse_body`][backendkit.web.parse_body]: 415, 413, 400, ``VALIDATION_ERROR``)."""
    request, limit = django_request(request), current_kit().max_body_bytes
    length = check_content_length(request.META.get("CONTENT_LENGTH"), limit)
    body = read_body(request.read, limit=limit, content_length=length)
    content_type = request.META.get("CONTENT_TYPE")
    if model is None:
        return parse_body(body, content_type, max_bytes=limit)
    return parse_body(body, content_type, max_bytes=limit, model=model)


def json_body(model: type[BaseModel] | None = None, *, arg: str = "body") -> Callable[[V], V]:
    """Pass the JSON body ([`read_json`][backendkit.adapters.django.read_json], into
    ``model``) as the keyword ``arg``; the view is exempt from ``CsrfViewMiddleware``."""

    def step(request: Any, kwargs: dict[str, Any]) -> None:
        kwargs[arg] = read_json(request, model)

    def decorate(view: V) -> V:
        return _wrap(view, _sync_only(step), csrf_exempt=True)

    return decorate


def path_params(**types: Any) -> Callable[[V], V]:
    """Typed URL parameters: a malformed one is ``400 VALIDATION_ERROR`` naming it in
    camelCase (Django's converters would make it a 404). Capture them as plain ``<name>``.

    Example:
        ```python
        @path_params(note_id=int)  # path("api/notes/<note_id>", get_note)
        def get_note(request, note_id: int): ...
        ```

    Raises:
        ConfigurationError: a declared parameter is not in the URL pattern.
    """
    check = path_validator(types)

    def step(_: Any, kwargs: dict[str, Any]) -> None:
        try:
            kwargs.update(check(kwargs))
        except KeyError as exc:
            raise ConfigurationError(f"path_params: no {exc} in the URL pattern") from None

    def decorate(view: V) -> V:
        return _wrap(view, _sync_only(step))

    return decorate


def _after(view: V, after: Callable[[Any, Any], Any]) -> V:
    if iscoroutinefunction(view):

        async def async_view(*args: Any, **kwargs: Any) -> Any:
            return after(args[0], await view(*args, **kwargs))

        return cast(V, functools.wraps(view)(async_view))

    def sync_view(*args: Any, **kwargs: Any) -> Any:
        return after(args[0], view(*args, **kwargs))

    return cast(V, functools.wraps(view)(sync_view))


def no_store(view: V) -> V:
    """Make the response ``Cache-Control: no-store`` unless it has its own (login, refresh)."""

    def after(_: Any, response: Any) -> Any:
        response.setdefault("Cache-Control", NO_STORE)
        return response

    return _after(view, after)


def http_cache(*, etag: bool = True, **directives: Any) -> Callable[[V], V]:
    """``Cache-Control`` (the keywords of [`cache_control`][backendkit.web.cache_control])
    and, with ``etag``, an ``ETag`` of the body: a matching ``If-None-Match`` is a 304."""
    value = cache_control(**directives)

    def after(request: Any, response: Any) -> Any:
        if getattr(response, "streaming", True):
            return response
        if value and response.status_code < 400:
            response.setdefault("Cache-Control", value)
        if not etag:
            return response
        http = django_request(request)
        match = http.META.get("HTTP_IF_NONE_MATCH")
        status, headers, _ = conditional(
            http.method or "GET", match, response.status_code, response.content
        )
        if status == 304:
            not_modified = HttpResponseNotModified()
            for name in ("Cache-Control", "Vary"):
                if response.has_header(name):
                    not_modified[name] = response[name]
            response = not_modified
        for name, header in headers.items():
            response[name] = header
        return response

    def decorate(view: V) -> V:
        return _after(view, after)

    return decorate


def _is_async(view: object) -> bool:
    return bool(getattr(type(view), "view_is_async", False))


class AuthRequiredMixin:
    """What ``require_auth`` does, before ``dispatch`` (put it left of ``View``).

    Attributes:
        required_roles: the caller needs one of these (empty: any caller).
        required_scopes: the caller needs every one of these.
    """

    required_roles: ClassVar[Sequence[str]] = ()
    required_scopes: ClassVar[Sequence[str]] = ()

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Authenticate and authorize, then dispatch as usual."""
        steps = _authorizing(self.required_roles, self.required_scopes)
        return _run(_is_async(self), steps, super().dispatch, (request, *args), kwargs)  # type: ignore[misc]


class RateLimitMixin:
    """What ``rate_limit`` does, before ``dispatch`` (right of ``AuthRequiredMixin``).

    Attributes:
        rate_limit: a [`RouteLimit`][backendkit.web.RouteLimit], or a limits string counted
            per client address (checked when the class is defined); ``None``: no limit.
    """

    rate_limit: ClassVar[RouteLimit | str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if isinstance(cls.rate_limit, str):
            cls.rate_limit = RouteLimit(cls.rate_limit)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Charge the limit, then dispatch as usual."""
        limit, dispatch = self.rate_limit, super().dispatch  # type: ignore[misc]
        if not isinstance(limit, RouteLimit):
            return dispatch(request, *args, **kwargs)
        return _run(_is_async(self), _charging(limit), dispatch, (request, *args), kwargs)
