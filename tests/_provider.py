"""A local identity provider for the OIDC tests: a real HTTP server on a free port.

It serves a discovery document and a JWKS from keys made with ``cryptography`` (through
``JWTKey.generate``), counts the requests it answers per path (the "no fetch storm" tests
count on the server side), and can be put in three states: serving, **hung** (it accepts
connections and never answers) and **down** (its socket closed: connections refused).
It signs tokens as the provider would, so a test can make any token it needs.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from backendkit.auth import JWTKey
from backendkit.auth._jwt import sign_compact
from backendkit.clock import Clock, system_clock

DISCOVERY = "/.well-known/openid-configuration"
JWKS = "/jwks"
AUDIENCE = "https://api.example.test"


class LocalProvider:
    """An identity provider at ``http://127.0.0.1:<port>`` (its ``issuer``)."""

    def __init__(self, keys: Iterable[JWTKey] = (), *, clock: Clock = system_clock) -> None:
        self.clock = clock  # the time its tokens are issued at
        self.keys: list[JWTKey] = list(keys) or [JWTKey.generate("RS256", kid="k1")]
        self.hits: Counter[str] = Counter()
        self.discovery_issuer: str | None = None  # None: the real issuer
        self.jwks_document: dict[str, Any] | None = None  # None: built from self.keys
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._hung = False
        #: Set when a request reaches the provider while it is hung.
        self.hung_request = threading.Event()
        self._server = self._serve(0)
        self.port = self._server.server_address[1]
        self.issuer = f"http://127.0.0.1:{self.port}"

    # -- what it serves ---------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        if self.jwks_document is not None:
            return self.jwks_document
        return {"keys": [key.public_jwk() for key in self.keys]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.discovery_issuer or self.issuer,
            "jwks_uri": self.issuer + JWKS,
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def count(self, path: str) -> int:
        with self._lock:
            return self.hits[path]

    # -- tokens -----------------------------------------------------------------------------

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(self.clock.now())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "provider-user",
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            "client_id": "web-client",
            "scope": "openid users:read",
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(
        self,
        key: JWTKey | None = None,
        *,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A token signed like the provider's (``header`` replaces the default header)."""
        key = key or self.keys[0]
        head = header if header is not None else {"alg": key.algorithm, "kid": key.kid}
        return sign_compact(self.claims(**claims), key, header=head)

    # -- states -----------------------------------------------------------------------------

    def hang(self) -> None:
        """From now on, accept connections and never answer."""
        self._hung = True

    def release(self) -> None:
        """Let hung requests go: their connections close without an answer."""
        self._release.set()

    def stop(self) -> None:
        """Close the socket: connections are refused (and hung requests let go)."""
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def start(self) -> None:
        """Serve again on the same port."""
        self._release.clear()
        self._hung = False
        self._server = self._serve(self.port)

    def close(self) -> None:
        self._release.set()
        if self._server.socket.fileno() != -1:
            self.stop()

    def _serve(self, port: int) -> ThreadingHTTPServer:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if provider._hung:
                    provider.hung_request.set()
                    provider._release.wait(60)
                    return
                with provider._lock:
                    provider.hits[self.path] += 1
                if self.path == DISCOVERY:
                    self._json(provider.discovery())
                elif self.path == JWKS:
                    self._json(provider.jwks())
                else:
                    self.send_error(404)

            def _json(self, document: dict[str, Any]) -> None:
                body = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet test output

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return server
