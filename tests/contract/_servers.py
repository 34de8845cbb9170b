"""Start an example app under its real server in a subprocess, and stop it cleanly.

FastAPI runs under uvicorn, Flask and Django under gunicorn, each in its own process group
(``start_new_session``) so the whole group (master and workers) is killed at the end. The
server's stdout and stderr go to a log file the secret-leak check reads afterwards.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
APPS = ("fastapi", "flask", "django")
_BOOT_TIMEOUT = 45.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(app: str, port: int, workers: int) -> list[str]:
    """The documented command that serves ``app`` (see examples/README.md)."""
    bind = ["-b", f"127.0.0.1:{port}", "-w", str(workers), "--graceful-timeout", "3"]
    if app == "fastapi":
        return [
            sys.executable, "-m", "uvicorn", "--factory", "examples.fastapi_app.main:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--no-access-log", "--timeout-graceful-shutdown", "3",
        ]  # fmt: skip
    if app == "flask":
        return [sys.executable, "-m", "gunicorn", *bind, "examples.flask_app:create_app()"]
    if app == "django":
        return [sys.executable, "-m", "gunicorn", *bind, "examples.django_app.project.wsgi"]
    raise ValueError(app)


def migrate_command(app: str) -> list[str]:
    """The documented command that applies ``app``'s migrations (see examples/README.md)."""
    if app == "django":
        return [sys.executable, "-m", "examples.django_app.manage", "migrate", "--noinput"]
    ini = f"examples/{app}_app/alembic.ini"
    return [sys.executable, "-m", "alembic", "-c", ini, "upgrade", "head"]


@dataclass
class Secrets:
    """Everything secret a test sent or received, to be found nowhere it must not be."""

    passwords: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)

    def all(self) -> set[str]:
        """Every recorded secret."""
        return self.passwords | self.tokens


#: bcrypt hashes and backendkit's pre-hash scheme, wherever they appear.
HASH_PATTERN = re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}|\$bkhmac-sha256\$")


@dataclass
class RunningServer:
    """An example app serving on ``url``."""

    app: str
    # "embedded" (SQLite, in-memory), "services" (PostgreSQL + Redis) or "mariadb"
    # (MariaDB + Redis).
    backend: str
    url: str
    workers: int
    env: dict[str, str]
    log_path: Path
    admin_email: str
    admin_password: str
    process: subprocess.Popen[bytes] | None = None
    secrets: Secrets = field(default_factory=Secrets)
    redis: object | None = None  # the private redis-server of a "services" run
    # Another command than server_command() (a documented one, run through bash), and the
    # directory to run it in (default: the repository root).
    command: list[str] | None = None
    cwd: Path | None = None
    # The /health statuses that mean "started" (a run with Redis down from the start
    # answers 503 and is up all the same).
    ready_statuses: frozenset[int] = frozenset({200})

    @property
    def name(self) -> str:
        """``fastapi-embedded``, ``django-services``, ..."""
        return f"{self.app}-{self.backend}"

    def log_text(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def start(self) -> None:
        """Start the server and wait until ``/health`` answers 200 (or ``ready_statuses``)."""
        port = int(self.url.rsplit(":", 1)[1])
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                self.command or server_command(self.app, port, self.workers),
                cwd=self.cwd or REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as one at the end
            )
        finally:
            log.close()
        deadline = time.monotonic() + _BOOT_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_text()[-4000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/health", timeout=2.0).status_code in self.ready_statuses:
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"{self.name} did not become healthy:\n{self.log_text()[-4000:]}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after a grace period."""
        proc, self.process = self.process, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        # Workers that outlived their master would keep the port: make sure the group is gone.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    def worker_pids(self) -> list[int]:
        """PIDs of the server's processes other than the master (its process group)."""
        assert self.process is not None
        group = self.process.pid
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == group:
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                fields = stat.rsplit(")", 1)[1].split()
                if int(fields[2]) == group and fields[0] != "Z":  # pgrp, not a zombie
                    found.append(int(entry.name))
        return found


def base_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: the test settings over a clean copy of ours."""
    # DJANGO_SETTINGS_MODULE too: the adapter tests set it in this process, and the Django
    # example must start with its own settings, not the test project's.
    inherited = ("BACKENDKIT_", "PYTEST", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "BACKENDKIT_ENV": "test",
            "BACKENDKIT_TESTING_FAST_HASHER": "1",
            "BACKENDKIT_SECRET_KEY": secrets.token_urlsafe(32),
            "BACKENDKIT_JWT_SECRET": secrets.token_urlsafe(32),
            "BACKENDKIT_TRUSTED_PROXIES": "127.0.0.1",
            "BACKENDKIT_REFRESH_GRACE_SECONDS": "0",
            "BACKENDKIT_LOG_FORMAT": "json",
            "BACKENDKIT_REDIS_BREAKER_COOLDOWN": "0.5",
        }
    )
    env.update(extra)
    return env


def run_checked(argv: list[str], env: Mapping[str, str], what: str) -> None:
    """Run a setup command (the migrations) and fail with its output if it fails."""
    done = subprocess.run(argv, cwd=REPO, env=dict(env), capture_output=True, timeout=120)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace")[-4000:]
        raise RuntimeError(f"{what} failed:\n{output}")


@contextlib.contextmanager
def postgres_database(admin_url: str, name: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one app run (dropped afterwards, and only it)."""
    import psycopg

    conninfo = "postgresql://" + admin_url.split("://", 1)[1]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def mariadb_database(admin_url: str, name: str) -> Iterator[str]:
    """A fresh MariaDB database for one app run (dropped afterwards, and only it).

    ``admin_url`` is a SQLAlchemy URL (``mysql+pymysql://root@host:3306/test``).
    """
    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, poolclass=sa.pool.NullPool)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        try:
            url = sa.make_url(admin_url).set(drivername="mysql", database=name)
            # A plain mysql:// URL, as a user would write it: each app picks its drivers.
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        admin.dispose()


@dataclass
class DemoProcess:
    """``make demo`` running in a fresh directory: its port, log file and process."""

    port: int
    log: Path
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def wait_for(self, marker: str, timeout: float = 40.0) -> str:
        """The log's text once it holds ``marker`` (fails if the demo exits or stays silent)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log.read_text(errors="replace")
            if marker in text:
                return text
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the demo never logged {marker!r}:\n{text[-3000:]}")
            time.sleep(0.1)

    def banner(self) -> str:
        """The log once the demo has printed its start-up banner."""
        return self.wait_for("Stop with Ctrl+C.")


@contextlib.contextmanager
def demo_process(workdir: Path) -> Iterator[DemoProcess]:
    """Start ``python -m examples.fastapi_app.demo`` as a user would (no BACKENDKIT_*
    variables, no FORWARDED_ALLOW_IPS) in ``workdir``; stop it with Ctrl+C at the end."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKENDKIT_", "PYTEST"))}
    env.pop("FORWARDED_ALLOW_IPS", None)
    env.update({"PORT": str(port), "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"})
    log = workdir / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "examples.fastapi_app.demo"],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield DemoProcess(port=port, log=log, proc=proc)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C, as a user stops it
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@contextlib.contextmanager
def example_server(
    app: str,
    backend: str,
    *,
    workdir: Path,
    workers: int,
    extra_env: Mapping[str, str],
    ready_statuses: frozenset[int] = frozenset({200}),
    redis: object | None = None,
) -> Iterator[RunningServer]:
    """One example app under its real server, with a bootstrap admin of its own.

    The app's migrations run first, with the documented command (Django's ``migrate``,
    ``alembic upgrade head`` for FastAPI and Flask). On a clean exit the server's log is
    searched for every secret the tests sent or received, and for password hashes.
    """
    tag = secrets.token_hex(4)
    admin_email, admin_password = f"admin-{tag}@example.com", "admin-" + secrets.token_urlsafe(12)
    env = base_env({"BACKENDKIT_BOOTSTRAP_ADMIN": f"{admin_email}:{admin_password}", **extra_env})
    run_checked(migrate_command(app), env, f"{app} migrations")
    running = RunningServer(
        app=app,
        backend=backend,
        url=f"http://127.0.0.1:{free_port()}",
        workers=workers,
        env=env,
        log_path=workdir / "server.log",
        admin_email=admin_email,
        admin_password=admin_password,
        ready_statuses=ready_statuses,
        redis=redis,
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
    assert_log_holds_no_secrets(running)


def assert_log_holds_no_secrets(running: RunningServer) -> None:
    """The server log was captured and holds no submitted secret and no password hash."""
    text = running.log_text()
    assert "request_completed" in text, "the server log was not captured"
    assert HASH_PATTERN.search(text) is None, f"{running.name}: a password hash in the log"
    leaked = [s for s in running.secrets.all() | {running.admin_password} if s in text]
    assert not leaked, f"{running.name}: {len(leaked)} submitted secrets found in the server log"
