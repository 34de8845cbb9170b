"""Dump and restore an example's database with the commands docs/deployment.md gives.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` into a fresh database.
MariaDB: ``mariadb-dump --single-transaction`` and the ``mariadb`` client into a fresh
database. The password, if any, travels in the environment (``PGPASSWORD``,
``MYSQL_PWD``), never on a command line.

A dump tool older than the server is refused here: ``pg_dump`` cannot dump a server of a
newer major version, and an older ``mariadb-dump`` may not know what a newer server holds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from tests._services import unavailable

_TIMEOUT = 120

#: The options of each command, as docs/deployment.md#backups-and-restores gives them.
PG_DUMP_OPTIONS = ("--format=custom", "--no-owner", "--no-privileges")
PG_RESTORE_OPTIONS = ("--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction")
MARIADB_DUMP_OPTIONS = (
    "--single-transaction",
    "--quick",
    "--routines",
    "--hex-blob",
    "--default-character-set=utf8mb4",
)
MARIADB_OPTIONS = ("--default-character-set=utf8mb4",)


def tool(name: str) -> str:
    """A client tool's path; without it, skip (fail under ``BACKENDKIT_REQUIRE_SERVICES``)."""
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed (the database's client tools)")
        raise AssertionError("unreachable")  # pragma: no cover - skip/fail raised
    return path


def postgres_major(version_text: str) -> int:
    """The major version in ``pg_dump --version`` or ``SHOW server_version`` output."""
    # "pg_dump (PostgreSQL) 15.20 (Debian ...)", "15.20 (Debian ...)", "18beta1": the first
    # number is the major version (since PostgreSQL 10).
    match = re.search(r"\d+", version_text)
    if match is None:
        raise ValueError(f"no version in {version_text!r}")
    return int(match.group(0))


def mariadb_release(version_text: str) -> tuple[int, int]:
    """``(major, minor)`` of a MariaDB server (``10.11.19-MariaDB-...``) or of its
    ``mariadb-dump --version`` (``... Distrib 10.11.19-MariaDB, ...``)."""
    distrib = re.search(r"Distrib (\d+)\.(\d+)", version_text)
    match = distrib or re.match(r"\s*(\d+)\.(\d+)", version_text)
    if match is None:
        raise ValueError(f"no version in {version_text!r}")
    return int(match.group(1)), int(match.group(2))


def older_tool_reason(tool_name: str, tool_version: object, server_version: object) -> str:
    """The skip reason when a dump tool is older than the server."""
    return (
        f"{tool_name} {tool_version} is older than the server ({server_version}): its dump "
        "would not be a faithful backup"
    )


def _run(argv: list[str], env: dict[str, str], what: str, stdin: BinaryIO | None = None) -> None:
    done = subprocess.run(
        argv, env={**os.environ, **env}, stdin=stdin, capture_output=True, timeout=_TIMEOUT
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace")[-4000:]
        raise AssertionError(f"{what} failed ({done.returncode}):\n{output}")


def _version(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True).stdout


class PostgresBackup:
    """``pg_dump`` / ``pg_restore`` for a database given by its SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = sa.make_url(url)

    def _libpq(self, database: str | None = None) -> tuple[str, dict[str, str]]:
        url = self.url.set(drivername="postgresql", password=None)
        if database is not None:
            url = url.set(database=database)
        env = {"PGPASSWORD": self.url.password} if self.url.password else {}
        return url.render_as_string(hide_password=False), env

    def older_tool(self) -> str | None:
        """A skip reason when ``pg_dump`` is of an older major version than the server."""
        dump_version = _version([tool("pg_dump"), "--version"])
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                server_version = str(conn.exec_driver_sql("SHOW server_version").scalar_one())
        finally:
            engine.dispose()
        if postgres_major(dump_version) < postgres_major(server_version):
            return older_tool_reason("pg_dump", dump_version.strip(), server_version)
        return None

    def dump(self, target: Path) -> None:
        """``pg_dump`` the database into ``target`` (custom format)."""
        conninfo, env = self._libpq()
        argv = [tool("pg_dump"), *PG_DUMP_OPTIONS, f"--file={target}", conninfo]
        _run(argv, env, "pg_dump")

    def restore(self, source: Path, database_url: str) -> None:
        """``pg_restore`` into the (empty) database of ``database_url``."""
        conninfo, env = self._libpq(sa.make_url(database_url).database)
        argv = [tool("pg_restore"), *PG_RESTORE_OPTIONS, f"--dbname={conninfo}", str(source)]
        _run(argv, env, "pg_restore")


class MariaDBBackup:
    """``mariadb-dump`` / ``mariadb`` for a database given by its SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = sa.make_url(url)

    def _client_args(self) -> tuple[list[str], dict[str, str]]:
        args = [f"--host={self.url.host or '127.0.0.1'}", f"--port={self.url.port or 3306}"]
        if self.url.username:
            args.append(f"--user={self.url.username}")
        env = {"MYSQL_PWD": self.url.password} if self.url.password else {}
        return args, env

    def older_tool(self) -> str | None:
        """A skip reason when ``mariadb-dump`` is of an older release than the server."""
        dump_version = _version([tool("mariadb-dump"), "--version"])
        engine = sa.create_engine(self.url.set(drivername="mysql+pymysql"))
        try:
            with engine.connect() as conn:
                server_version = str(conn.exec_driver_sql("SELECT VERSION()").scalar_one())
        finally:
            engine.dispose()
        if mariadb_release(dump_version) < mariadb_release(server_version):
            return older_tool_reason("mariadb-dump", dump_version.strip(), server_version)
        return None

    def dump(self, target: Path) -> None:
        """``mariadb-dump`` the database into ``target`` (SQL)."""
        args, env = self._client_args()
        argv = [tool("mariadb-dump"), *args, *MARIADB_DUMP_OPTIONS, f"--result-file={target}"]
        _run([*argv, str(self.url.database)], env, "mariadb-dump")

    def restore(self, source: Path, database_url: str) -> None:
        """``mariadb <database> < dump.sql`` into the (empty) database of ``database_url``."""
        args, env = self._client_args()
        argv = [tool("mariadb"), *args, *MARIADB_OPTIONS]
        with source.open("rb") as dump:
            _run([*argv, str(sa.make_url(database_url).database)], env, "restore", dump)


def backup_tools(url: str) -> PostgresBackup | MariaDBBackup:
    """The dump and restore commands of the database ``url`` points at."""
    backend = sa.make_url(url).get_backend_name()
    return PostgresBackup(url) if backend == "postgresql" else MariaDBBackup(url)
