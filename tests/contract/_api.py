"""An HTTP client for the contract suite that checks the wire contract on every response.

Every response must carry ``X-Request-ID``; a response with a body must be the JSON
envelope (``success``/``data`` or ``success``/``error`` with a catalogue code matching the
status and the request id); 204 and 304 carry no body; no response ever contains a bcrypt
hash, a password any test submitted, or a secret sent in that very request.
"""

from __future__ import annotations

import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from tests.contract._servers import HASH_PATTERN, RunningServer

from backendkit.errors import ERROR_CATALOGUE

_addresses = itertools.count(1)
_BODILESS = frozenset({204, 304})


def new_address() -> str:
    """A client address no other test of this session uses (sent as X-Forwarded-For)."""
    n = next(_addresses)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def header_pairs(headers: dict[str, str | bytes]) -> list[tuple[bytes, bytes]]:
    """Headers as raw bytes, so tests can send values no str header may hold."""
    return [
        (name.encode("latin-1"), value if isinstance(value, bytes) else value.encode("latin-1"))
        for name, value in headers.items()
    ]


def check_response(response: httpx.Response, sent: set[str], known: set[str]) -> None:
    """Assert the wire contract on one response (see the module docstring)."""
    status = response.status_code
    request_id = response.headers.get("x-request-id")
    assert request_id, f"{status} without X-Request-ID"
    assert response.headers.get("x-content-type-options") == "nosniff"
    body = response.content
    text = body.decode("utf-8", errors="replace")
    assert HASH_PATTERN.search(text) is None, "a password hash in a response"
    for secret in sent | known:
        assert secret not in text, "a secret appears in a response"
    assert "Traceback" not in text
    if status in _BODILESS:
        assert body == b"", f"{status} with a body"
        return
    assert status < 500 or status == 503, f"server error {status}: {text[:500]}"
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("application/json"), f"{status} as {content_type!r}"
    envelope = json.loads(body)
    assert isinstance(envelope, dict)
    if envelope.get("success") is True:
        assert status < 400
        assert "data" in envelope
        assert set(envelope) in ({"success", "data", "message"}, {"success", "data", "pagination"})
        return
    assert envelope.get("success") is False, f"not an envelope: {text[:300]}"
    assert set(envelope) == {"success", "error"}
    error = envelope["error"]
    assert set(error) == {"code", "message", "details", "requestId"}
    assert ERROR_CATALOGUE.get(error["code"]) == status, f"{error['code']} with {status}"
    assert error["requestId"] == request_id
    assert isinstance(error["message"], str)
    assert error["message"]
    assert all(set(detail) == {"field", "message"} for detail in error["details"])
    if status == 429:
        assert int(response.headers["retry-after"]) >= 1
    if error["code"] == "UNAUTHENTICATED":
        assert response.headers.get("www-authenticate", "").startswith("Bearer")


@dataclass
class Account:
    """A registered user and its current tokens."""

    id: int
    email: str
    password: str
    access: str = ""
    refresh: str = ""

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header of ``access``."""
        return {"Authorization": f"Bearer {self.access}"}


class Api:
    """One test's client: its own address; every response checked; secrets recorded."""

    def __init__(self, server: RunningServer, address: str | None = None) -> None:
        self.server = server
        self.address = address or new_address()
        # With several workers, a new connection per request spreads the requests over
        # them (a keep-alive connection stays with one worker).
        keepalive = 0 if server.workers > 1 else 20
        self.http = httpx.Client(
            base_url=server.url,
            headers={"X-Forwarded-For": self.address},
            timeout=30.0,
            limits=httpx.Limits(max_keepalive_connections=keepalive),
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str | bytes] | None = None,
        token: str | None = None,
        params: Any = None,
    ) -> httpx.Response:
        """Send a request and check the contract on its response."""
        all_headers: dict[str, str | bytes] = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            content = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        sent = _secrets_in(json_body) | ({token} if token else set())
        self.server.secrets.passwords.update(_passwords_in(json_body))
        response = self.http.request(
            method, path, content=content, headers=header_pairs(all_headers), params=params
        )
        check_response(response, sent, self.server.secrets.passwords)
        if response.status_code == 200 and response.content:
            data = response.json().get("data")
            if isinstance(data, dict):
                for name in ("accessToken", "refreshToken"):
                    if isinstance(data.get(name), str):
                        self.server.secrets.tokens.add(data[name])
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """``request("GET", ...)``."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """``request("POST", ...)``."""
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        """``request("PUT", ...)``."""
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        """``request("DELETE", ...)``."""
        return self.request("DELETE", path, **kwargs)

    # -- flows -------------------------------------------------------------------------------

    def register(self, name: str = "Test User", *, email: str | None = None) -> Account:
        """Register a new user (from a fresh address, so the registration limit never bites)."""
        email = email or f"user-{secrets.token_hex(6)}@example.com"
        password = "pw-" + secrets.token_urlsafe(12)
        with Api(self.server) as other:
            response = other.post(
                "/api/v1/auth/register",
                json_body={"email": email, "password": password, "name": name},
            )
        assert response.status_code == 201, response.text
        return Account(response.json()["data"]["id"], email, password)

    def login(self, account: Account) -> Account:
        """Log in (from a fresh address) and store the tokens on ``account``."""
        with Api(self.server) as other:
            response = other.post(
                "/api/v1/auth/login",
                json_body={"email": account.email, "password": account.password},
            )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        account.access, account.refresh = data["accessToken"], data["refreshToken"]
        return account

    def new_user(self, name: str = "Test User") -> Account:
        """A registered, logged-in user."""
        return self.login(self.register(name))

    def admin(self) -> Account:
        """The bootstrap admin, logged in."""
        account = Account(0, self.server.admin_email, self.server.admin_password)
        self.login(account)
        account.id = self.get("/api/v1/users/me", token=account.access).json()["data"]["id"]
        return account

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _walk(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [item for key, inner in value.items() for item in [(key, inner), *_walk(inner)]]
    if isinstance(value, list):
        return [item for inner in value for item in _walk(inner)]
    return []


def secret_like(value: Any) -> bool:
    """Long and varied enough that finding it in a response cannot be a coincidence."""
    return isinstance(value, str) and len(value) >= 12 and len(set(value)) >= 6


def _passwords_in(body: Any) -> set[str]:
    return {v for k, v in _walk(body) if k in ("password", "currentPassword") and secret_like(v)}


def _secrets_in(body: Any) -> set[str]:
    return _passwords_in(body) | {
        v for k, v in _walk(body) if k == "refreshToken" and secret_like(v)
    }
