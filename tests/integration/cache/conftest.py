"""Fixtures for the cache suites: every behaviour test runs on memory://, Redis and a Cluster."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from tests.integration.cache._proxy import CountingProxy

from backendkit.cache import Cache
from backendkit.redis import RedisConfig
from backendkit.testing import FakeClock

MakeCache = Callable[..., Cache]


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("cluster", marks=[pytest.mark.redis, pytest.mark.slow]),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test; the Redis variants skip (or fail) without Redis."""
    return str(request.param)


@pytest.fixture
async def make_cache(
    request: pytest.FixtureRequest, backend: str, fake_clock: FakeClock
) -> AsyncIterator[MakeCache]:
    """Build caches on the backend under test (FakeClock, per-test Redis prefix), closed after."""
    caches: list[Cache] = []
    url: Any = "memory://?max_entries=1000"
    prefix = "bkc:"
    if backend == "redis":
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
    elif backend == "cluster":
        # A private cluster (keys left behind go with it); the cluster client discovers
        # the topology when built, which a loaded machine may not do in 0.25 s.
        url = RedisConfig(
            request.getfixturevalue("redis_cluster_url"), connect_timeout=2, command_timeout=2
        )
        prefix = f"bkc-{uuid.uuid4().hex[:12]}:"

    def make(**options: Any) -> Cache:
        options.setdefault("clock", fake_clock)
        options.setdefault("key_prefix", prefix)
        cache = Cache(options.pop("url", url), **options)
        caches.append(cache)
        return cache

    yield make
    for cache in caches:
        await cache.aclose()
        cache.close()


@pytest.fixture
def counting_proxy() -> Iterator[Callable[..., CountingProxy]]:
    """Start counting proxies in front of Redis URLs; all are closed after the test.

    ``delay=(low, high)`` holds every chunk ``low``-``high`` seconds each way (a network).
    """
    proxies: list[CountingProxy] = []

    def start(url: str, delay: tuple[float, float] | None = None) -> CountingProxy:
        proxy = CountingProxy.for_url(url, delay)
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.close()


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private 3-master Redis Cluster (``redis+cluster://`` URL), killed after the session.

    Overrides the suite's one-node cluster: with three masters, keys that did not share a
    slot would fail (``CROSSSLOT``) or reach the wrong node (``MOVED``), so every cache test
    on it also checks that one call's keys stay in one slot. Shared by the session: tests
    use unique prefixes.
    """
    import shutil

    from tests._services import unavailable

    server = shutil.which("redis-server")
    cli = shutil.which("redis-cli")
    if server is None or cli is None:
        unavailable("redis-server and redis-cli are needed for a Redis Cluster")
    cluster = _Cluster(str(server), str(cli), tmp_path_factory.mktemp("cluster"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


class _Cluster:
    def __init__(self, server: str, cli: str, workdir: Any) -> None:
        from tests._services import free_port

        self.server, self.cli, self.workdir = server, cli, workdir
        self.ports = [free_port() for _ in range(3)]
        # The bus port defaults to port + 10000, which overflows for high free ports.
        self.bus_ports = [free_port() for _ in range(3)]
        self.procs: list[Any] = []

    def start(self) -> str:
        import subprocess
        import time

        from tests._services import _answers_ping

        for port, bus in zip(self.ports, self.bus_ports, strict=True):
            self.procs.append(
                subprocess.Popen(
                    [
                        self.server,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-port",
                        str(bus),
                        "--cluster-config-file",
                        f"nodes-{port}.conf",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(self.workdir),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 15
        while not all(_answers_ping(p) for p in self.ports):
            if time.monotonic() > deadline:
                raise RuntimeError("cluster nodes did not start")
            time.sleep(0.02)
        nodes = [f"127.0.0.1:{p}" for p in self.ports]
        subprocess.run(
            [self.cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        while not all(self._ok(p) for p in self.ports):
            if time.monotonic() > deadline + 15:
                raise RuntimeError("cluster did not converge")
            time.sleep(0.05)
        return "redis+cluster://" + ",".join(nodes)

    def _ok(self, port: int) -> bool:
        import subprocess

        out = subprocess.run(
            [self.cli, "-p", str(port), "cluster", "info"], capture_output=True, timeout=5
        ).stdout
        return b"cluster_state:ok" in out

    def stop(self) -> None:
        import os
        import signal

        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
