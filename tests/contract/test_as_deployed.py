"""The example apps as deployed: the commands of examples/README.md, no test-only settings.

The rest of the contract suite runs the apps with settings only tests use (trusted proxies
so each test can pick its client address, a fast password hasher). Here each app runs the
way an operator following ``examples/README.md`` would run it: the command lines are read
out of the README's "Starting each app" block and run through bash, with only the host
(127.0.0.1 for 0.0.0.0), the port (``$PORT``, which the commands read) and the worker count
(one: the README's own advice without ``BACKENDKIT_REDIS_URL``) changed. The environment is
what the README requires in production and nothing else: ``BACKENDKIT_ENV=production``,
the two secrets (and issuer and audience if the README lists them), embedded defaults (the
default SQLite file, in-memory limiter and token store), real bcrypt at cost 12. The
server runs in a scratch directory (the default SQLite file lands there) with
``PYTHONPATH`` pointing at the repository, which stands for "run these from the repository
root" (and so does the absolute path given to ``alembic -c``).

Each test reaches the server from its own loopback address (127.0.0.x as the TCP source),
so the per-address limits of one test never touch another's; the spoofed addresses travel
in ``X-Forwarded-For``, which must change nothing.

What is asserted (security review, issue 13):

- finding 1: a spoofed ``X-Forwarded-For`` does not escape the login limits, and the server
  log never says ``client_address_rewritten``; the twin, uvicorn without
  ``--no-proxy-headers``, believes the spoof and the warning says so;
- finding 6: the rate-limit headers of a login describe the most restrictive of the rules
  it charged (per account, per address), so the 429 that ends a run of tries is announced.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.contract._api import check_response
from tests.contract._servers import APPS, HASH_PATTERN, REPO, RunningServer, free_port

README = REPO / "examples" / "README.md"
LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
REWRITTEN = "client_address_rewritten"
NO_PROXY_HEADERS = "--no-proxy-headers"

#: The login rules of the examples (examples/_shared/config.py, documented in the README).
PER_ADDRESS, PER_ACCOUNT = 10, 5

# Each test of one app has a loopback source address of its own (the server binds 127.0.0.1;
# Linux routes all of 127.0.0.0/8 to the loopback interface).
ADDRESS_FINDING_1 = "127.0.0.1"
ADDRESS_PER_ACCOUNT = "127.0.0.2"
ADDRESS_PER_ADDRESS = "127.0.0.3"

pytestmark = pytest.mark.timeout(180)


# -- the documented commands ---------------------------------------------------------------


def _start_block() -> list[str]:
    """The command lines of the README's "Starting each app under a real server" block."""
    text = README.read_text()
    section = text.split("## Starting each app under a real server", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match is not None, "examples/README.md: no bash block under 'Starting each app'"
    return [
        line.strip()
        for line in match.group(1).splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def documented_commands(app: str) -> list[str]:
    """The README's command lines for ``app``, in order: the migrations, then the server."""
    lines = _start_block()

    def only(predicate: Any) -> str:
        found = [line for line in lines if predicate(line)]
        assert len(found) == 1, f"examples/README.md: expected one such command, got {found}"
        return found[0]

    if app == "fastapi":
        return [
            only(lambda line: line.startswith("alembic ") and "fastapi_app/" in line),
            only(lambda line: line.startswith("uvicorn ")),
        ]
    if app == "flask":
        return [
            only(lambda line: line.startswith("alembic ") and "flask_app/" in line),
            only(lambda line: line.startswith("gunicorn ") and "flask_app" in line),
        ]
    if app == "django":
        return [
            only(lambda line: "django_app.manage migrate" in line),
            only(lambda line: line.startswith("gunicorn ") and "django_app" in line),
        ]
    raise ValueError(app)


def _substitute(line: str) -> str:
    """Bind 127.0.0.1 instead of 0.0.0.0 and run one worker; alembic's ``-c`` path, relative
    to the repository root, made absolute (the commands run in a scratch directory);
    nothing else changes."""
    if line.startswith("alembic "):
        line, paths = re.subn(r" -c (examples/\S+)", rf" -c {REPO}/\1", line)
        assert paths == 1, f"cannot find the configuration file in {line!r}"
        return line
    if not line.startswith(("uvicorn ", "gunicorn ")):
        return line
    line, hosts = re.subn(r"\b0\.0\.0\.0\b", "127.0.0.1", line)
    line, workers = re.subn(r"(--workers|-w) \d+", r"\1 1", line)
    # The README changed shape: look at the new commands before loosening this.
    assert (hosts, workers) == (1, 1), f"cannot substitute host and workers in {line!r}"
    assert "${PORT:-8000}" in line, f"the command no longer reads $PORT: {line!r}"
    return line


def deployed_env(port: int) -> dict[str, str]:
    """What the README asks for in production, over a copy of ours without any settings."""
    # Nothing of ours that a server would read: backendkit's settings, pytest's, Django's
    # settings module, uvicorn's own FORWARDED_ALLOW_IPS, a PORT of the caller.
    dropped = ("BACKENDKIT_", "PYTEST", "DJANGO_SETTINGS_MODULE", "FORWARDED_ALLOW_IPS", "PORT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        {
            # The venv's uvicorn, gunicorn and python, as an activated virtualenv would have.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONPATH": str(REPO),  # "run these from the repository root"
            "PYTHONUNBUFFERED": "1",  # the log file is read while the server runs
            "PORT": str(port),
            "BACKENDKIT_ENV": "production",
            "BACKENDKIT_SECRET_KEY": secrets.token_urlsafe(32),
            "BACKENDKIT_JWT_SECRET": secrets.token_urlsafe(48),
        }
    )
    readme = README.read_text()
    if "BACKENDKIT_JWT_ISSUER" in readme:
        env["BACKENDKIT_JWT_ISSUER"] = "https://auth.as-deployed.example"
    if "BACKENDKIT_JWT_AUDIENCE" in readme:
        env["BACKENDKIT_JWT_AUDIENCE"] = "as-deployed-api"
    return env


@contextlib.contextmanager
def deployed_server(
    app: str, workdir: Path, *, without: str | None = None
) -> Iterator[RunningServer]:
    """``app`` started with the README's commands (``without``: drop that option first)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = deployed_env(port)
    *setup, serve = (_substitute(line) for line in documented_commands(app))
    if without is not None:
        assert f" {without}" in serve, f"{without} is not in the documented command"
        serve = serve.replace(f" {without}", "")
    for line in setup:
        done = _bash(line, env, workdir)
        assert done.returncode == 0, f"{line!r} failed:\n{done.stdout[-4000:]}"
    running = RunningServer(
        app=app,
        backend="as-deployed",
        url=f"http://127.0.0.1:{port}",
        workers=1,
        env=env,
        log_path=workdir / "server.log",
        admin_email="",
        admin_password="",
        command=["bash", "-c", serve],
        cwd=workdir,
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
    _assert_log_holds_no_secrets(running)


def _bash(line: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _assert_log_holds_no_secrets(running: RunningServer) -> None:
    text = running.log_text()
    assert "request_completed" in text, "the server log was not captured"
    assert HASH_PATTERN.search(text) is None, f"{running.name}: a password hash in the log"
    leaked = [s for s in running.secrets.all() if s in text]
    assert not leaked, f"{running.name}: {len(leaked)} submitted secrets found in the server log"


def log_events(running: RunningServer, event: str) -> list[dict[str, Any]]:
    """The server's JSON log records of ``event``."""
    found = []
    for line in running.log_text().splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and record.get("event") == event:
                found.append(record)
    return found


# -- a client with a real source address -----------------------------------------------------


@dataclass
class Account:
    """A registered user."""

    email: str
    password: str


class Client:
    """Requests from one loopback source address; every response checked like the suite's."""

    def __init__(self, server: RunningServer, source: str) -> None:
        self.server = server
        self.http = httpx.Client(
            base_url=server.url,
            transport=httpx.HTTPTransport(local_address=source),
            timeout=30.0,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def post(self, path: str, body: dict[str, str], *, spoof: str | None = None) -> httpx.Response:
        """POST ``body`` as JSON; ``spoof`` goes out as ``X-Forwarded-For``."""
        headers = {"X-Forwarded-For": spoof} if spoof else {}
        password = body.get("password")
        if password:
            self.server.secrets.passwords.add(password)
        response = self.http.post(path, json=body, headers=headers)
        check_response(response, {password} if password else set(), self.server.secrets.passwords)
        if response.status_code == 200:
            for name in ("accessToken", "refreshToken"):
                self.server.secrets.tokens.add(response.json()["data"][name])
        return response

    def register(self) -> Account:
        """A new account (bcrypt at cost 12: one hash)."""
        account = Account(f"user-{secrets.token_hex(6)}@example.com", secrets.token_urlsafe(16))
        body = {"email": account.email, "password": account.password, "name": "Deployed"}
        response = self.post(REGISTER, body)
        assert response.status_code == 201, response.text
        return account

    def login(self, email: str, password: str, *, spoof: str | None = None) -> httpx.Response:
        """One login attempt."""
        return self.post(LOGIN, {"email": email, "password": password}, spoof=spoof)


def limit_of(response: httpx.Response) -> tuple[int, int]:
    """``(RateLimit-Limit, RateLimit-Remaining)`` of a response."""
    return int(response.headers["ratelimit-limit"]), int(response.headers["ratelimit-remaining"])


def clear_of_a_minute_boundary(seconds: float) -> None:
    """Wait for the next minute if fewer than ``seconds`` are left in this one.

    The per-address rule counts in minute windows (sliding-window counter on the server's
    clock, this machine's). Hits made before a boundary go on counting after it, decaying:
    k of them weigh k * (1 - e/60) at e seconds past it, so once k * e reaches 60 one try
    is forgotten and ``Remaining`` is one more than the tries made. Eleven tries take a few
    seconds; starting with ``seconds`` left keeps them all in one window.
    """
    left = 60.0 - time.time() % 60.0
    if left < seconds:
        time.sleep(left + 0.2)


# -- the apps ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=APPS)
def deployed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """One example app, started as examples/README.md says (see the module docstring)."""
    app: str = request.param
    with deployed_server(app, tmp_path_factory.mktemp(f"{app}-as-deployed")) as running:
        yield running


def test_the_documented_commands_are_what_runs() -> None:
    """The commands come from the README, and the fixes of finding 1 are in them."""
    migrate, uvicorn = documented_commands("fastapi")
    assert migrate == "alembic -c examples/fastapi_app/alembic.ini upgrade head"
    assert shlex.split(uvicorn)[:3] == [
        "uvicorn",
        "--factory",
        "examples.fastapi_app.main:create_app",
    ]
    # backendkit alone decides the client address: uvicorn must not rewrite it.
    assert NO_PROXY_HEADERS in shlex.split(uvicorn)
    migrate, gunicorn = documented_commands("flask")
    assert migrate == "alembic -c examples/flask_app/alembic.ini upgrade head"
    assert gunicorn.startswith("gunicorn ")
    assert documented_commands("django")[0] == "python -m examples.django_app.manage migrate"
    # Each example's page repeats its commands: word for word.
    for app in APPS:
        page = (REPO / "docs" / "examples" / f"{app}.md").read_text()
        shown = [line.strip() for line in page.splitlines()]
        for command in documented_commands(app):
            assert command in shown, f"docs/examples/{app}.md differs from examples/README.md"


def _uvicorn_commands() -> list[tuple[str, str]]:
    """Every uvicorn command line in the docs, the READMEs and the examples' docstrings."""
    files = [
        REPO / "README.md",
        README,
        *sorted((REPO / "docs").rglob("*.md")),
        *sorted((REPO / "docs" / "snippets").glob("*.py")),
        *sorted((REPO / "examples").rglob("*.py")),
    ]
    found = []
    for path in files:
        for line in path.read_text().splitlines():
            if re.search(r"(^|[\s=`])uvicorn --", line):
                found.append((str(path.relative_to(REPO)), line.strip()))
    return found


def test_every_documented_uvicorn_command_leaves_the_address_to_backendkit() -> None:
    """Each uvicorn command turns proxy headers off or trusts BACKENDKIT_TRUSTED_PROXIES."""
    commands = _uvicorn_commands()
    assert len(commands) >= 5, commands  # the scan still finds the commands
    wrong = [
        (where, line)
        for where, line in commands
        if NO_PROXY_HEADERS not in line
        and '--forwarded-allow-ips "$BACKENDKIT_TRUSTED_PROXIES"' not in line
        # The factory named in a module docstring, not a command to run.
        and not line.endswith('create_app``."""')
    ]
    assert not wrong


def test_spoofed_forwarded_for_does_not_escape_the_login_limits(deployed: RunningServer) -> None:
    """Finding 1: each wrong password from a new spoofed address still counts for the account.

    From 127.0.0.1, as any process on the server's host (a plain ``proxy_pass``) would
    connect: 5 wrong passwords are 401, the 6th try is 429, and then the right password is
    429 too, not 200. Seven logins, well inside the 10 per minute of the address.
    """
    with Client(deployed, ADDRESS_FINDING_1) as client:
        account = client.register()
        statuses = [
            client.login(
                account.email, "wrong-" + secrets.token_hex(4), spoof=f"198.51.100.{i}"
            ).status_code
            for i in range(1, PER_ACCOUNT + 2)
        ]
        right = client.login(account.email, account.password, spoof="198.51.100.99")
    assert statuses == [401] * PER_ACCOUNT + [429]
    assert right.status_code == 429, "the spoofed address opened a fresh per-account budget"
    # The server handed backendkit the TCP peer: nothing was rewritten, nothing to warn about.
    assert REWRITTEN not in deployed.log_text()


def test_login_headers_show_the_per_account_rule(deployed: RunningServer) -> None:
    """Finding 6: after k wrong passwords on one account, the headers are those of 5/15 min.

    The per-address rule (10/minute) has more left all along, so the per-account rule is
    the most restrictive: Limit 5, Remaining 5 - k, and the 429 after the 5th is its own.
    """
    with Client(deployed, ADDRESS_PER_ACCOUNT) as client:
        account = client.register()
        responses = [
            client.login(account.email, "wrong-" + secrets.token_hex(4))
            for _ in range(PER_ACCOUNT + 1)
        ]
    assert [r.status_code for r in responses] == [401] * PER_ACCOUNT + [429]
    seen = [limit_of(r) for r in responses]
    expected = [(PER_ACCOUNT, PER_ACCOUNT - k) for k in range(1, PER_ACCOUNT + 1)]
    assert seen == [*expected, (PER_ACCOUNT, 0)]


def test_login_headers_announce_the_per_address_limit(deployed: RunningServer) -> None:
    """Finding 6: tries on ever new emails run the per-address budget down, visibly.

    Each email's own rule has 4 left after its one try; the address's 10/minute has
    10 - i left after i tries. The headers show whichever has less (on the tie at i = 6
    either rule is right), so from the 7th try on they show the 10/minute rule counting
    down to 0, and the 11th try is a 429 of that rule: announced, not a surprise.
    """
    clear_of_a_minute_boundary(12.0)
    with Client(deployed, ADDRESS_PER_ADDRESS) as client:
        responses = [
            client.login(f"nobody-{secrets.token_hex(6)}@example.com", "wrong-password")
            for _ in range(PER_ADDRESS + 1)
        ]
    statuses = [r.status_code for r in responses]
    assert statuses == [401] * PER_ADDRESS + [429]
    per_account_left = PER_ACCOUNT - 1
    for i, response in enumerate(responses[:PER_ADDRESS], start=1):
        per_address_left = PER_ADDRESS - i
        limit, remaining = limit_of(response)
        assert remaining == min(per_address_left, per_account_left), f"try {i}"
        if per_address_left < per_account_left:
            assert limit == PER_ADDRESS, f"try {i}: the per-address rule is the one running out"
        elif per_address_left > per_account_left:
            assert limit == PER_ACCOUNT, f"try {i}"
        else:
            assert limit in (PER_ADDRESS, PER_ACCOUNT), f"try {i}"
    assert limit_of(responses[PER_ADDRESS - 1]) == (PER_ADDRESS, 0)
    denied = responses[-1]
    assert limit_of(denied) == (PER_ADDRESS, 0), "the 429 names the rule that denied it"
    # A sliding-window counter may ask for a little more than the window.
    assert 1 <= int(denied.headers["retry-after"]) <= 2 * 60


def test_uvicorn_with_proxy_headers_believes_the_spoof_and_the_warning_says_so(
    tmp_path: Path,
) -> None:
    """The twin of finding 1: the documented uvicorn command less ``--no-proxy-headers``.

    uvicorn then trusts ``X-Forwarded-For`` from 127.0.0.1 and hands backendkit the spoofed
    address: every wrong password opens a new per-account budget, and the right one gets
    in. That is the attack the fix stops; here it shows that the test above can fail, and
    that backendkit notices: one ``client_address_rewritten`` warning, naming the peer.
    """
    with deployed_server("fastapi", tmp_path, without=NO_PROXY_HEADERS) as running:
        with Client(running, ADDRESS_FINDING_1) as client:
            account = client.register()
            statuses = [
                client.login(account.email, "wrong-password", spoof=f"198.51.100.{i}").status_code
                for i in range(1, PER_ACCOUNT + 2)
            ]
            right = client.login(account.email, account.password, spoof="198.51.100.99")
        assert statuses == [401] * (PER_ACCOUNT + 1)
        assert right.status_code == 200
        [warning] = log_events(running, REWRITTEN)
    assert warning["level"] == "warning"
    assert warning["peer"] == "198.51.100.1"
    assert NO_PROXY_HEADERS in warning["hint"]
    assert "BACKENDKIT_TRUSTED_PROXIES" in warning["hint"]
