"""Every uvicorn command the docs show logs once per request and leaves the address to us.

backendkit logs one ``request_completed`` line per request, so uvicorn's access log would
double every line (``--no-access-log``); and backendkit alone decides the client address,
so uvicorn must not rewrite it (``--no-proxy-headers``, or ``--forwarded-allow-ips`` with
the same list as ``BACKENDKIT_TRUSTED_PROXIES``). The contract suite runs the examples
README's command verbatim (tests/contract/test_as_deployed.py); this holds every other
copy - quickstart, integrations, deployment, tutorial, snippets' docstrings - to the same.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# "uvicorn" then an option or a module:attribute app: a command, not prose about uvicorn.
_COMMAND = re.compile(r"(?:^|[\s=`$(])(?:python -m )?uvicorn\s+(?:--|[\w.]+:\w)")
TRUSTED = '--forwarded-allow-ips "$BACKENDKIT_TRUSTED_PROXIES"'


def _files() -> list[Path]:
    return [
        ROOT / "README.md",
        ROOT / "examples" / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
        *sorted((ROOT / "docs" / "snippets").glob("*.py")),
        *sorted((ROOT / "examples").rglob("*.py")),
    ]


def uvicorn_commands() -> list[tuple[str, str]]:
    """``(file, line)`` for every line of the docs and examples that runs uvicorn."""
    found = []
    for path in _files():
        for line in path.read_text().splitlines():
            if _COMMAND.search(line):
                found.append((str(path.relative_to(ROOT)), line.strip()))
    return found


def _is_factory_reference(line: str) -> bool:
    # A module docstring naming the factory uvicorn calls (examples/fastapi_app/main.py),
    # in ``double backticks``: a pointer to the documented command, not one to run.
    return line.endswith('create_app``."""')


COMMANDS = [
    pytest.param(where, line, id=f"{where}:{line[:60]}")
    for where, line in uvicorn_commands()
    if not _is_factory_reference(line)
]


def test_the_scan_finds_the_commands() -> None:
    """The scan still sees the commands (the quickstart, the integration page, deployment,
    the tutorial, the examples README and its page), so the checks below cannot pass empty."""
    where = {path for path, _ in uvicorn_commands()}
    assert {
        "docs/snippets/quickstart_fastapi.py",
        "docs/integrations/fastapi.md",
        "docs/deployment.md",
        "docs/tutorial.md",
        "examples/README.md",
        "docs/examples/fastapi.md",
    } <= where
    assert len(COMMANDS) >= 8


@pytest.mark.parametrize(("where", "line"), COMMANDS)
def test_every_uvicorn_command_logs_once_and_leaves_the_address_to_backendkit(
    where: str, line: str
) -> None:
    """``--no-access-log`` and (``--no-proxy-headers`` or the trusted-proxies form)."""
    words = shlex.split(line.split("uvicorn", 1)[1].split("``")[0].split("`")[0])
    assert "--no-access-log" in words, f"{where}: {line}"
    assert "--no-proxy-headers" in words or TRUSTED in line, f"{where}: {line}"


def test_the_check_refuses_a_command_without_the_flags() -> None:
    """Valid twin of the check itself: the bare quickstart command would be caught."""
    bare = "BACKENDKIT_ENV=development uvicorn --factory notes:create_app"
    assert _COMMAND.search(bare)
    words = shlex.split(bare.split("uvicorn", 1)[1])
    assert "--no-access-log" not in words
    assert "--no-proxy-headers" not in words
