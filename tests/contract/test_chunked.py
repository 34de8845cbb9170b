"""A chunked request body (``Transfer-Encoding: chunked``) is read like one with a length.

Clients that stream a body (httpx or requests given a generator, ``curl -T -``, proxies
that re-chunk) send no ``Content-Length``. Each app must answer such a request exactly as
it answers the same body sent with a length: under gunicorn (Flask, Django) and uvicorn
(FastAPI), with ``BACKENDKIT_MAX_BODY_BYTES`` applied to what arrives.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.contract._api import Api, check_response

REGISTER = "/api/v1/auth/register"
# The documented default of BACKENDKIT_MAX_BODY_BYTES (the contract servers keep it).
MAX_BODY_BYTES = 1_048_576


def _chunks(body: bytes, size: int = 7) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _send(api: Api, body: bytes, *, chunked: bool) -> httpx.Response:
    """POST ``body`` to register, as JSON, chunked or with a Content-Length."""
    content: bytes | Iterator[bytes] = _chunks(body) if chunked else body
    request = api.http.build_request(
        "POST", REGISTER, content=content, headers={"Content-Type": "application/json"}
    )
    if chunked:
        assert request.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in request.headers
    else:
        assert request.headers["content-length"] == str(len(body))
    response = api.http.send(request)
    check_response(response, set(), api.server.secrets.passwords)
    return response


def _user(password: str) -> dict[str, Any]:
    email = f"chunked-{secrets.token_hex(6)}@example.com"
    return {"email": email, "password": password, "name": "Chunky"}


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_register_reads_the_body_however_it_is_framed(api: Api, chunked: bool) -> None:
    password = "pw-" + secrets.token_urlsafe(12)
    api.server.secrets.passwords.add(password)
    user = _user(password)
    response = _send(api, json.dumps(user).encode(), chunked=chunked)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["email"] == user["email"]


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_malformed_json_is_the_same_bad_request(api: Api, chunked: bool) -> None:
    response = _send(api, b'{"email": ', chunked=chunked)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_body_over_the_cap_is_413(api: Api, chunked: bool) -> None:
    # One byte over: small enough that the client has sent it all before the answer.
    body = b'{"name": "' + b"x" * (MAX_BODY_BYTES - 11) + b'"}'
    assert len(body) == MAX_BODY_BYTES + 1
    response = _send(api, body, chunked=chunked)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_body_at_the_cap_is_read(api: Api, chunked: bool) -> None:
    """The valid twin of the 413: exactly the cap is parsed (and refused as a form)."""
    body = b'{"name": "' + b"x" * (MAX_BODY_BYTES - 12) + b'"}'
    assert len(body) == MAX_BODY_BYTES
    response = _send(api, body, chunked=chunked)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
