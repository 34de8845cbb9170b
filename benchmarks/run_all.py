"""Run every benchmark against its peers and render docs/performance.md.

    python benchmarks/run_all.py [--quick] [--only AREA ...] [--no-setup] [--render-only]

``make bench`` and ``make bench-quick`` call this. Steps:

1. Benchmark environments, created or topped up when missing: ``.venv-bench`` (backendkit
   with every extra, pinned by constraints.txt, plus the peers pinned in
   benchmarks/requirements-peers.txt) and ``.venv-bench-fc2`` (fastapi-cache2, which needs
   ``redis<5``: benchmarks/requirements-fastapi-cache2.txt). Never the dev ``.venv``. A
   stamp file holding a hash of the requirement files skips pip when nothing changed.
2. Every ``benchmarks/bench_*.py`` listed in ``BENCHES`` runs in ``.venv-bench`` with
   ``--json build/bench/<area>.json`` (and ``--quick``), one after the other (on a 2-core
   machine anything in parallel would disturb the figures), its stdout and stderr kept in
   ``build/bench/<area>.log`` and nowhere else.
3. The machine (CPU, cores, RAM, OS, Python, every library and peer version, the Redis,
   PostgreSQL and MariaDB versions) and each run's record (status, a one-line reason,
   duration, its JSON) go into ``build/bench/summary.json``, and ``benchmarks/_report.py``
   renders docs/performance.md with SVG charts in docs/assets/performance/ from that alone.

A step that fails fails the run: the exit status is 1 when an environment could not be
installed, a script is missing, exits non-zero, writes no readable JSON or hits its time
limit, or its results cannot be tabulated. The page is still rendered (it says which
sections have no figures) so the failure can be seen, but it is not one to publish. A
peer that is not installed is not a failure when its script marks it unavailable with a
one-line reason (``"unavailable": {"peer": "reason"}`` in its JSON); the page says so.

Budget: the full run fits in 15 minutes on 2 cores, ``--quick`` in 3.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = ROOT / "build" / "bench"
BENCH_VENV = ROOT / ".venv-bench"
FC2_VENV = ROOT / ".venv-bench-fc2"
PEERS_TXT = HERE / "requirements-peers.txt"
FC2_TXT = HERE / "requirements-fastapi-cache2.txt"
#: How a setup state that failed begins (a failed install fails the run).
SETUP_FAILED = "pip failed"

sys.path.insert(0, str(HERE))

from _leaks import PageLeakError
from _machine import machine
from _report import render


@dataclass(frozen=True)
class Bench:
    """One benchmark script: its area name, file, and time limits (full, quick) in seconds."""

    area: str
    script: str
    limit: int
    quick_limit: int
    needs_fc2: bool = False


#: In page order. Limits are generous ceilings (a hung script must not eat the budget);
#: the scripts' own durations are far below them.
BENCHES = (
    Bench("tokens", "bench_tokens.py", 120, 40),
    Bench("passwords", "bench_passwords.py", 180, 40),
    Bench("ratelimit", "bench_ratelimit.py", 240, 60),
    Bench("cache", "bench_cache.py", 300, 90, needs_fc2=True),
    Bench("repository", "bench_repository.py", 360, 120),
    Bench("adapters", "bench_adapters.py", 600, 90),
    Bench("adapters_django", "bench_adapters_django.py", 180, 45),
    Bench("metrics", "bench_metrics.py", 300, 90),
    Bench("metrics_peers", "bench_metrics_peers.py", 600, 180),
    Bench("tracing", "bench_tracing.py", 300, 90),
)

# --------------------------------------------------------------------------- environments


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _digest(*files: Path) -> str:
    h = hashlib.sha256()
    for file in files:
        h.update(file.read_bytes() if file.is_file() else b"-")
    return h.hexdigest()


def _ensure_venv(venv: Path, install: list[str], inputs: tuple[Path, ...], log: Path) -> str:
    """Create ``venv`` if missing and pip-install ``install`` when its inputs changed."""
    stamp = venv / ".bench-requirements.sha256"
    digest = _digest(*inputs)
    if _python(venv).exists() and stamp.is_file() and stamp.read_text().strip() == digest:
        return "up to date"
    with log.open("a") as out:
        if not _python(venv).exists():
            # The base interpreter of the running one (the dev venv's Python), not the venv.
            base = Path(sys.base_prefix) / "bin" / "python3"
            subprocess.run([str(base), "-m", "venv", str(venv)], check=True, stdout=out, stderr=out)
        command = [str(_python(venv)), "-m", "pip", "install", "--quiet", *install]
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        result = subprocess.run(command, cwd=ROOT, stdout=out, stderr=out, check=False)
    if result.returncode != 0:
        return f"{SETUP_FAILED} (exit status {result.returncode}; see {_shown(log)})"
    stamp.write_text(digest + "\n")
    return "installed"


def setup_environments(need_fc2: bool) -> dict[str, str]:
    """Make sure the benchmark environments exist and hold the pinned peers."""
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / "setup.log"
    status = {
        ".venv-bench": _ensure_venv(
            BENCH_VENV,
            ["-c", "constraints.txt", "-e", ".[all]", "-r", str(PEERS_TXT.relative_to(ROOT))],
            (PEERS_TXT, ROOT / "constraints.txt", ROOT / "pyproject.toml"),
            log,
        )
    }
    if need_fc2:
        status[".venv-bench-fc2"] = _ensure_venv(
            FC2_VENV, ["-r", str(FC2_TXT.relative_to(ROOT))], (FC2_TXT,), log
        )
    return status


# --------------------------------------------------------------------------- running


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it (never a machine path)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def run_bench(
    bench: Bench, quick: bool, *, out: Path = OUT, scripts: Path = HERE, python: Path | None = None
) -> dict[str, Any]:
    """Run one script; return its record: status, one-line reason, duration, JSON results.

    The script's stdout and stderr go to ``<out>/<area>.log`` only; the record holds none
    of it, so nothing the script printed can reach the page. ``python`` defaults to
    ``.venv-bench``'s interpreter (this one when that environment does not exist).
    """
    script = scripts / bench.script
    json_path = out / f"{bench.area}.json"
    log_path = out / f"{bench.area}.log"
    record: dict[str, Any] = {"area": bench.area, "script": f"benchmarks/{bench.script}"}
    if not script.is_file():
        record.update(status="missing", reason="not in the repository")
        return record
    out.mkdir(parents=True, exist_ok=True)
    json_path.unlink(missing_ok=True)
    if python is None:
        python = _python(BENCH_VENV) if _python(BENCH_VENV).exists() else Path(sys.executable)
    command = [str(python), str(script), "--json", str(json_path)] + (["--quick"] if quick else [])
    limit = bench.quick_limit if quick else bench.limit
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
        # Unbuffered: a script killed at its limit still leaves what it printed in the log.
        "PYTHONUNBUFFERED": "1",
    }
    started = time.monotonic()
    # Other work on the machine skews every figure: the page shows the load around each run.
    load_before = os.getloadavg()[0]
    print(f"==> {bench.script}{' --quick' if quick else ''} (limit {limit}s)", flush=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            returncode = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            # SIGINT first: the script's finally blocks stop the servers it started in their
            # own sessions (which a kill of this process group would orphan); then SIGKILL.
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            record.update(status="timed out", reason=f"stopped at its {limit} s limit")
        else:
            if returncode == 0:
                record["status"] = "ok"
            else:
                record.update(status="failed", reason=f"exit status {returncode}")
    record["seconds"] = round(time.monotonic() - started, 1)
    record["load"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    if json_path.is_file():
        try:
            record["data"] = json.loads(json_path.read_text())
        except ValueError:
            record.update(status="failed", reason="its results file is not valid JSON")
    elif record["status"] == "ok":
        record.update(status="failed", reason="it wrote no results file")
    print(f"    {record['status']} in {record['seconds']}s", flush=True)
    if record["status"] != "ok":
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        print(f"    output in {_shown(log_path)}, ending:", *tail, sep="\n      ", file=sys.stderr)
    return record


def main(argv: list[str] | None = None) -> int:
    """Set up, run, record and render."""
    areas = [b.area for b in BENCHES]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (under 3 minutes)")
    parser.add_argument("--only", nargs="+", choices=areas, help="run only these areas")
    parser.add_argument("--no-setup", action="store_true", help="do not create or update venvs")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="re-render docs/performance.md from build/bench/summary.json",
    )
    parser.add_argument("--page", type=Path, default=ROOT / "docs" / "performance.md")
    args = parser.parse_args(argv)
    summary_path = OUT / "summary.json"

    if args.render_only:
        summary = json.loads(summary_path.read_text())
    else:
        selected = [b for b in BENCHES if not args.only or b.area in args.only]
        started = time.monotonic()
        setup = {} if args.no_setup else setup_environments(any(b.needs_fc2 for b in selected))
        for name, state in setup.items():
            print(f"{name}: {state}")
        previous: dict[str, Any] = {}
        rerun = list(args.only or [])
        if args.only and summary_path.is_file():
            # A partial run keeps the other areas' last results; the page names the areas
            # run again on their own since.
            stored = json.loads(summary_path.read_text())
            previous = {r["area"]: r for r in stored["runs"]}
            rerun = [a for a in stored.get("rerun", []) if a not in rerun] + rerun
        runs = {b.area: run_bench(b, args.quick) for b in selected}
        summary = {
            "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "quick": args.quick,
            "rerun": rerun,
            "setup": setup,
            "machine": machine(_python(BENCH_VENV), _python(FC2_VENV)),
            "runs": [
                runs.get(a) or previous.get(a) or {"area": a, "status": "not run"} for a in areas
            ],
            "seconds": round(time.monotonic() - started, 1),
        }
        OUT.mkdir(parents=True, exist_ok=True)
        summary_path.write_text(json.dumps(summary, indent=2, default=str))
    problems = [
        f"{name}: {state}"
        for name, state in (summary.get("setup") or {}).items()
        if str(state).startswith(SETUP_FAILED)
    ]
    try:
        problems += render(summary, args.page, args.page.parent / "assets" / "performance")
    except PageLeakError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {_shown(args.page)} ({summary['seconds']}s in total)")
    if problems:
        print("the run failed; do not publish this page:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
