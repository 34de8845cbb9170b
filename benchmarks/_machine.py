"""The machine a benchmark run measured on: hardware, OS, services and library versions.

``benchmarks/run_all.py`` records this in ``build/bench/summary.json``; the performance
page lists it under "The machine".
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES", "machine"]

ROOT = Path(__file__).resolve().parent.parent

#: Distributions whose versions the page lists (those absent from an environment are skipped).
PACKAGES = (
    "backendkit",
    "pydantic",
    "pydantic-core",
    "structlog",
    "pyjwt",
    "cryptography",
    "bcrypt",
    "limits",
    "redis",
    "sqlalchemy",
    "psycopg",
    "asyncpg",
    "pymysql",
    "aiosqlite",
    "flask",
    "werkzeug",
    "fastapi",
    "starlette",
    "django",
    "djangorestframework",
    "uvicorn",
    "gunicorn",
    "flask-limiter",
    "slowapi",
    "cashews",
    "aiocache",
    "fastapi-cache2",
    "advanced-alchemy",
    "fastapi-pagination",
    "prometheus-client",
    "prometheus-fastapi-instrumentator",
    "starlette-exporter",
    "prometheus-flask-exporter",
    "django-prometheus",
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-instrumentation-fastapi",
    "opentelemetry-instrumentation-django",
    "opentelemetry-instrumentation-wsgi",
)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _redis_version(host: str = "127.0.0.1", port: int = 6379) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"INFO server\r\n")
            data = b""
            while b"redis_version" not in data or not data.endswith(b"\r\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    for line in data.decode(errors="replace").splitlines():
        if line.startswith("redis_version:"):
            return line.split(":", 1)[1].strip()
    return None


_VERSIONS_SCRIPT = """
import importlib.metadata as m, json, platform, sys
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = m.version(name)
    except m.PackageNotFoundError:
        pass
print(json.dumps({"python": platform.python_version(), "packages": found}))
"""

_DATABASES_SCRIPT = """
import json, sqlalchemy as sa
out = {}
for name, url, query in (
    ("postgresql", "postgresql+psycopg://postgres@127.0.0.1:5432/test", "show server_version"),
    ("mariadb", "mysql+pymysql://root@127.0.0.1:3306/test", "select version()"),
):
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            out[name] = str(connection.execute(sa.text(query)).scalar())
        engine.dispose()
    except Exception:
        out[name] = None
print(json.dumps(out))
"""


def _run_json(python: Path, script: str, *args: str) -> dict[str, Any]:
    if not python.exists():
        return {}
    result = subprocess.run(
        [str(python), "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    try:
        parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {}
    return parsed


def machine(bench_python: Path, fc2_python: Path) -> dict[str, Any]:
    """The machine, and every version the figures depend on in the two environments."""
    bench = _run_json(bench_python, _VERSIONS_SCRIPT, *PACKAGES)
    fc2 = _run_json(fc2_python, _VERSIONS_SCRIPT, *PACKAGES)
    services = {"redis": _redis_version(), **_run_json(bench_python, _DATABASES_SCRIPT)}
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "distribution": _os_release(),
        "python": bench.get("python", platform.python_version()),
        "packages": bench.get("packages", {}),
        "fc2_packages": fc2.get("packages", {}),
        "services": services,
        "wrk": _tool_version(["wrk", "-v"]),
    }


def _os_release() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return ""


def _tool_version(command: list[str]) -> str | None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (result.stdout + result.stderr).strip().splitlines()
    return text[0] if text else None
