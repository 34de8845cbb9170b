"""A private three-node Redis Cluster on loopback (masters only), for the limiter's tests.

Built from the local ``redis-server`` binary: three nodes started with
``--cluster-enabled yes``, the 16384 slots split between them, introduced with
``CLUSTER MEET``, then polled until every node reports ``cluster_state:ok``. Killed with
their process groups at teardown. Never touches the shared Redis.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

_BOOT = 20.0


def _free_port_pair() -> int:
    """A port p such that p and p + 10000 (the cluster bus) are free."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port + 10000 > 65535:
                continue
            with socket.socket() as bus:
                try:
                    bus.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port pair for a cluster node")


class LocalCluster:
    """Three master nodes covering every slot."""

    def __init__(self, workdir: Path) -> None:
        binary = os.environ.get("BACKENDKIT_TEST_REDIS_SERVER") or shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server")
        self.ports: list[int] = []
        self._procs: list[subprocess.Popen[bytes]] = []
        for index in range(3):
            port = _free_port_pair()
            node_dir = workdir / f"node-{index}"
            node_dir.mkdir(parents=True)
            log = (node_dir / "redis.log").open("ab")
            try:
                proc = subprocess.Popen(
                    [
                        binary,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        str(node_dir / "nodes.conf"),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(node_dir),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            finally:
                log.close()
            self._procs.append(proc)
            self.ports.append(port)
        try:
            self._form()
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        """``redis+cluster://`` URL listing every node."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def client(self, port: int) -> redis.Redis:
        """A plain client to one node."""
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)

    def _form(self) -> None:
        deadline = time.monotonic() + _BOOT
        clients = [self.client(port) for port in self.ports]
        try:
            for client in clients:
                while True:
                    try:
                        client.ping()
                        break
                    except redis.ConnectionError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.05)
            bounds = [(0, 5460), (5461, 10922), (10923, 16383)]
            for client, (low, high) in zip(clients, bounds, strict=True):
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", low, high)
            for port in self.ports[1:]:
                clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", port)
            for client in clients:
                while b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
                    if time.monotonic() > deadline:
                        raise RuntimeError("the local cluster did not converge")
                    time.sleep(0.05)
            # Every node must also know every other node's slots before clients connect.
            for client in clients:
                while len(client.execute_command("CLUSTER", "SLOTS")) < 3:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the local cluster did not converge")
                    time.sleep(0.05)
        finally:
            for client in clients:
                client.close()

    def close(self) -> None:
        """Kill every node."""
        for proc in self._procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
