"""Backups that restore: dump an example's database after the contract scenarios, restore it
into a fresh database, and run the read scenarios against the restored copy.

The copy is served by a second instance of the same app on a fresh Redis key prefix, so
every read comes from the restored database, not from the first instance's cache. It runs
on the PostgreSQL and MariaDB legs, after the other scenarios (collected late on purpose)
and before the Redis outage of ``test_zz_redis_outage``.

A dump tool older than the server is a plain skip with its reason, also under
``BACKENDKIT_REQUIRE_SERVICES=1``: that variable turns an absent service (or an absent
client tool) into a failure, while an old tool is present and working, just unable to make
a faithful dump of a newer server; nothing a test run can start would fix it.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests._services import DEFAULT_MYSQL_URL, DEFAULT_POSTGRES_URL, ServiceProbe
from tests.contract._api import Account, Api
from tests.contract._backup import (
    MARIADB_DUMP_OPTIONS,
    MARIADB_OPTIONS,
    PG_DUMP_OPTIONS,
    PG_RESTORE_OPTIONS,
    backup_tools,
    mariadb_release,
    postgres_major,
)
from tests.contract._servers import (
    REPO,
    RunningServer,
    example_server,
    mariadb_database,
    postgres_database,
)

pytestmark = pytest.mark.contract_only(backend=("services", "mariadb"))

USERS = "/api/v1/users"
_POSTGRES = ServiceProbe("PostgreSQL", "BACKENDKIT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL, 5432)
_MYSQL = ServiceProbe("MariaDB/MySQL", "BACKENDKIT_TEST_MYSQL_URL", DEFAULT_MYSQL_URL, 3306)


def _fresh_database(backend: str, name: str) -> contextlib.AbstractContextManager[str]:
    if backend == "services":
        return postgres_database(_POSTGRES.require(), name)
    return mariadb_database(_MYSQL.require(), name)


def _reads(api: Api, reader: Account, marker: str, cohort: list[Account]) -> dict[str, Any]:
    """The read scenarios: me, each user by id, a filtered page, a cursor page, the total."""
    token = reader.access
    page = api.get(USERS, token=token, params={"q": marker, "perPage": "10", "sort": "name"})
    cursor_query = {"q": marker, "perPage": "2", "sort": "-createdAt,name", "cursor": ""}
    cursor_page = api.get(USERS, token=token, params=cursor_query).json()
    total = api.get(USERS, token=token, params={"perPage": "1"}).json()["pagination"]["total"]
    by_id = {}
    for account in cohort:
        response = api.get(f"{USERS}/{account.id}", token=token)
        by_id[account.id] = (response.status_code, response.json().get("data"))
    return {
        "me": api.get(f"{USERS}/me", token=token).json()["data"],
        "page": page.json(),
        # Cursors are signed with each instance's own secret: compare what they point at.
        "cursor_page": (cursor_page["data"], cursor_page["pagination"]["hasNext"]),
        "total": total,
        "by_id": by_id,
    }


@contextlib.contextmanager
def _restored_instance(server: RunningServer, workdir: Path) -> Iterator[RunningServer]:
    """Dump the server's database, restore it into a fresh one, serve that with the same app."""
    tools = backup_tools(server.env["BACKENDKIT_DATABASE_URL"])
    reason = tools.older_tool()
    if reason is not None:
        pytest.skip(reason)
    dump = workdir / "backup.dump"
    tools.dump(dump)
    tag = secrets.token_hex(4)
    with _fresh_database(server.backend, f"bkr_{server.app}_{tag}") as restored_url:
        tools.restore(dump, restored_url)
        extra = {
            "BACKENDKIT_DATABASE_URL": restored_url,
            "BACKENDKIT_REDIS_URL": server.env["BACKENDKIT_REDIS_URL"],
            "BACKENDKIT_REDIS_KEY_PREFIX": f"bkr:{tag}:",  # nothing cached for this copy
            # The restored admin, so the bootstrap finds it instead of adding a user.
            "BACKENDKIT_BOOTSTRAP_ADMIN": f"{server.admin_email}:{server.admin_password}",
        }
        with example_server(
            server.app, f"{server.backend}-restored", workdir=workdir, workers=1, extra_env=extra
        ) as restored:
            restored.secrets.passwords |= server.secrets.passwords | {server.admin_password}
            yield restored


def test_a_restored_backup_answers_the_read_scenarios(
    server: RunningServer, api: Api, tmp_path: Path
) -> None:
    """Users, an update and a delete survive dump and restore; reads on the copy are equal."""
    marker = "backup" + secrets.token_hex(4)
    cohort = [api.register(f"{marker} {index:02d}") for index in range(4)]
    reader, renamed, deleted = api.login(cohort[0]), api.login(cohort[1]), cohort[2]
    new_name = {"name": f"{marker} renamed"}
    changed = api.put(f"{USERS}/{renamed.id}", token=renamed.access, json_body=new_name)
    assert changed.status_code == 200
    assert api.delete(f"{USERS}/{deleted.id}", token=api.admin().access).status_code == 204
    before = _reads(api, reader, marker, cohort)
    assert before["by_id"][deleted.id][0] == 404
    assert [user["id"] for user in before["page"]["data"]] == [
        cohort[0].id,
        cohort[3].id,
        renamed.id,
    ]

    with _restored_instance(server, tmp_path) as restored, Api(restored) as copy:
        # Logging in checks the restored password hash.
        copy_reader = copy.login(Account(reader.id, reader.email, reader.password))
        assert _reads(copy, copy_reader, marker, cohort) == before
        refused = copy.post(
            "/api/v1/auth/login", json_body={"email": deleted.email, "password": deleted.password}
        )
        assert refused.status_code == 401
        # The copy takes writes: its id sequence was restored with the rows.
        newcomer = copy.register(f"{marker} new")
        assert newcomer.id > max(account.id for account in cohort)


@pytest.mark.parametrize(
    ("text", "major"),
    [
        ("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)", 15),
        ("15.20 (Debian 15.20-0+deb12u1)", 15),
        ("pg_dump (PostgreSQL) 17.2", 17),
        ("18beta1", 18),
    ],
)
def test_postgres_versions_are_read_by_major(text: str, major: int) -> None:
    """pg_dump's and the server's version strings give their major version."""
    assert postgres_major(text) == major


@pytest.mark.parametrize(
    ("text", "release"),
    [
        (
            "mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)",
            (10, 11),
        ),
        ("10.11.19-MariaDB-0+deb12u1", (10, 11)),
        ("11.4.2-MariaDB", (11, 4)),
    ],
)
def test_mariadb_versions_are_read_by_release(text: str, release: tuple[int, int]) -> None:
    """mariadb-dump's version is its Distrib release, not the tool's own Ver number."""
    assert mariadb_release(text) == release


def test_an_older_tool_is_told_apart_from_an_equal_or_newer_one() -> None:
    """10.11 dumping 11.4 is older (skip); 10.11 and 10.11, or PostgreSQL 16 on 15, are not."""
    assert mariadb_release("Distrib 10.11.19-MariaDB") < mariadb_release("11.4.2-MariaDB")
    assert not mariadb_release("Distrib 10.11.19-MariaDB") < mariadb_release("10.11.6-MariaDB")
    assert postgres_major("pg_dump (PostgreSQL) 15.20") < postgres_major("16.4")
    assert not postgres_major("pg_dump (PostgreSQL) 16.4") < postgres_major("15.20")
    with pytest.raises(ValueError, match="no version"):
        postgres_major("pg_dump")
    with pytest.raises(ValueError, match="no version"):
        mariadb_release("mariadb-dump")


def _documented_commands() -> dict[str, list[str]]:
    """The backup section's shell commands (continuation lines joined), by program."""
    text = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    section = text.split("## Backups and restores", 1)[1].split("\n## ", 1)[0]
    commands: dict[str, list[str]] = {}
    for block in section.split("```bash")[1:]:
        for command in block.split("```", 1)[0].replace("\\\n", " ").splitlines():
            if command.strip() and not command.startswith("#"):
                commands.setdefault(command.split()[0], []).append(command)
    return commands


def test_the_documented_commands_are_the_tested_ones() -> None:
    """docs/deployment.md's dump and restore commands carry the options this test uses."""
    commands = _documented_commands()
    expected = {
        "pg_dump": PG_DUMP_OPTIONS,
        "pg_restore": PG_RESTORE_OPTIONS,
        "mariadb-dump": MARIADB_DUMP_OPTIONS,
        "mariadb": MARIADB_OPTIONS,
    }
    for program, options in expected.items():
        assert program in commands, f"docs/deployment.md shows no {program} command"
        last = commands[program][-1].split()  # the restore, where the client appears twice
        assert set(options) <= set(last), (program, set(options) - set(last))
