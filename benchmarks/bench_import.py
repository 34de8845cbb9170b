"""Import time of backendkit against pydantic and structlog alone, with only the core installed.

Each case runs in a fresh interpreter that times its one statement (interpreter start-up
and ``site`` left out; ``-X importtime`` is not used because it does not see modules
imported through ``importlib``, which is how the lazy names load). The figure is the
process's CPU time, which other work on a shared machine disturbs far less than the wall
clock (an import reads files the page cache already holds); the wall-clock medians are
printed beside it. Rounds alternate between the cases (A, B, C, A, B, C, ...) after one
discarded warm-up run of each (it writes the bytecode caches); each case reports its
median with the quartiles, and a ratio whose quartiles overlap is flagged as noise.

- ``import backendkit``: the errors, the clock and logging; every other name on first use.
  Compared with ``import pydantic, structlog`` and with ``from pydantic import BaseModel``
  plus structlog.
- A module's usual imports (``ApiModel``, ``NotFound``, ``get_logger``, ``success`` and one
  model defined): compared with the same model on pydantic's ``BaseModel`` plus structlog.
  The first model built in a process also makes pydantic scan the installed packages for
  plugins, on both sides.
- Every top-level name touched: the whole core, against the same peer.

By default the interpreter is ``.venv-bench-core``, created here (or topped up) with only
backendkit's own dependencies at the versions pinned in constraints.txt: an environment
with more packages gives structlog more to import (rich, when it is installed) and so
changes both sides. ``--python`` runs another interpreter instead.

    python benchmarks/bench_import.py [--quick] [--json out.json] [--python PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORE_VENV = ROOT / ".venv-bench-core"
#: backendkit's dependencies (pyproject.toml), installed at constraints.txt's versions.
CORE_PACKAGES = ("pydantic", "structlog", "typing-extensions")
GOAL = 1.3  # bare import, at most this many times `import pydantic, structlog`


@dataclass(frozen=True)
class Case:
    """One statement timed in a fresh interpreter."""

    name: str
    statement: str


PEERS = (
    Case("pydantic + structlog", "import pydantic, structlog"),
    Case("BaseModel + structlog", "from pydantic import BaseModel\nimport structlog"),
    Case(
        "BaseModel model + structlog",
        "from pydantic import BaseModel\nimport structlog\nclass M(BaseModel):\n    x: int",
    ),
)
OURS = (
    Case("backendkit", "import backendkit"),
    Case(
        "backendkit usual imports",
        "from backendkit import ApiModel, NotFound, get_logger, success\n"
        "class M(ApiModel):\n    x: int",
    ),
    Case(
        "backendkit every name",
        "import backendkit\nfor name in backendkit.__all__:\n    getattr(backendkit, name)",
    ),
)

#: (group name, backendkit's case, the peers it is compared with, what the group shows).
GROUPS = (
    (
        "Bare import",
        "backendkit",
        ("pydantic + structlog", "BaseModel + structlog"),
        "`import backendkit` (the errors, the clock and logging; every other name is imported "
        "on first use) against importing its two dependencies.",
    ),
    (
        "A module's usual imports",
        "backendkit usual imports",
        ("BaseModel model + structlog",),
        "`ApiModel`, `NotFound`, `get_logger` and `success`, and one model defined, against "
        "one `BaseModel` model and structlog.",
    ),
    (
        "Every top-level name",
        "backendkit every name",
        ("BaseModel model + structlog",),
        "Every name of `backendkit.__all__` touched (the whole core imported) against one "
        "`BaseModel` model and structlog.",
    ),
)

_TIMER = """
import sys, time
cpu, wall = time.process_time(), time.perf_counter()
exec(compile(sys.argv[1], "<measured>", "exec"), {"__name__": "measured"})
print(time.process_time() - cpu, time.perf_counter() - wall)
"""


def ensure_core_venv() -> Path:
    """Create or top up ``.venv-bench-core`` (core dependencies only); return its Python."""
    python = CORE_VENV / "bin" / "python"
    constraints = ROOT / "constraints.txt"
    stamp = CORE_VENV / ".bench-requirements.sha256"
    digest = hashlib.sha256(constraints.read_bytes() + " ".join(CORE_PACKAGES).encode())
    if python.exists() and stamp.is_file() and stamp.read_text().strip() == digest.hexdigest():
        return python
    if not python.exists():
        base = Path(sys.base_prefix) / "bin" / "python3"
        subprocess.run([str(base), "-m", "venv", str(CORE_VENV)], check=True)
    install = [str(python), "-m", "pip", "install", "--quiet", "-c", str(constraints)]
    subprocess.run([*install, *CORE_PACKAGES], check=True)
    stamp.write_text(digest.hexdigest() + "\n")
    return python


def time_once(python: Path, case: Case) -> tuple[float, float]:
    """CPU and wall milliseconds of the statement in a fresh interpreter (backendkit from src/)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [str(python), "-c", _TIMER, case.statement],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{case.name} failed:\n{result.stderr}")
    cpu, wall = result.stdout.split()
    return float(cpu) * 1000, float(wall) * 1000


def measure(python: Path, cases: tuple[Case, ...], rounds: int) -> dict[str, dict[str, float]]:
    """Median and quartiles of each case over ``rounds`` interleaved rounds."""
    for case in cases:
        time_once(python, case)  # warm-up: bytecode caches written, discarded
    cpu: dict[str, list[float]] = {case.name: [] for case in cases}
    wall: dict[str, list[float]] = {case.name: [] for case in cases}
    for _ in range(rounds):
        for case in cases:
            cpu_ms, wall_ms = time_once(python, case)
            cpu[case.name].append(cpu_ms)
            wall[case.name].append(wall_ms)
    stats = {}
    for name, values in cpu.items():
        low, median, high = statistics.quantiles(values, n=4)
        stats[name] = {
            "median": round(median, 2),
            "p25": round(low, 2),
            "p75": round(high, 2),
            "wall_median": round(statistics.median(wall[name]), 2),
        }
    return stats


def _versions(python: Path) -> dict[str, str]:
    script = (
        "import importlib.metadata as m, json, platform\n"
        "names = ('pydantic', 'pydantic-core', 'structlog', 'rich')\n"
        "found = {}\n"
        "for n in names:\n"
        "    try:\n"
        "        found[n] = m.version(n)\n"
        "    except m.PackageNotFoundError:\n"
        "        pass\n"
        "print(json.dumps({'python': platform.python_version(), **found}))\n"
    )
    result = subprocess.run([str(python), "-c", script], capture_output=True, text=True)
    parsed: dict[str, str] = json.loads(result.stdout)
    return parsed


def report(stats: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Print the figures and ratios; return the results in the benchmarks' ``groups`` shape."""
    print(f"{'case':30} {'CPU ms':>8} {'p25':>7} {'p75':>7} {'wall ms':>8}")
    for name, row in stats.items():
        print(
            f"{name:30} {row['median']:>8.1f} {row['p25']:>7.1f} {row['p75']:>7.1f} "
            f"{row['wall_median']:>8.1f}"
        )
    groups = []
    for title, ours, peers, description in GROUPS:
        print(f"\n{title}:")
        for peer in peers:
            ratio = stats[ours]["median"] / stats[peer]["median"]
            overlap = stats[ours]["p25"] <= stats[peer]["p75"]
            overlap = overlap and stats[peer]["p25"] <= stats[ours]["p75"]
            same = " (quartiles overlap: the same within the noise)" if overlap else ""
            print(f"  {ours} / {peer}: {ratio:.2f}x{same}")
        rows = [{"impl": "backendkit", "value": stats[ours]["median"]}]
        rows += [{"impl": peer, "value": stats[peer]["median"]} for peer in peers]
        groups.append(
            {
                "name": title,
                "unit": "ms CPU",
                "higher_is_better": False,
                "description": description,
                "rows": rows,
            }
        )
    bare = stats["backendkit"]["median"] / stats["pydantic + structlog"]["median"]
    verdict = "met" if bare <= GOAL else "NOT met"
    print(f"\nGoal, bare import within {GOAL}x of pydantic + structlog: {verdict} ({bare:.2f}x)")
    return {"groups": groups, "stats": stats, "bare_ratio": round(bare, 3)}


def main(argv: list[str] | None = None) -> int:
    """Measure, print, and write the JSON when asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="9 rounds instead of 31")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--python", type=Path, help="interpreter to measure (default: core venv)")
    args = parser.parse_args(argv)
    python = args.python or ensure_core_venv()
    rounds = 9 if args.quick else 31
    versions = _versions(python)
    print(f"{python}: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"{rounds} interleaved rounds of fresh interpreters\n")
    result = report(measure(python, PEERS + OURS, rounds))
    if args.json:
        shown = python.relative_to(ROOT) if python.is_relative_to(ROOT) else python.name
        result["meta"] = {"interpreter": str(shown), "rounds": rounds, **versions}
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
