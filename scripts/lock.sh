#!/usr/bin/env bash
# Resolve '.[dev]' afresh with PYTHON and write the pins to OUT: scripts/lock.sh PYTHON OUT
set -euo pipefail
python="$1"
out="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --upgrade pip
"$tmp/venv/bin/python" -m pip install --quiet -e '.[dev]'
"$tmp/venv/bin/python" -m pip freeze --exclude-editable | grep -v '^backendkit' > "$out"
echo "wrote $out"
