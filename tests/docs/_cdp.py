"""A minimal Chrome DevTools Protocol client: headless Chromium over a raw WebSocket.

Only the standard library: the machine has Debian's ``chromium`` but no browser driver,
and nothing may be downloaded. ``Browser`` starts Chromium with a fresh profile and a
DevTools port, ``Tab`` opens one page target and speaks CDP over a hand-written RFC 6455
client (text frames, client-side masking, fragmentation, ping/pong, 16/64-bit lengths).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: The flags of the machine doc: headless, no sandbox (root in a container), nothing phoning home.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1280,900",
)


class CDPError(RuntimeError):
    """The browser answered a command with an error, or the connection broke."""


class _WebSocket:
    """Client side of RFC 6455, enough for CDP (text messages only)."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self._sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        request = (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self._sock.sendall(request.encode())
        self._buffer = b""
        head = self._read_until(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise CDPError(f"WebSocket upgrade refused: {head[:200]!r}")

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            self._fill()
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def _fill(self) -> None:
        chunk = self._sock.recv(1 << 16)
        if not chunk:
            raise CDPError("the browser closed the DevTools connection")
        self._buffer += chunk

    def _read_exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        size = len(payload)
        if size < 126:
            header += bytes([0x80 | size])
        elif size < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", size)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", size)
        mask = secrets.token_bytes(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self._sock.sendall(header + mask + masked)

    def send(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def receive(self) -> str:
        """The next complete text message (control frames are handled on the way)."""
        message = b""
        while True:
            first, second = self._read_exact(2)
            opcode, final = first & 0x0F, bool(first & 0x80)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._read_exact(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._read_exact(8))[0]
            mask = self._read_exact(4) if second & 0x80 else b""
            payload = self._read_exact(size)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise CDPError("the browser closed the DevTools connection")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            message += payload
            if final:
                return message.decode()

    def settimeout(self, seconds: float) -> None:
        self._sock.settimeout(seconds)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._send_frame(0x8, b"")
        self._sock.close()


@dataclass
class PageReport:
    """What happened while a page loaded.

    Attributes:
        errors: console errors, uncaught exceptions, failed or 4xx/5xx requests.
        external_requests: URLs the page tried to fetch from anywhere but the local server.
        title: ``document.title``.
        heading: the text of the article's first ``h1``.
        broken_images: ``src`` of images that did not decode.
    """

    errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    title: str = ""
    heading: str = ""
    broken_images: list[str] = field(default_factory=list)


class Tab:
    """One page target driven over CDP."""

    def __init__(self, ws_url: str, timeout: float = 30.0) -> None:
        self._ws = _WebSocket(ws_url, timeout)
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command and return its result (events seen meanwhile are queued)."""
        self._next_id += 1
        ident = self._next_id
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.receive())
            if message.get("id") == ident:
                if "error" in message:
                    raise CDPError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self._events.append(message)

    def _drain(self, quiet: float, limit: float) -> None:
        """Collect events until none arrives for ``quiet`` seconds (at most ``limit``)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            self._ws.settimeout(quiet)
            try:
                message = json.loads(self._ws.receive())
            except TimeoutError:
                break
            finally:
                self._ws.settimeout(30.0)
            if "method" in message:
                self._events.append(message)

    def _wait_for(self, event: str, limit: float) -> None:
        deadline = time.monotonic() + limit
        while not any(e["method"] == event for e in self._events):
            if time.monotonic() > deadline:
                raise CDPError(f"no {event} within {limit:.0f}s")
            self._ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                message = json.loads(self._ws.receive())
            finally:
                self._ws.settimeout(30.0)
            if "method" in message:
                self._events.append(message)

    def open(self, url: str, local_host: str) -> PageReport:
        """Load ``url``, let it settle, and report errors and requests off ``local_host``."""
        self._events.clear()
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        navigation = self.call("Page.navigate", url=url)
        if navigation.get("errorText"):
            raise CDPError(f"navigation to {url} failed: {navigation['errorText']}")
        self._wait_for("Page.loadEventFired", 30)
        # Scripts keep working after the load event (search index, lazy fetches).
        self._drain(quiet=0.75, limit=10)
        report = PageReport()
        for event in self._events:
            report_event(report, event, local_host)
        report.title = self.evaluate("document.title")
        report.heading = self.evaluate(
            "(document.querySelector('article h1, .md-content h1') || {}).textContent || ''"
        ).strip()
        report.broken_images = self.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.src)"
        )
        return report

    def evaluate(self, expression: str) -> Any:
        """The JSON value of ``expression`` evaluated in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise CDPError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        """Save a PNG of the page (its first 4000 CSS pixels) at ``path``."""
        metrics = self.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": 1280, "height": min(size["height"], 4000), "scale": 1}
        data = self.call(
            "Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True
        )["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self._ws.close()


def report_event(report: PageReport, event: dict[str, Any], local_host: str) -> None:
    """Fold one CDP event into ``report``."""
    method, params = event["method"], event.get("params", {})
    if method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        text = details.get("exception", {}).get("description") or details.get("text")
        report.errors.append(f"uncaught exception: {text}")
    elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
        report.errors.append(f"console.{params['type']}: {args}")
    elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
        entry = params["entry"]
        report.errors.append(
            f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}"
        )
    elif method == "Network.loadingFailed" and not params.get("canceled"):
        report.errors.append(f"request failed: {params.get('errorText')} ({params.get('type')})")
    elif method == "Network.responseReceived" and params["response"].get("status", 200) >= 400:
        response = params["response"]
        report.errors.append(f"HTTP {response['status']}: {response['url']}")
    elif method == "Network.requestWillBeSent":
        url = params["request"]["url"]
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != local_host:
            report.external_requests.append(url)


class Browser:
    """Headless Chromium with a fresh profile and a DevTools port (killed on ``close``)."""

    def __init__(self, executable: str) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="bk-chromium-")
        self._log = open(Path(self._profile.name) / "chromium.log", "wb")  # noqa: SIM115
        command = [
            executable,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self._profile.name}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.port = self._wait_for_port()

    def _wait_for_port(self) -> int:
        # Chromium writes the port it picked into <profile>/DevToolsActivePort.
        marker = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if marker.is_file() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.close()
        raise CDPError("Chromium did not open its DevTools port")

    def _get(self, path: str, method: str = "GET") -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path)
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()

    @contextlib.contextmanager
    def tab(self) -> Iterator[Tab]:
        """A new page target; closed afterwards."""
        target = self._get("/json/new?about:blank", method="PUT")
        tab = Tab(target["webSocketDebuggerUrl"])
        try:
            yield tab
        finally:
            tab.close()
            with contextlib.suppress(OSError, ValueError):
                self._get(f"/json/close/{target['id']}")

    def close(self) -> None:
        """Kill the browser's process group and remove its profile."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(10)
        self._log.close()
        self._profile.cleanup()
