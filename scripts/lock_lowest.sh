#!/usr/bin/env bash
# Pin the lowest versions pyproject.toml allows for backendkit's runtime dependencies:
#   scripts/lock_lowest.sh [PYTHON] [OUT]   (default: python3, constraints-lowest.txt)
# Every ">=X" floor of the dependencies and runtime extras becomes "==X"; everything else
# (test tools included) resolves freely once and is pinned as resolved.
set -euo pipefail
python="${1:-python3}"
out="${2:-constraints-lowest.txt}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" - >"$work/floors.txt" <<'PY'
import re
import tomllib

with open("pyproject.toml", "rb") as file:
    project = tomllib.load(file)["project"]
requirements = list(project["dependencies"])
for extra, items in project["optional-dependencies"].items():
    if extra != "dev":
        requirements += items
for requirement in requirements:
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?>=([0-9][^,;\s]*)", requirement.strip())
    if match and match.group(1) != "backendkit":
        print(f"{match.group(1)}=={match.group(3)}")
PY
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet -c "$work/floors.txt" -e '.[dev]'
{
    echo "# The lowest versions pyproject.toml allows for backendkit's runtime dependencies,"
    echo "# resolved once and pinned (test tools as that resolution chose them). make test-lowest"
    echo "# runs the unit and adapter suites against them. Refresh: scripts/lock_lowest.sh"
    "$work/venv/bin/python" -m pip freeze --exclude-editable | grep -iv '^backendkit'
} >"$out"
echo "wrote $out"
