"""Real test services: reachability checks, a private redis-server, dead and hung sockets.

Everything here talks to real sockets and processes; nothing is mocked. The fixtures in
``tests/conftest.py`` are thin wrappers around these helpers.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

#: ``BACKENDKIT_REQUIRE_SERVICES=1`` turns "service unreachable" from a skip into a failure.
REQUIRE_ENV = "BACKENDKIT_REQUIRE_SERVICES"

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/test"

# Readiness polling only (never asserted on): how long a fresh redis-server may take to boot.
_BOOT_TIMEOUT = 15.0
_CONNECT_TIMEOUT = 0.5


def services_required() -> bool:
    """True when unreachable services must fail the run instead of skipping."""
    return os.environ.get(REQUIRE_ENV, "").strip() == "1"


def unavailable(reason: str) -> None:
    """Skip the current test with ``reason``, or fail it when services are required."""
    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1, so this is a failure)", pytrace=False)
    pytest.skip(reason)


def host_port(url: str, default_port: int) -> tuple[str, int] | str:
    """Return ``(host, port)`` of a service URL, or the socket path of a ``unix://`` URL.

    For multi-host forms (``redis+sentinel://h1:1,h2:2/...``) the first host is used.
    """
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    netloc = parts.netloc.rsplit("@", 1)[-1].split(",", 1)[0]
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _, port = netloc.partition(":")
    return (host or "127.0.0.1", int(port) if port else default_port)


def can_connect(address: tuple[str, int] | str, timeout: float = _CONNECT_TIMEOUT) -> bool:
    """A cheap TCP (or unix-socket) connect with a short timeout."""
    try:
        if isinstance(address, str):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(address)
        else:
            with socket.create_connection(address, timeout=timeout):
                pass
    except OSError:
        return False
    return True


class ServiceProbe:
    """Reachability of a named service, checked once and cached for the session."""

    def __init__(self, name: str, env_var: str, default_url: str, default_port: int) -> None:
        self.name = name
        self.env_var = env_var
        self.url = os.environ.get(env_var) or default_url
        self._default_port = default_port
        self._reachable: bool | None = None

    def require(self) -> str:
        """Return the URL, or skip/fail the current test when the service is unreachable."""
        if self._reachable is None:
            self._reachable = can_connect(host_port(self.url, self._default_port))
        if not self._reachable:
            unavailable(
                f"{self.name} is not reachable at {_redact_url(self.url)} "
                f"(set {self.env_var} to point elsewhere)"
            )
        return self.url


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=_CONNECT_TIMEOUT) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    """A private ``redis-server`` on a free port that a test may stop and start again.

    ``url`` and ``port`` stay the same across ``stop()``/``start()``, so a client built
    before an outage reconnects to the same address after it.
    """

    binary: str
    workdir: Path
    port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    config: str | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the server (same port) and wait until it answers PING."""
        if self.running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [self.binary]
        if self.config is not None:
            # redis-server takes a config file as its first argument (sentinel needs one,
            # writable, to record what it learns).
            conf = self.workdir / "redis.conf"
            if not conf.exists():
                conf.write_text(self.config)
            argv.append(str(conf))
        argv += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir)]
        argv += list(self.extra_args)
        log = (self.workdir / "redis.log").open("ab")
        try:
            # Own process group (start_new_session) so stop() kills the group, not us.
            self.process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            log.close()
        deadline = time.monotonic() + _BOOT_TIMEOUT
        while not _answers_ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server on port {self.port} did not start:\n{tail}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Kill the server's process group and wait until its port is closed."""
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=_BOOT_TIMEOUT)


class RedisServerFactory:
    """Starts private redis-servers on demand; every one is killed at teardown."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._servers: list[RedisServer] = []

    def __call__(self, *extra_args: str, config: str | None = None) -> RedisServer:
        """Start a new private redis-server and return its handle.

        The server runs with ``--save "" --appendonly no`` (nothing written to disk);
        ``extra_args`` are appended to the command line (e.g. ``"--cluster-enabled",
        "yes"``). ``config`` is the text of a config file passed first on the command
        line (sentinel mode needs one).
        """
        binary = os.environ.get("BACKENDKIT_TEST_REDIS_SERVER") or shutil.which("redis-server")
        if binary is None:
            unavailable("the redis-server binary is not installed")
            raise AssertionError("unreachable")  # pragma: no cover - skip/fail raised
        server = RedisServer(
            binary=binary,
            workdir=self._workdir / f"redis-{len(self._servers)}",
            extra_args=("--save", "", "--appendonly", "no", "--daemonize", "no", *extra_args),
            config=config,
        )
        self._servers.append(server)
        server.start()
        return server

    def close(self) -> None:
        """Kill every server this factory started."""
        for server in self._servers:
            server.stop()


class DeadPort:
    """A 127.0.0.1 port on which every connection is refused.

    The port is held by a socket that is bound but never listens: connections get RST
    (ECONNREFUSED) and no other process can take the port while the test runs.
    """

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def close(self) -> None:
        """Release the port."""
        self._sock.close()


class HungServer:
    """A socket that accepts connections and never answers (a hung Redis).

    ``accepted`` counts the connections accepted so far, so a test can prove that no
    connection was attempted (for example while a circuit breaker is open). Accepted
    sockets are kept open, unread, until ``close()``.
    """

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port: int = int(self._listener.getsockname()[1])
        self._accepted: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="hung-redis", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def accepted(self) -> int:
        """Connections accepted so far."""
        with self._lock:
            return len(self._accepted)

    def wait_for_accepted(self, count: int, timeout: float = 5.0) -> int:
        """Wait until at least ``count`` connections were accepted; return the count.

        The kernel completes a TCP handshake before the accept thread sees it, so a test
        that just connected may need to wait a moment for the counter to catch up.
        """
        deadline = time.monotonic() + timeout
        while self.accepted < count and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.accepted

    def _serve(self) -> None:
        while not self._closing.is_set():
            try:
                ready, _, _ = select.select([self._listener], [], [], 0.05)
                if not ready:
                    continue
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._accepted.append(conn)

    def close(self) -> None:
        """Stop accepting and close every socket."""
        self._closing.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for conn in self._accepted:
                conn.close()


def delete_prefixed_keys(redis_url: str, prefix: str) -> None:
    """Delete every key starting with ``prefix`` (SCAN + DEL; never FLUSHDB/FLUSHALL)."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=_glob_escape(prefix) + "*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
    finally:
        client.close()


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def start_single_node_cluster(factory: RedisServerFactory) -> RedisServer:
    """Start a one-node Redis Cluster owning every slot; return once it reports ``ok``.

    One process is enough for redis-py's cluster client (topology discovery, slot
    routing, MOVED handling), which is what backendkit's cluster support needs.
    """
    import redis

    # An explicit bus port: the default (port + 10000) may be taken or beyond 65535.
    node = factory(
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-port",
        str(free_port()),
    )
    client = redis.Redis(port=node.port, socket_timeout=5)
    try:
        client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        deadline = time.monotonic() + _BOOT_TIMEOUT
        while client.cluster("info").get("cluster_state") != "ok":
            if time.monotonic() > deadline:
                raise RuntimeError("single-node cluster did not reach cluster_state:ok")
            time.sleep(0.02)
    finally:
        client.close()
    return node


def start_sentinel(factory: RedisServerFactory, service: str = "mymaster") -> RedisServer:
    """Start a master and one sentinel monitoring it (quorum 1); return the sentinel."""
    master = factory()
    return factory("--sentinel", config=f"sentinel monitor {service} 127.0.0.1 {master.port} 1\n")
