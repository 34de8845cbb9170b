"""A counting TCP proxy for Redis on loopback: counts connections and commands client-side.

Every byte between the clients and Redis passes through one selector thread, which parses
RESP in both directions: commands (client -> server) are counted by name, and each reply
(server -> client) retires the oldest outstanding command of its connection, so the proxy
also knows which commands are still waiting for an answer (a blocked ``XREAD``, say).

Counting here, rather than with ``INFO commandstats``, keeps the counts per proxy (so per
process when each process gets its own proxy) and untouched by other users of the server.
With ``delay=(low, high)`` every chunk is held for a random ``low``-``high`` seconds in each
direction (in order), as a network between the application and Redis would.
When the upstream server is down, an accepted client connection is closed at once (the
client sees a reset, as from a dead server) and still counts as a connection attempt.
"""

from __future__ import annotations

import collections
import contextlib
import heapq
import itertools
import random
import selectors
import socket
import threading
import time
from typing import Any

#: Commands redis-py sends once per new connection (handshake), not per operation.
SETUP = frozenset({"HELLO", "CLIENT", "AUTH", "SELECT", "READONLY"})


class _IncompleteError(Exception):
    pass


def _parse(buf: bytes | bytearray, pos: int) -> tuple[Any, int]:
    """Parse one RESP2/RESP3 value at ``pos``; raise _IncompleteError if more bytes are needed."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise _IncompleteError
    kind = buf[pos : pos + 1]
    line = bytes(buf[pos + 1 : end])
    nxt = end + 2
    if kind in (b"+", b"-", b":", b"_", b",", b"#", b"("):
        return line, nxt
    if kind in (b"$", b"!", b"="):
        size = int(line)
        if size < 0:
            return None, nxt
        if len(buf) < nxt + size + 2:
            raise _IncompleteError
        return bytes(buf[nxt : nxt + size]), nxt + size + 2
    if kind in (b"*", b"~", b">", b"%", b"|"):
        count = int(line)
        if count < 0:
            return None, nxt
        if kind in (b"%", b"|"):
            count *= 2
        items = []
        for _ in range(count):
            item, nxt = _parse(buf, nxt)
            items.append(item)
        if kind == b"|":  # an attribute precedes the real reply
            return _parse(buf, nxt)
        return items, nxt
    raise ValueError(f"not RESP: {bytes(buf[pos : pos + 20])!r}")


class _Stream:
    """Incremental RESP reader for one direction of one connection."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self.buf += data
        values = []
        pos = 0
        while pos < len(self.buf):
            try:
                value, pos_after = _parse(self.buf, pos)
            except _IncompleteError:
                break
            values.append(value)
            pos = pos_after
        del self.buf[:pos]
        return values


class _Conn:
    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.requests = _Stream()
        self.replies = _Stream()
        self.outstanding: collections.deque[str] = collections.deque()
        self.closed = False
        # Per direction, when the last held chunk goes out (later chunks never overtake it).
        self.last_due = {id(client): 0.0, id(upstream): 0.0}


class CountingProxy:
    """Forward ``127.0.0.1:<port>`` to ``upstream`` and count what passes.

    Attributes:
        connections: Client connections accepted so far (attempts included).
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        delay: tuple[float, float] | None = None,
    ) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._delay = delay
        self._rng = random.Random(0)
        self._held: list[tuple[float, int, socket.socket, bytes, _Conn]] = []
        self._seq = itertools.count()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(512)
        self.port: int = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._commands: collections.Counter[str] = collections.Counter()
        self._scripts: collections.Counter[str] = collections.Counter()
        self.connections = 0
        self._conns: dict[socket.socket, _Conn] = {}
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="redis-proxy", daemon=True)
        self._thread.start()

    @classmethod
    def for_url(cls, url: str, delay: tuple[float, float] | None = None) -> CountingProxy:
        """A proxy in front of the ``redis://host:port`` server of ``url``."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 6379, delay)

    def url(self, db: int = 0) -> str:
        """The ``redis://`` URL clients should use."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    # --- counts ----------------------------------------------------------------------------

    def commands(self) -> collections.Counter[str]:
        """Commands sent so far, by upper-case name."""
        with self._lock:
            return collections.Counter(self._commands)

    def scripts(self) -> collections.Counter[str]:
        """``EVALSHA`` calls so far, by script SHA1 (hex)."""
        with self._lock:
            return collections.Counter(self._scripts)

    def total(self) -> int:
        """Every command sent so far."""
        with self._lock:
            return sum(self._commands.values())

    def work(self) -> collections.Counter[str]:
        """Commands sent so far, without per-connection setup (HELLO, CLIENT SETINFO...)."""
        counts = self.commands()
        for name in SETUP:
            counts.pop(name, None)
        return counts

    def pending(self, name: str) -> int:
        """Commands named ``name`` sent and not yet answered (e.g. a blocked XREAD)."""
        with self._lock:
            conns = {id(c): c for c in self._conns.values()}.values()
            return sum(c.outstanding.count(name) for c in conns)

    def reset(self) -> None:
        """Zero the command and connection counts."""
        with self._lock:
            self._commands.clear()
            self._scripts.clear()
            self.connections = 0

    # --- the loop --------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            timeout = 0.05
            if self._held:
                timeout = max(0.0, min(timeout, self._held[0][0] - time.monotonic()))
            for key, _ in self._selector.select(timeout=timeout):
                if key.data is None:
                    self._accept()
                else:
                    self._pump(key.fileobj, key.data)  # type: ignore[arg-type]
            self._release_held()

    def _release_held(self) -> None:
        now = time.monotonic()
        while self._held and self._held[0][0] <= now:
            _, _, target, data, conn = heapq.heappop(self._held)
            if not conn.closed:
                self._send(target, data, conn)

    def _forward(self, target: socket.socket, data: bytes, conn: _Conn) -> None:
        if self._delay is None:
            self._send(target, data, conn)
            return
        due = max(time.monotonic() + self._rng.uniform(*self._delay), conn.last_due[id(target)])
        conn.last_due[id(target)] = due
        heapq.heappush(self._held, (due, next(self._seq), target, data, conn))

    def _send(self, target: socket.socket, data: bytes, conn: _Conn) -> None:
        try:
            target.sendall(data)
        except OSError:
            self._drop(conn)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        with self._lock:
            self.connections += 1
        try:
            upstream = socket.create_connection(self._upstream, timeout=1.0)
        except OSError:
            client.close()  # upstream down: the client sees its connection die
            return
        upstream.settimeout(None)
        client.setblocking(True)
        conn = _Conn(client, upstream)
        with self._lock:
            self._conns[client] = conn
            self._conns[upstream] = conn
        self._selector.register(client, selectors.EVENT_READ, conn)
        self._selector.register(upstream, selectors.EVENT_READ, conn)

    def _pump(self, sock: socket.socket, conn: _Conn) -> None:
        try:
            data = sock.recv(262144)
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        if sock is conn.client:
            requests = [v for v in conn.requests.feed(data) if isinstance(v, list) and v]
            names = [bytes(v[0]).decode(errors="replace").upper() for v in requests]
            shas = [
                bytes(v[1]).decode() for v, n in zip(requests, names, strict=True) if n == "EVALSHA"
            ]
            with self._lock:
                self._commands.update(names)
                self._scripts.update(shas)
                conn.outstanding.extend(names)
            target = conn.upstream
        else:
            replies = conn.replies.feed(data)
            with self._lock:
                for _ in replies:
                    if conn.outstanding:
                        conn.outstanding.popleft()
            target = conn.client
        self._forward(target, data, conn)

    def _drop(self, conn: _Conn) -> None:
        conn.closed = True
        for sock in (conn.client, conn.upstream):
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)
            sock.close()
            with self._lock:
                self._conns.pop(sock, None)

    def close(self) -> None:
        """Stop the proxy and close every socket."""
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in list({id(c): c for c in self._conns.values()}.values()):
            self._drop(conn)
        self._selector.close()
        self._listener.close()
