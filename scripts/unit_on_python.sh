#!/usr/bin/env bash
# Run the unit suite on another Python or other pins:
#   scripts/unit_on_python.sh PYTHON VENV_DIR [CONSTRAINTS [PYTEST_ARGS...]]
# The venv is (re)built from pyproject.toml + the constraints when either changes. Without
# CONSTRAINTS: constraints-pyXY.txt for that Python if present, else constraints.txt.
# Without PYTEST_ARGS: -W error tests/unit.
set -euo pipefail
if [ $# -lt 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
    # An empty PYTHON is a Python make could not find (PY310/PY313): say so, not "unbound
    # variable". `make check-pythons` names what is missing and how to get it.
    echo "usage: $0 PYTHON VENV_DIR [CONSTRAINTS [PYTEST_ARGS...]] (PYTHON missing or empty;" \
        "run 'make check-pythons')" >&2
    exit 2
fi
python="$1"
venv="$2"
shift 2
if [ ! -x "$python" ]; then
    echo "error: $python not found (install that Python, e.g. with pyenv)" >&2
    exit 1
fi
# Pins are per Python where the newest releases dropped an old Python (constraints-py310.txt).
ver=$("$python" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')
constraints=constraints.txt
if [ -f "constraints-py$ver.txt" ]; then
    constraints="constraints-py$ver.txt"
fi
if [ $# -gt 0 ]; then
    constraints="$1"
    shift
fi
if [ $# -eq 0 ]; then
    set -- -W error tests/unit
fi
stamp="$venv/.installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$constraints" -nt "$stamp" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -c "$constraints" -e '.[dev]'
    touch "$stamp"
fi
echo "== tests on $("$venv/bin/python" --version) with $constraints: $*"
"$venv/bin/python" -m pytest -p no:cacheprovider -q "$@"
