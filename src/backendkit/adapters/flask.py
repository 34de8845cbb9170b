"""Flask adapter: a standard extension, ``BackendKit(app)`` or ``kit.init_app(app)``.

See *Integrations → Flask* in the docs for a complete, tested example.

``init_app`` registers error handlers on the *app* (blueprint handlers never see routing
404/405), request hooks for the request id, access log and security headers, and a JSON
provider that renders with pydantic-core and parses with the core's safe parser. State
lives in ``app.extensions["backendkit"]``; configuration comes from the
[`WebKit`][backendkit.web.WebKit] passed in, else from ``BACKENDKIT_*`` keys in
``app.config`` (over the environment). Views use the decorators below; all of them are
sync and use the sync twins (limiter, token verification).
"""

from __future__ import annotations

from backendkit._extras import require

require("flask", "flask")

import atexit
import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from flask import Flask, Request, Response, current_app, g, request
from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from backendkit.errors import ConfigurationError, Unauthenticated
from backendkit.pagination import CursorPage, CursorParams, Page, PageParams
from backendkit.responses import RenderedResponse, paginated, render_json
from backendkit.settings import ENV_PREFIX, Settings
from backendkit.validation import DEFAULT_MAX_BYTES, parse_json, path_validator
from backendkit.web import (
    JSON_CONTENT_TYPE,
    KeyKind,
    Principal,
    RequestCycle,
    WebKit,
    authenticate,
    check_content_length,
    check_health,
    check_roles,
    check_scopes,
    conditional,
    credentials,
    cursor_params,
    enforce_limit,
    error_for_status,
    health_response,
    limit_key,
    page_params,
    parse_body,
    read_body,
    render_error,
    route_rule,
    rule_name,
)
from backendkit.web import client_key as _core_client_key

if TYPE_CHECKING:
    from backendkit.ratelimit import FailurePolicy

__all__ = [
    "BackendKit",
    "add_health_route",
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
M = TypeVar("M", bound=BaseModel)

_EXTENSION = "backendkit"
_CYCLE_KEY = "backendkit.cycle"  # WSGI environ key of the request's RequestCycle
_STREAMING_KEY = "backendkit.streaming"  # set when the cycle ends with the streamed body
_MISSING = object()
_HEALTH_ENDPOINT = "backendkit_health"  # never charged the app-wide default limit


@dataclass(frozen=True, slots=True)
class _State:
    kit: WebKit


def settings_from_config(config: Mapping[str, Any]) -> Settings:
    """``Settings`` from ``BACKENDKIT_*`` keys of a Flask config, over the environment."""
    environ: dict[str, Any] = dict(os.environ)
    environ.update({k: v for k, v in config.items() if k.startswith(ENV_PREFIX)})
    return Settings.from_env(environ)


class BackendKit:
    """The Flask extension.

    Args:
        app: the app to initialise now (or call
            [`init_app`][backendkit.adapters.flask.BackendKit.init_app] later).
        kit: the [`WebKit`][backendkit.web.WebKit] to use for every app; when omitted, each
            app gets one built from its ``BACKENDKIT_*`` config keys.
    """

    def __init__(self, app: Flask | None = None, *, kit: WebKit | None = None) -> None:
        self._kit = kit
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, *, kit: WebKit | None = None) -> None:
        """Register hooks, error handlers and the JSON provider on ``app``.

        Args:
            app: the Flask app.
            kit: overrides the extension's kit for this app.

        Raises:
            ConfigurationError: the app already has backendkit, its config is invalid, or
                the kit cannot do what its settings ask (a default limit without a
                ``limiter``: see [`WebKit.check`][backendkit.web.WebKit.check]).
        """
        if _EXTENSION in app.extensions:
            raise ConfigurationError("backendkit is already initialised on this app")
        chosen = kit or self._kit or WebKit.from_settings(settings_from_config(app.config))
        chosen.check("sync")  # now, not as a 500 on every request
        app.extensions[_EXTENSION] = _State(kit=chosen)
        app.register_error_handler(HTTPException, _handle_http_exception)
        app.register_error_handler(Exception, _handle_exception)
        # The hooks close over this app's kit: no app-context lookup on the hot path.
        app.before_request(functools.partial(_before_request, chosen))
        app.after_request(_after_request)
        app.teardown_request(_teardown_request)
        if type(app.json) is DefaultJSONProvider:
            provider = _JSONProvider(app)
            provider.max_bytes = chosen.max_body_bytes
            app.json = provider
        # WSGI has no shutdown hook; close pools when the worker process exits.
        atexit.register(chosen.close)


class _JSONProvider(DefaultJSONProvider):
    """``jsonify``/dict returns rendered by pydantic-core; ``get_json`` parsed safely."""

    #: The body cap ``loads`` enforces (the kit's, set by ``init_app``).
    max_bytes: int = DEFAULT_MAX_BYTES
    #: Already with its charset, so responses need no rewrite.
    mimetype = JSON_CONTENT_TYPE

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return render_json(obj).decode("utf-8")

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # get_json() goes through the core parser too: deep nesting is a 400, not a 500.
        return parse_json(s, max_bytes=self.max_bytes)


# --------------------------------------------------------------------------- state access


def current_kit() -> WebKit:
    """The [`WebKit`][backendkit.web.WebKit] of the current app.

    Raises:
        ConfigurationError: the app was not initialised with ``BackendKit``.
    """
    state = current_app.extensions.get(_EXTENSION)
    if not isinstance(state, _State):
        raise ConfigurationError("initialise the app with BackendKit(app) first")
    return state.kit


def current_cycle() -> RequestCycle:
    """The current request's [`RequestCycle`][backendkit.web.RequestCycle]."""
    cycle = request.environ.get(_CYCLE_KEY)
    if cycle is None:  # a request hook of another extension ran before ours
        cycle = _start_cycle(current_kit(), request._get_current_object())  # type: ignore[attr-defined]
    return cast(RequestCycle, cycle)


def _start_cycle(kit: WebKit, req: Request) -> RequestCycle:
    environ = req.environ
    cycle = RequestCycle.start(
        method=req.method,
        path=req.path,
        request_id_header=environ.get("HTTP_X_REQUEST_ID"),
        clock=kit.clock,
    )
    environ[_CYCLE_KEY] = cycle
    return cycle


# --------------------------------------------------------------------------- hooks


def _client_key(kit: WebKit) -> str:
    forwarded = request.headers.getlist(kit.ip_resolver.header_name)
    return _core_client_key(kit, peer=request.remote_addr, forwarded=",".join(forwarded) or None)


def client_key() -> str:
    """The client address of the current request, as rate-limit keys use it.

    The peer address, or behind ``settings.trusted_proxies`` the client named by the
    forwarding header (see [`client_key`][backendkit.web.client_key]); IPv6 addresses are
    grouped by /64 and a request without a usable address gives ``"unknown"``. Use it to
    key a second limit, e.g. a login limit per ``(address, email)``.
    """
    return _client_key(current_kit())


def _before_request(kit: WebKit) -> None:
    # One proxy lookup; the hooks run on every request.
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    cycle = _start_cycle(kit, req)
    declared = req.environ.get("CONTENT_LENGTH")
    # werkzeug then enforces the cap in get_data()/form parsing too (413 while reading).
    # Without a length (a chunked body) its stream refuses the read that would find the
    # end once exactly the cap has arrived, so it gets one byte more and the core's
    # read_body (a BodyBudget) refuses the first byte past the cap itself.
    req.max_content_length = kit.max_body_bytes + (0 if declared else 1)
    check_content_length(declared, kit.max_body_bytes)
    # Only the API is charged (kit.api_prefixes); the health route never is.
    if kit.default_rate_limit and kit.is_api_path(req.path) and req.endpoint != _HEALTH_ENDPOINT:
        limiter = _limiter(kit)
        rule = route_rule(kit.default_rate_limit, "default")
        bucket = limit_key("ip", client_ip=_client_key(kit), user_id=None)
        enforce_limit(limiter, rule, bucket, cycle)


def _after_request(response: Response) -> Response:
    cycle = current_cycle()
    status = cycle.status = response.status_code
    # Flask returns routing redirects as werkzeug renders them (no error handler runs).
    if 300 <= status < 400 and isinstance(request.routing_exception, RequestRedirect):
        response = _bare_redirect(response)
    headers = response.headers
    if headers.get("Content-Type") == "application/json":
        headers["Content-Type"] = JSON_CONTENT_TYPE
    present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - werkzeug Headers
    for name, value in cycle.response_headers(present).items():
        if name.lower() in present:
            headers[name] = value  # X-Request-ID replaces whatever the view set
        else:
            headers.add(name, value)  # cheaper than item assignment's remove-then-add
    if response.is_streamed:
        # Flask tears the request down before the server iterates a streamed body: the
        # cycle (access line, log context) ends when the body is closed instead, as in
        # the other adapters, so what the body logs still carries the request id.
        request.environ[_STREAMING_KEY] = True
        response.call_on_close(cycle.finish)
    return response


def _teardown_request(exc: BaseException | None) -> None:
    environ = request.environ
    cycle = environ.get(_CYCLE_KEY)
    if cycle is not None and not environ.get(_STREAMING_KEY):
        cycle.finish()


# --------------------------------------------------------------------------- errors


def _to_response(rendered: RenderedResponse) -> Response:
    return Response(
        rendered.body,
        status=rendered.status,
        headers=rendered.headers,
        content_type=rendered.media_type,
    )


def _handle_exception(exc: Exception) -> Response:
    cycle, kit = current_cycle(), current_kit()
    rendered = render_error(
        exc,
        request_id=cycle.request_id,
        problem=kit.problem,
        user_id=cycle.user_id,
        retry_after=kit.settings.retry_after,
    )
    return _to_response(rendered)


def _handle_http_exception(exc: HTTPException) -> Response:
    original = getattr(exc, "original_exception", None)
    if exc.code == 500 and original is not None:
        return _handle_exception(original)  # logs the real traceback
    if exc.code is None or exc.code < 400:  # not an error (a redirect raised by the app)
        return _bare_redirect(cast(Response, exc.get_response()))
    description = exc.description if exc.description != _stock_description(exc) else None
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return _handle_exception(error_for_status(exc.code, message=description, headers=headers))


def _bare_redirect(response: Response) -> Response:
    """A routing redirect (``strict_slashes``/``merge_slashes``, 308) without werkzeug's HTML.

    It is not an error: the status and ``Location`` are kept, the body is dropped (an API
    client follows the header; an HTML page would be the only non-JSON body of the app).
    """
    response.set_data(b"")
    response.headers.remove("Content-Type")
    return response


def _stock_description(exc: HTTPException) -> str | None:
    # werkzeug's own wording (some subclasses make it a property): replaced by the
    # catalogue's message; a description the app passed in is kept.
    for cls in type(exc).__mro__:
        value = cls.__dict__.get("description")
        if isinstance(value, str):
            return value
    return None


# --------------------------------------------------------------------------- auth


def current_user() -> Principal | None:
    """The authenticated principal of this request, or ``None`` when it has no credentials.

    Verifies the token on first use (Bearer header, or the cookie with its CSRF check when
    cookie transport is configured) and remembers the result for the request.

    Raises:
        Unauthenticated: a malformed ``Authorization`` header.
        InvalidToken: credentials were sent but do not verify.
    """
    cached = g.get("_backendkit_user", _MISSING)
    if cached is not _MISSING:
        return cast("Principal | None", cached)
    kit = current_kit()
    token = credentials(
        kit,
        method=request.method,
        authorization=request.headers.get("Authorization"),
        cookies=request.cookies,
        headers=cast("Mapping[str, str]", request.headers),
    )
    principal = None if token is None else authenticate(kit, token)
    if principal is not None:
        current_cycle().set_user(principal.user_id)
    g._backendkit_user = principal
    return principal


def _require_user() -> Principal:
    principal = current_user()
    if principal is None:
        raise Unauthenticated()
    return principal


def require_auth(view: F) -> F:
    """Decorator: the view needs an authenticated user (401 otherwise).

    The principal is available from [`current_user()`][backendkit.adapters.flask.current_user].
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _require_user()
        return view(*args, **kwargs)

    return cast(F, wrapper)


def require_roles(*roles: str) -> Callable[[F], F]:
    """Decorator: the user needs one of ``roles`` (401 without credentials, 403 without a role)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check_roles(_require_user(), roles)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def require_scopes(*scopes: str) -> Callable[[F], F]:
    """Decorator: the user needs every one of ``scopes`` (403 otherwise)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check_scopes(_require_user(), scopes)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def no_store(view: F) -> F:
    """Decorator: the response gets ``Cache-Control: no-store`` (login, refresh routes)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_cycle().mark_no_store()
        return view(*args, **kwargs)

    return cast(F, wrapper)


# --------------------------------------------------------------------------- rate limits


def _limiter(kit: WebKit) -> Any:
    if kit.limiter is None:
        raise ConfigurationError("rate limits need a RateLimiter in the WebKit (limiter=...)")
    return kit.limiter


def rate_limit(
    limits: str,
    *,
    key: KeyKind | Callable[[], str] = "ip",
    name: str | None = None,
    failure_policy: FailurePolicy | None = None,
) -> Callable[[F], F]:
    """Decorator charging a per-route rate limit; adds the rate-limit headers.

    Args:
        limits: a limits string such as ``"5/minute"``.
        key: ``"ip"`` (client address behind trusted proxies), ``"user"`` (the
            authenticated user, verified before charging; anonymous requests fall back to
            the address), or a function returning the key (it may read ``flask.request``).
        name: the rule name (default: method and URL rule, identical in every worker).
        failure_policy: what this rule does while the limiter's storage is down,
            overriding the limiter's policy (``"local_fallback"`` or ``"fail_closed"``
            for rules that guard credentials); ``None`` keeps the limiter's.

    Raises:
        RateLimited: the limit is exhausted (429 with ``Retry-After``).
    """
    route_rule(limits, name or "check", failure_policy)  # a bad limit fails at import time

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kit = current_kit()
            pattern = request.url_rule.rule if request.url_rule is not None else request.path
            rule = route_rule(limits, name or rule_name(request.method, pattern), failure_policy)
            if callable(key):
                bucket = str(key())
            else:
                user = current_user() if key == "user" else None
                bucket = limit_key(
                    key,
                    client_ip=_client_key(kit),
                    user_id=user.user_id if user is not None else None,
                )
            enforce_limit(_limiter(kit), rule, bucket, current_cycle())
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def charge_limit(
    limits: str, *, key: str, name: str, failure_policy: FailurePolicy | None = None
) -> None:
    """Charge one hit of a rule on a key the view computes, from inside the view.

    For a limit whose key only the view knows, e.g. login attempts per (client address,
    submitted email) next to the per-address ``@rate_limit``. The rate-limit headers go on
    the response, as with the decorator.

    Args:
        limits: a limits string such as ``"5/15 minutes"``.
        key: the bucket, e.g. ``f"login:{client_key()}:{email_digest}"`` (keep personal
            data out of it: it is stored in the limiter's backend).
        name: the rule name (the same in every worker).
        failure_policy: what this rule does while the limiter's storage is down,
            overriding the limiter's policy (``"local_fallback"`` or ``"fail_closed"``
            for rules that guard credentials); ``None`` keeps the limiter's.

    Raises:
        RateLimited: the limit is exhausted (429 with ``Retry-After`` and the headers).
        ConfigurationError: the kit has no limiter.
        ValueError: ``limits`` does not parse.
    """
    kit = current_kit()
    enforce_limit(_limiter(kit), route_rule(limits, name, failure_policy), key, current_cycle())


# --------------------------------------------------------------------------- bodies & pages


def json_body(model: type[M], *, arg: str = "body") -> Callable[[F], F]:
    """Decorator reading the JSON body through the core into ``model``, passed as ``arg``.

    The body is read from the stream under the byte cap (413), its content type checked
    (415), parsed safely (400 ``BAD_REQUEST`` for malformed or too deep JSON) and
    validated (400 ``VALIDATION_ERROR`` with field details).
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kit = current_kit()
            raw = read_body(
                request.stream.read,
                limit=kit.max_body_bytes,
                content_length=request.content_length,
            )
            kwargs[arg] = parse_body(
                raw, request.content_type, max_bytes=kit.max_body_bytes, model=model
            )
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def path_params(**types: Any) -> Callable[[F], F]:
    """Decorator validating the view's path parameters: a malformed one is a 400, not a 404.

    Declare the parameters as plain ``<name>`` segments of the URL rule and their types
    here; the view receives the converted values. A value that does not validate is
    ``400 VALIDATION_ERROR`` naming the parameter in camelCase (``noteId``), exactly as
    FastAPI answers for a typed path parameter. (A werkzeug converter such as ``<int:...>``
    cannot do this: a value it rejects makes the URL not match, a 404, and a converter
    never learns the parameter's name.)

    Example:
        ```python
        @app.get("/notes/<note_id>")
        @path_params(note_id=int)
        def get_note(note_id: int): ...
        ```

    Args:
        types: parameter name -> type (anything pydantic validates: ``int``, ``UUID``,
            ``Annotated[int, Field(ge=1)]``...).

    Raises:
        ValidationFailed: a parameter does not validate (400, field in camelCase).
        ConfigurationError: a declared parameter is not in the URL rule.
    """
    check = path_validator(types)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                kwargs.update(check(kwargs))
            except KeyError as exc:
                raise ConfigurationError(f"path_params: no {exc} in the URL rule") from None
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def paginate(
    view: F | None = None,
    *,
    kind: Literal["page", "cursor"] = "page",
    model: type[PageParams] | type[CursorParams] | None = None,
    arg: str = "params",
) -> Any:
    """Decorator passing validated page (or cursor) parameters to the view as ``arg``.

    When the view returns a [`Page`][backendkit.pagination.Page] or
    [`CursorPage`][backendkit.pagination.CursorPage] it is rendered as the page envelope.
    Use bare (``@paginate``) or with options (``@paginate(kind="cursor")``).

    Raises:
        ValidationFailed: bad ``page``/``perPage``/``cursor`` values (400).
    """

    def decorate(inner: F) -> F:
        @functools.wraps(inner)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if kind == "cursor":
                kwargs[arg] = cursor_params(request.args, model=model or CursorParams)  # type: ignore[arg-type]
            else:
                kwargs[arg] = page_params(request.args, model=model or PageParams)  # type: ignore[arg-type]
            result = inner(*args, **kwargs)
            if isinstance(result, Page | CursorPage):
                return paginated(result)
            return result

        return cast(F, wrapper)

    return decorate(view) if view is not None else decorate


# --------------------------------------------------------------------------- caching & health


def conditional_json(
    content: Any,
    *,
    status: int = 200,
    cache_control: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON response with a strong ``ETag``; ``304`` (no body) when ``If-None-Match`` matches."""
    code, extra, body = conditional(
        request.method, request.headers.get("If-None-Match"), status, render_json(content)
    )
    all_headers = dict(headers or {})
    all_headers.update(extra)
    if cache_control is not None:
        all_headers["Cache-Control"] = cache_control
    if code == 304:
        response = Response(status=304, headers=all_headers)
        response.headers.remove("Content-Type")
        return response
    return Response(body, status=code, headers=all_headers, content_type=JSON_CONTENT_TYPE)


def add_health_route(
    app: Flask,
    path: str = "/health",
    *,
    database: Any = None,
    redis: Any = None,
    checks: Mapping[str, Any] | None = None,
    timeout: float = 1.0,
) -> None:
    """Mount a health check: ``200`` envelope when every dependency answers, else ``503``.

    The app-wide default rate limit never applies to it, even under an API prefix.
    """

    def health() -> Response:
        report = check_health(database=database, redis=redis, checks=checks, timeout=timeout)
        return _to_response(
            health_response(
                report,
                request_id=current_cycle().request_id,
                problem=current_kit().problem,
                retry_after=current_kit().settings.retry_after,
            )
        )

    app.add_url_rule(path, endpoint=_HEALTH_ENDPOINT, view_func=health, methods=["GET"])
