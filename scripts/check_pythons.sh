#!/usr/bin/env bash
# Check, before any suite runs, that the other Pythons `make test` needs are here:
#   scripts/check_pythons.sh VERSION=PATH...      e.g. "3.10=$(PY310)" "3.13=$(PY313)"
# Each PATH must run and report VERSION, and be able to create a virtual environment.
# Missing ones stop the run at once with how to get them, rather than after the whole main
# suite. Outside CI, SKIP_OTHER_PYTHONS=1 skips those legs instead (exit 0, with a note);
# in CI (CI=true from the runner, or BACKENDKIT_REQUIRE_SERVICES=1 from .ci/run) nothing is
# skipped and a missing interpreter fails.
# Exit status: 0 all present (or skipped), 1 something missing, 2 usage error.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 VERSION=PATH..." >&2
    exit 2
fi

in_ci=0
case "${CI:-}" in
    1 | true | TRUE | True | yes) in_ci=1 ;;
esac
if [ "${BACKENDKIT_REQUIRE_SERVICES:-}" = 1 ]; then
    in_ci=1
fi

versions=()
for pair in "$@"; do
    versions+=("${pair%%=*}")
done
wanted=$(printf '%s and ' "${versions[@]}")
wanted="Python ${wanted% and }"

if [ "${SKIP_OTHER_PYTHONS:-}" = 1 ]; then
    if [ "$in_ci" = 1 ]; then
        echo "error: SKIP_OTHER_PYTHONS=1 is not allowed in CI: every leg runs there" >&2
        exit 1
    fi
    echo "note: SKIP_OTHER_PYTHONS=1: the unit suite will not run on $wanted here (CI runs it)"
    exit 0
fi

problems=()
missing=()
for pair in "$@"; do
    version="${pair%%=*}"
    path="${pair#*=}"
    if [ "$pair" = "$version" ] || [ -z "$version" ]; then
        echo "usage: $0 VERSION=PATH... (got '$pair')" >&2
        exit 2
    fi
    var="PY${version//./}"
    missing+=("$version")  # until proven present below
    if [ -z "$path" ]; then
        problems+=("Python $version: not found ($var is empty: no ~/.pyenv/versions/$version.*/bin/python, no python$version on PATH)")
        continue
    fi
    # Run it rather than test -x: a pyenv shim exists even for a version it cannot run.
    if ! found=$("$path" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); then
        problems+=("Python $version: $var=$path does not run")
        continue
    fi
    if [ "$found" != "$version" ]; then
        problems+=("Python $version: $var=$path is Python $found")
        continue
    fi
    # Debian and Ubuntu ship venv's pip bootstrap separately (python3.X-venv).
    if ! "$path" -c 'import ensurepip, venv' 2>/dev/null; then
        problems+=("Python $version: $var=$path cannot create virtual environments (on Debian or Ubuntu: apt install python$version-venv)")
        continue
    fi
    unset 'missing[${#missing[@]}-1]'
done

if [ ${#problems[@]} -eq 0 ]; then
    exit 0
fi

{
    if [ "$in_ci" = 1 ]; then
        echo "error (CI): make test runs the unit suite on $wanted too, and this machine lacks:"
    else
        echo "error: make test runs the unit suite on $wanted too, and this machine lacks:"
    fi
    printf '  - %s\n' "${problems[@]}"
    echo "Nothing has run yet. To get them:"
    echo "  pyenv install ${missing[*]}      (https://github.com/pyenv/pyenv; make finds ~/.pyenv/versions)"
    echo "  or your distribution's packages: python3.X and python3.X-venv (Ubuntu: the deadsnakes PPA)"
    echo "  or name existing ones: make test PY310=/path/to/python3.10 PY313=/path/to/python3.13"
    if [ "$in_ci" = 0 ]; then
        echo "Or skip those legs on this machine (CI still runs them): make test SKIP_OTHER_PYTHONS=1"
        echo "For the inner loop, make unit runs the unit suite on the main Python alone."
    fi
} >&2
exit 1
