"""Flask adapter: the ``BackendKit`` extension, ``BackendKit(app)`` or ``init_app(app)``.

The app's [`Pipeline`][backendkit.web.Pipeline] makes every decision; this module only
translates for it (sync). See *Integrations → Flask* in the docs.
"""

from __future__ import annotations

from backendkit._extras import require

require("flask", "flask")

import atexit
import functools
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from flask import Flask, Request, Response, current_app, request
from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel
from typing_extensions import Unpack
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from backendkit import listing, web
from backendkit.adapters._flask_wsgi import REQUEST_KEY, CycleMiddleware, Facts
from backendkit.errors import ConfigurationError
from backendkit.responses import RenderedResponse, paginated, render_json
from backendkit.settings import ENV_PREFIX, Settings
from backendkit.validation import DEFAULT_MAX_BYTES, parse_json, path_validator

if TYPE_CHECKING:
    from backendkit.metrics import Metrics

__all__ = [
    "BackendKit",
    "add_health_route",
    "add_metrics_route",
    "charge_limit",
    "client_key",
    "conditional_json",
    "current_cycle",
    "current_kit",
    "current_user",
    "json_body",
    "no_store",
    "paginate",
    "path_params",
    "rate_limit",
    "require_auth",
    "require_roles",
    "require_scopes",
    "settings_from_config",
]

F = TypeVar("F", bound=Callable[..., Any])
_Step = Callable[[Facts, dict[str, Any]], None]  # runs before a view; may add arguments

_EXTENSION = "backendkit"


def settings_from_config(config: Mapping[str, Any]) -> Settings:
    """``Settings`` from ``BACKENDKIT_*`` keys of a Flask config, over the environment."""
    prefixed = {key: value for key, value in config.items() if key.startswith(ENV_PREFIX)}
    return Settings.from_env({**os.environ, **prefixed})


class BackendKit:
    """The Flask extension for ``app`` (now, or by ``init_app``) with ``kit`` (a
    [`WebKit`][backendkit.web.WebKit]), else one built by ``settings_from_config``."""

    def __init__(self, app: Flask | None = None, *, kit: web.WebKit | None = None) -> None:
        self._kit = kit
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, *, kit: web.WebKit | None = None) -> None:
        """Build ``app``'s pipeline (``kit`` overrides the extension's) and register its hooks.

        Raises:
            ConfigurationError: the app already has backendkit, its config is invalid, or
                [`WebKit.check`][backendkit.web.WebKit.check] refuses the kit.
        """
        if _EXTENSION in app.extensions:
            raise ConfigurationError("backendkit is already initialised on this app")
        chosen = kit or self._kit or web.WebKit.from_settings(settings_from_config(app.config))
        chosen.check("sync")  # now, not as a 500 on every request
        pipeline = app.extensions[_EXTENSION] = web.Pipeline(chosen)
        # Also werkzeug's HTTPExceptions: Flask looks a handler up along the class's MRO.
        app.register_error_handler(Exception, _handle_exception)

        # The middleware owns each request's cycle; the hooks add what only Flask knows.
        # Plain functions, not partials: Flask checks every hook for a coroutine function
        # on every request, and unwrapping a partial doubles that check's cost.
        setattr(app, "wsgi_app", CycleMiddleware(app.wsgi_app, pipeline))  # noqa: B010
        app.before_request(_before_request)
        app.after_request(_after_request)
        if type(app.json) is DefaultJSONProvider:
            provider = _JSONProvider(app)
            provider.max_bytes = chosen.max_body_bytes
            app.json = provider
        atexit.register(chosen.close)  # WSGI has no shutdown hook: close pools at exit


class _JSONProvider(DefaultJSONProvider):
    """``jsonify``/dict returns rendered by pydantic-core; ``get_json`` parsed safely."""

    max_bytes: int = DEFAULT_MAX_BYTES  # the kit's body cap, set by init_app
    mimetype = web.JSON_CONTENT_TYPE  # already with its charset: responses need no rewrite

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return render_json(obj).decode("utf-8")

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # get_json() goes through the core parser too: deep nesting is a 400, not a 500.
        return parse_json(s, max_bytes=self.max_bytes)


def _pipeline(app: Flask) -> web.Pipeline:
    pipeline = app.extensions.get(_EXTENSION)
    if not isinstance(pipeline, web.Pipeline):
        raise ConfigurationError("initialise the app with BackendKit(app) first")
    return pipeline


def _current() -> Facts:
    native: Request = request._get_current_object()  # type: ignore[attr-defined]
    current: Facts | None = native.environ.get(REQUEST_KEY)
    if current is None:  # not served through app.wsgi_app (a test_request_context)
        current = Facts(_pipeline(current_app), native.environ, served=False)
    current.attach(native)
    return current


def current_kit() -> web.WebKit:
    """The current app's [`WebKit`][backendkit.web.WebKit] (``ConfigurationError`` without)."""
    return _pipeline(current_app).kit


def current_cycle() -> web.RequestCycle:
    """The current request's [`RequestCycle`][backendkit.web.RequestCycle]."""
    return _current().cycle


def client_key() -> str:
    """The address rate-limit keys use ([`client_key`][backendkit.web.client_key]), e.g. in
    a literal ``bucket=`` for a login limit per ``(address, email)``."""
    current = _current()
    return current.pipeline.client_key(current)


def _before_request() -> None:
    current = _current()
    native, pipeline = current.native, current.pipeline
    declared = native.environ.get("CONTENT_LENGTH")
    # werkzeug then enforces the cap in get_data()/form parsing too (413 while reading).
    # Without a length (chunked) its stream refuses the read that would find the end once
    # exactly the cap has arrived: one byte more, and read_body refuses the byte past it.
    native.max_content_length = pipeline.max_body_bytes + (0 if declared else 1)
    if not pipeline.admits_without_checks(current.path, declared):
        pipeline.admit(current.cycle, current, declared)


def _after_request(response: Response) -> Response:
    # The headers are the middleware's (as the response starts): here only what needs
    # Flask's response object.
    # Flask returns routing redirects as werkzeug renders them (no error handler runs).
    status = response.status_code
    if 300 <= status < 400 and isinstance(request.routing_exception, RequestRedirect):
        response = _bare_redirect(response)
    if response.is_streamed:
        current = _current()
        if current.served:
            # Flask tears the request down before the server iterates a streamed body: the
            # cycle ends when the body is closed, so what the body logs keeps the request id.
            current.streamed = True
            response.call_on_close(current.finish)
    return response


def _to_response(rendered: RenderedResponse) -> Response:
    return Response(rendered.body, rendered.status, rendered.headers, rendered.media_type)


def _handle_exception(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        code, original = exc.code, getattr(exc, "original_exception", None)
        if code is None or code < 400:  # not an error (a redirect raised by the app)
            return _bare_redirect(cast(Response, exc.get_response()))
        if code == 500 and original is not None:
            exc = original  # logs the real traceback
        else:  # werkzeug's own wording is a class attribute (or a property)
            found = (vars(cls).get("description") for cls in type(exc).__mro__)
            stock = next((value for value in found if isinstance(value, str)), None)
            exc = web.framework_error(code, exc.description, stock=stock, headers=exc.get_headers())
    current = _current()
    return _to_response(current.pipeline.render(current.cycle, exc))


def _bare_redirect(response: Response) -> Response:
    # A routing redirect (strict_slashes/merge_slashes, 308) is not an error: status and
    # Location are kept, werkzeug's HTML body goes (it would be the app's only non-JSON).
    response.set_data(b"")
    response.headers.remove("Content-Type")
    return response


def _wrap(step: _Step, after: Callable[[Any], Any] | None = None) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            step(_current(), kwargs)
            result = view(*args, **kwargs)
            return result if after is None else after(result)

        return cast(F, wrapper)

    return decorate


def current_user() -> web.Principal | None:
    """The caller, else ``None`` ([`Pipeline.principal`][backendkit.web.Pipeline.principal])."""
    current = _current()
    return current.pipeline.principal(current.cycle, current)


def _authorizing(roles: tuple[str, ...], scopes: tuple[str, ...]) -> Callable[[F], F]:
    def step(current: Facts, kwargs: dict[str, Any]) -> None:
        current.pipeline.authorize(current.cycle, current, roles=roles, scopes=scopes)

    return _wrap(step)


def require_auth(view: F) -> F:
    """Decorator: the view needs an authenticated caller (401 otherwise), ``current_user()``."""
    return _authorizing((), ())(view)


def require_roles(*roles: str) -> Callable[[F], F]:
    """Decorator: the caller needs one of ``roles`` (401 without credentials, else 403)."""
    return _authorizing(roles, ())


def require_scopes(*scopes: str) -> Callable[[F], F]:
    """Decorator: the caller needs every one of ``scopes`` (401 without credentials, else 403)."""
    return _authorizing((), scopes)


def no_store(view: F) -> F:
    """Decorator: the response gets ``Cache-Control: no-store`` (login, refresh routes)."""
    return _wrap(lambda current, kwargs: current.cycle.mark_no_store())(view)


def rate_limit(limits: str, **options: Unpack[web.LimitOptions]) -> Callable[[F], F]:
    """Decorator charging a [`RouteLimit`][backendkit.web.RouteLimit] of ``options`` (``key``
    ``"ip"``, ``"user"`` or a function of the ``flask.Request``, or ``bucket``) before the
    view; a bad limit or an ambiguous ``key`` is a ``ConfigurationError`` here."""
    limit = web.RouteLimit(limits, **options)
    return _wrap(lambda current, kwargs: current.pipeline.charge(current.cycle, current, limit))


def charge_limit(limits: str, **options: Unpack[web.LimitOptions]) -> None:
    """Charge a [`RouteLimit`][backendkit.web.RouteLimit] from inside the view, with the
    options of [`rate_limit`][backendkit.adapters.flask.rate_limit]; what only the view
    knows goes in ``bucket=`` (e.g. a login limit per ``(address, email)``)."""
    current = _current()
    current.pipeline.charge(current.cycle, current, web.RouteLimit(limits, **options))


def json_body(model: type[BaseModel], *, arg: str = "body") -> Callable[[F], F]:
    """Decorator passing the JSON body as ``arg``, validated into ``model`` by the core
    (413 over the cap, 415, 400 ``BAD_REQUEST`` or ``VALIDATION_ERROR``)."""

    def step(current: Facts, kwargs: dict[str, Any]) -> None:
        native, cap = current.native, current.pipeline.kit.max_body_bytes
        raw = web.read_body(native.stream.read, limit=cap, content_length=native.content_length)
        kwargs[arg] = web.parse_body(raw, native.content_type, max_bytes=cap, model=model)

    return _wrap(step)


def path_params(**types: Any) -> Callable[[F], F]:
    """Decorator converting plain ``<name>`` URL segments to ``types`` (``note_id=int``): a
    malformed value is ``400 VALIDATION_ERROR`` on the camelCase field, as in FastAPI (a
    werkzeug converter makes it a 404); a name not in the URL rule a ``ConfigurationError``."""
    check = path_validator(types)

    def step(current: Facts, kwargs: dict[str, Any]) -> None:
        kwargs.update(check(kwargs))

    return _wrap(step)


def paginate(
    view: F | None = None,
    *,
    kind: Literal["page", "cursor"] = "page",
    model: type[listing.PageParams] | type[listing.CursorParams] | None = None,
    arg: str = "params",
) -> Any:
    """Decorator (bare or with options) passing validated page or cursor parameters as
    ``arg`` (400 when bad); a returned [`Page`][backendkit.listing.Page] or
    [`CursorPage`][backendkit.listing.CursorPage] becomes the page envelope."""
    cursor = kind == "cursor"
    read: Callable[..., Any] = listing.cursor_params if cursor else listing.page_params
    chosen = model or (listing.CursorParams if cursor else listing.PageParams)

    def step(current: Facts, kwargs: dict[str, Any]) -> None:
        kwargs[arg] = read(current.native.args, model=chosen)

    def render(result: Any) -> Any:
        return (
            paginated(result) if isinstance(result, listing.Page | listing.CursorPage) else result
        )

    decorate: Callable[[F], F] = _wrap(step, render)
    return decorate(view) if view is not None else decorate


def conditional_json(
    content: Any,
    *,
    status: int = 200,
    cache_control: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``content`` as JSON with a strong ``ETag``, a bodiless ``304`` when ``If-None-Match``
    matches ([`conditional_response`][backendkit.web.conditional_response])."""
    match = request.headers.get("If-None-Match")
    rendered = web.conditional_response(
        request.method, match, content, status=status, cache_control=cache_control, headers=headers
    )
    return _to_response(rendered)  # werkzeug drops a 304's entity headers (Content-Type)


def add_health_route(app: Flask, path: str = "/health", **probes: Any) -> None:
    """Mount a [`HealthRoute`][backendkit.web.HealthRoute] of ``probes`` (``database=``,
    ``redis=``, ``checks=``, ``timeout=``): 200, else 503. ``BackendKit(app)`` first."""
    route = web.HealthRoute(_pipeline(app), path, **probes)

    def health() -> Response:
        return _to_response(route.answer(current_cycle()))

    app.add_url_rule(path, endpoint="backendkit_health", view_func=health, methods=["GET"])


def add_metrics_route(
    app: Flask, path: str = "/metrics", *, metrics: Metrics | None = None, token: str | None = None
) -> None:
    """Serve [`MetricsEndpoint.for_kit`][backendkit.metrics.MetricsEndpoint.for_kit] at
    ``path`` (``metrics`` extra): never charged a limit nor counted itself."""
    from backendkit.metrics import MetricsEndpoint  # the extra, only when asked for

    pipeline = _pipeline(app)
    pipeline.exempt(path)
    endpoint = MetricsEndpoint.for_kit(pipeline.kit, metrics, token=token)

    def metrics_view() -> Response:
        current_cycle().unobserve()  # a scrape is not traffic
        headers = request.headers
        return _to_response(endpoint.answer(headers.get("Authorization"), headers.get("Accept")))

    app.add_url_rule(path, endpoint="backendkit_metrics", view_func=metrics_view, methods=["GET"])
