"""Django: a chunked request body is read like one with a Content-Length, under the cap.

A WSGI request sent with ``Transfer-Encoding: chunked`` has no ``CONTENT_LENGTH``, and
Django reads ``CONTENT_LENGTH`` bytes of it: none. Servers that de-chunk the body and say
so (``wsgi.input_terminated``: gunicorn, mod_wsgi) hand over a ``wsgi.input`` that ends
where the body ends; the middleware reads it there, under ``MAX_BODY_BYTES``. A server
that cannot (``runserver``) gets ``411``. Under ASGI the server has received the body
already. Requests here arrive as those servers hand them over: no ``CONTENT_LENGTH``, the
de-chunked body in ``wsgi.input``.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.test import AsyncClient, Client
from django.test.client import AsyncClientHandler, ClientHandler
from tests.adapters._apps import MAX_BODY, make_kit
from tests.adapters._django_app import client_for, use_kit

DJANGO_URLS = "tests.adapters._django_harness_urls"  # /echo: json_body(EchoIn)
DRF_URLS = "tests.adapters._drf_harness_urls"  # /echo: request.data
TEST_URLS = "tests.adapters._django_test_urls"  # /api/async-echo: async json_body(EchoIn)


class _ChunkedHandler(ClientHandler):  # type: ignore[misc]
    """Hands requests over as a WSGI server does a chunked one (see the module docstring)."""

    def __init__(self, urlconf: str, *, terminated: bool) -> None:
        super().__init__(enforce_csrf_checks=False)
        self.urlconf = urlconf
        self.terminated = terminated

    def __call__(self, environ: dict[str, Any]) -> Any:
        del environ["CONTENT_LENGTH"]
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read())
        if self.terminated:
            environ["wsgi.input_terminated"] = True
        return super().__call__(environ)

    def get_response(self, request: Any) -> Any:
        request.urlconf = self.urlconf
        return super().get_response(request)


class _ChunkedAsgiHandler(AsyncClientHandler):  # type: ignore[misc]
    """An ASGI server's chunked request: no content-length header, the body in messages."""

    def __init__(self, urlconf: str) -> None:
        super().__init__(enforce_csrf_checks=False)
        self.urlconf = urlconf

    async def __call__(self, scope: dict[str, Any]) -> Any:
        scope["headers"] = [
            *(h for h in scope["headers"] if h[0] != b"content-length"),
            (b"transfer-encoding", b"chunked"),
        ]
        return await super().__call__(scope)

    async def get_response_async(self, request: Any) -> Any:
        request.urlconf = self.urlconf
        return await super().get_response_async(request)


def _client(urlconf: str, *, chunked: bool = True, terminated: bool = True) -> Client:
    use_kit(make_kit())
    if not chunked:
        return client_for(urlconf)
    client = Client(raise_request_exception=False)
    client.handler = _ChunkedHandler(urlconf, terminated=terminated)
    return client


def _post(client: Client, body: bytes, path: str = "/echo") -> Any:
    return client.post(path, body, content_type="application/json")


def _padded(size: int) -> bytes:
    """A valid EchoIn body of exactly ``size`` bytes (JSON whitespace as padding)."""
    head, tail = b'{"name": "ann"', b"}"
    return head + b" " * (size - len(head) - len(tail)) + tail


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    error: dict[str, Any] = json.loads(response.content)["error"]
    assert error["code"] == code
    return error


@pytest.mark.parametrize("urlconf", [DJANGO_URLS, DRF_URLS], ids=["json_body", "drf"])
def test_chunked_body_is_read(urlconf: str) -> None:
    response = _post(_client(urlconf), b'{"name": "ann", "count": 2}')
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["data"] == {"name": "ann", "count": 2}


@pytest.mark.parametrize("urlconf", [DJANGO_URLS, DRF_URLS], ids=["json_body", "drf"])
def test_chunked_body_at_the_cap_is_read(urlconf: str) -> None:
    response = _post(_client(urlconf), _padded(MAX_BODY))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("urlconf", [DJANGO_URLS, DRF_URLS], ids=["json_body", "drf"])
def test_chunked_body_over_the_cap_is_413(urlconf: str) -> None:
    _error(_post(_client(urlconf), _padded(MAX_BODY + 1)), 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("urlconf", [DJANGO_URLS, DRF_URLS], ids=["json_body", "drf"])
def test_valid_twin_the_same_body_with_a_content_length(urlconf: str) -> None:
    response = _post(_client(urlconf, chunked=False), b'{"name": "ann", "count": 2}')
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["data"] == {"name": "ann", "count": 2}


def test_chunked_malformed_body_is_the_usual_bad_request() -> None:
    error = _error(_post(_client(DJANGO_URLS), b'{"name": '), 400, "BAD_REQUEST")
    assert error["message"] != "The request body is empty"


def test_chunked_body_on_a_server_that_cannot_read_it_is_411() -> None:
    """runserver (wsgiref) neither de-chunks nor says so: ask for a Content-Length."""
    client = _client(DJANGO_URLS, terminated=False)
    error = _error(_post(client, b'{"name": "ann"}'), 411, "BAD_REQUEST")
    assert "Content-Length" in error["message"]


# Under ASGI: an async view with json_body, and a DRF view (sync, run in a thread).
ASGI_ROUTES = [(TEST_URLS, "/api/async-echo"), (DRF_URLS, "/echo")]


async def _apost(route: tuple[str, str], body: bytes) -> Any:
    use_kit(make_kit())
    urlconf, path = route
    client = AsyncClient(raise_request_exception=False)
    client.handler = _ChunkedAsgiHandler(urlconf)
    return await client.post(path, body, content_type="application/json")


@pytest.mark.parametrize("route", ASGI_ROUTES, ids=["json_body", "drf"])
async def test_asgi_chunked_body_is_read(route: tuple[str, str]) -> None:
    response = await _apost(route, b'{"name": "ann", "count": 2}')
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["data"] == {"name": "ann", "count": 2}


@pytest.mark.parametrize("route", ASGI_ROUTES, ids=["json_body", "drf"])
async def test_asgi_chunked_body_over_the_cap_is_413(route: tuple[str, str]) -> None:
    _error(await _apost(route, _padded(MAX_BODY + 1)), 413, "PAYLOAD_TOO_LARGE")
