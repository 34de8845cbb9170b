"""A counting TCP proxy on loopback: counts the Redis commands a client really sends.

Round trips are counted on the client side of the wire, not with ``INFO commandstats``
(which counts server-side commands, including those run inside scripts). Every complete
RESP request frame the client writes is one command; pipelined frames count one each.
An optional reply delay makes the real server look slow, to show that a timed-out call
is not sent again.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time


def _parse_frames(buffer: bytearray) -> tuple[list[list[bytes]], int]:
    """Split complete RESP requests off ``buffer``; return them and the bytes consumed."""
    frames: list[list[bytes]] = []
    pos = 0
    size = len(buffer)
    while pos < size:
        if buffer[pos : pos + 1] == b"*":
            end = buffer.find(b"\r\n", pos)
            if end < 0:
                break
            count = int(buffer[pos + 1 : end])
            cursor = end + 2
            parts: list[bytes] = []
            complete = True
            for _ in range(count):
                line_end = buffer.find(b"\r\n", cursor)
                if line_end < 0 or buffer[cursor : cursor + 1] != b"$":
                    complete = False
                    break
                length = int(buffer[cursor + 1 : line_end])
                start = line_end + 2
                if start + length + 2 > size:
                    complete = False
                    break
                parts.append(bytes(buffer[start : start + length]))
                cursor = start + length + 2
            if not complete:
                break
            frames.append(parts)
            pos = cursor
        else:
            end = buffer.find(b"\r\n", pos)
            if end < 0:
                break
            frames.append(bytes(buffer[pos:end]).split())
            pos = end + 2
    return frames, pos


class CountingProxy:
    """Forwards 127.0.0.1:<port> to an upstream Redis and records every request frame."""

    def __init__(self, upstream_host: str, upstream_port: int, reply_delay: float = 0.0) -> None:
        self._upstream = (upstream_host, upstream_port)
        self.reply_delay = reply_delay
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port: int = int(self._listener.getsockname()[1])
        #: A URL reaching the upstream through this proxy (fixtures may replace it).
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._lock = threading.Lock()
        self._commands: list[list[bytes]] = []
        self.connections = 0
        self._sockets: list[socket.socket] = []
        self._closing = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    @property
    def commands(self) -> list[str]:
        """Names (upper case) of every command sent so far, in order."""
        with self._lock:
            return [frame[0].decode().upper() for frame in self._commands if frame]

    def frames(self) -> list[list[bytes]]:
        """Every request frame sent so far."""
        with self._lock:
            return list(self._commands)

    def clear(self) -> None:
        """Forget the commands counted so far."""
        with self._lock:
            self._commands.clear()

    def _accept(self) -> None:
        while not self._closing.is_set():
            ready, _, _ = select.select([self._listener], [], [], 0.05)
            if not ready:
                continue
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream, timeout=5)
            upstream.settimeout(None)
            with self._lock:
                self.connections += 1
                self._sockets += [client, upstream]
            for target in (self._client_to_server, self._server_to_client):
                thread = threading.Thread(target=target, args=(client, upstream), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _client_to_server(self, client: socket.socket, upstream: socket.socket) -> None:
        buffer = bytearray()
        with contextlib.suppress(OSError):
            while True:
                data = client.recv(65536)
                if not data:
                    break
                buffer += data
                frames, used = _parse_frames(buffer)
                del buffer[:used]
                with self._lock:
                    self._commands.extend(frames)
                upstream.sendall(data)
        with contextlib.suppress(OSError):
            upstream.shutdown(socket.SHUT_WR)

    def _server_to_client(self, client: socket.socket, upstream: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                if self.reply_delay:
                    time.sleep(self.reply_delay)
                client.sendall(data)
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        """Stop accepting and close every socket."""
        self._closing.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                # shutdown() wakes a relay thread blocked in recv(); close() alone does not
                # on Linux, and each join below would then wait out its timeout.
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
        for thread in self._threads:
            thread.join(timeout=2)
