"""What the adapter keeps on a Django request, and the response it builds from the core."""

from __future__ import annotations

import io
from typing import Any

from backendkit._extras import require

require("django", "django")

from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.utils.functional import empty  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import get_kit
from backendkit.errors import Unauthenticated
from backendkit.responses import RenderedResponse
from backendkit.web import (
    JSON_CONTENT_TYPE,
    Principal,
    RequestCycle,
    WebKit,
    error_for_status,
    read_body,
    render_error,
)
from backendkit.web import client_key as _core_client_key

__all__ = ["client_key", "get_principal", "get_request_id"]

# Attribute names on the HttpRequest; private so they never clash with other apps'.
_CYCLE = "_backendkit_cycle"
_PRINCIPAL = "principal"


def django_request(request: Any) -> HttpRequest:
    """The HttpRequest behind a DRF ``Request`` (or the request itself)."""
    inner = getattr(request, "_request", None)
    return inner if isinstance(inner, HttpRequest) else request


def get_cycle(request: Any) -> RequestCycle | None:
    """The request's cycle, when the middleware started one."""
    cycle = getattr(django_request(request), _CYCLE, None)
    return cycle if isinstance(cycle, RequestCycle) else None


def set_cycle(request: HttpRequest, cycle: RequestCycle) -> None:
    """Attach the cycle the middleware started."""
    setattr(request, _CYCLE, cycle)


def client_key(request: Any, kit: WebKit | None = None) -> str:
    """The client address of ``request`` (Django or DRF request), as rate-limit keys use it.

    The peer address (``REMOTE_ADDR``), or behind ``TRUSTED_PROXIES`` the client named by
    the forwarding header the kit's resolver reads (see
    [`client_key`][backendkit.web.client_key]); IPv6 addresses are grouped by /64 and a
    request without a usable address gives ``"unknown"``. Use it to key a second limit,
    e.g. a login limit per ``(address, email)`` with
    [`charge_limit`][backendkit.adapters.django.charge_limit].

    Args:
        request: the request.
        kit: the kit (default: the process-wide one from ``settings.BACKENDKIT``).
    """
    kit = kit if kit is not None else get_kit()
    meta = django_request(request).META
    header = "HTTP_" + kit.ip_resolver.header_name.upper().replace("-", "_")
    return _core_client_key(kit, peer=meta.get("REMOTE_ADDR"), forwarded=meta.get(header))


def buffer_chunked_body(request: HttpRequest, limit: int) -> None:
    """Make a chunked body readable the way Django reads one sent with a ``Content-Length``.

    Django reads ``CONTENT_LENGTH`` bytes of a request, so a ``Transfer-Encoding: chunked``
    body (which has none) reads as empty, in ``request.body``, ``json_body`` and DRF
    alike. The body is read here, under ``limit``, and handed back with its length set:
    from ``wsgi.input`` when the WSGI server de-chunked it and says it ends there
    (``wsgi.input_terminated``: gunicorn, mod_wsgi), and from the request itself under
    ASGI, whose server has received it already. Requests with a ``Content-Length`` are
    left alone (Django reads them lazily).

    Raises:
        PayloadTooLarge: more than ``limit`` bytes arrived (413).
        AppError: 411 when the WSGI server cannot hand the body over (``runserver``,
            wsgiref): the client must send a ``Content-Length``.
    """
    meta = request.META
    chunked = "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
    if meta.get("CONTENT_LENGTH") or not chunked:
        return
    stream = meta.get("wsgi.input")
    if stream is not None and not meta.get("wsgi.input_terminated"):
        # Such a server gives Django the raw connection or nothing: reading to the end
        # would wait for the client to close, or read the chunk framing.
        raise error_for_status(
            411,
            message="Length Required: this server cannot read a chunked request body; "
            "send it with a Content-Length header",
        )
    # The WSGIRequest's own stream is capped at CONTENT_LENGTH (none): read the server's.
    read = stream.read if stream is not None else request.read
    body = read_body(read, limit=limit)
    # Django's HttpRequest reads its private _stream (as DRF and Django's tests rely on).
    request._stream = io.BytesIO(body)
    request._read_started = False
    meta["CONTENT_LENGTH"] = str(len(body))


def get_request_id(request: Any) -> str | None:
    """Return the request id the middleware assigned to ``request`` (Django or DRF request).

    Returns:
        The id echoed in ``X-Request-ID``, or ``None`` when ``BackendKitMiddleware`` is not
        installed.
    """
    cycle = get_cycle(request)
    return cycle.request_id if cycle is not None else None


def get_principal(request: Any) -> Principal:
    """Return the caller authenticated by ``require_auth`` (or the DRF authentication class).

    Raises:
        Unauthenticated: the view is not protected, so no caller was authenticated.
    """
    principal = getattr(django_request(request), _PRINCIPAL, None)
    if not isinstance(principal, Principal):
        raise Unauthenticated()
    return principal


def set_principal(request: Any, principal: Principal) -> None:
    """Record the authenticated caller on the request and in the log context."""
    http_request = django_request(request)
    setattr(http_request, _PRINCIPAL, principal)
    cycle = get_cycle(http_request)
    if cycle is not None:
        cycle.set_user(principal.user_id)


def session_user_id(request: HttpRequest) -> str | None:
    """The Django session user's id, only when the view already loaded the user.

    ``request.user`` is lazy; forcing it here would cost a session and a user query on
    requests that never needed them.
    """
    user = request.__dict__.get("user")
    if user is None:
        return None
    loaded = getattr(user, "_wrapped", user)
    if loaded is empty or not getattr(loaded, "is_authenticated", False):
        return None
    pk = getattr(loaded, "pk", None)
    return None if pk is None else str(pk)


def to_django(rendered: RenderedResponse) -> HttpResponse:
    """Build a Django response from a rendered core response."""
    # The core's JSON media type has no charset; every JSON response here states it.
    content_type = JSON_CONTENT_TYPE if rendered.media_type == "application/json" else None
    response = HttpResponse(
        rendered.body, status=rendered.status, content_type=content_type or rendered.media_type
    )
    for name, value in rendered.headers.items():
        response[name] = value
    return response


def error_to_django(request: Any, exc: BaseException, *, problem: bool) -> HttpResponse:
    """Render ``exc`` through the core (500 for anything not an ``AppError``, traceback logged)."""
    cycle = get_cycle(request)
    rendered = render_error(
        exc,
        request_id=cycle.request_id if cycle is not None else None,
        problem=problem,
        user_id=cycle.user_id if cycle is not None else None,
        retry_after=get_kit().settings.retry_after,
    )
    return to_django(rendered)
