"""Instructions per request of whole apps, counted by valgrind's callgrind: the one figure
of the adapter benchmark that the machine's other load cannot move.

Wall-clock and CPU-time figures on a shared machine drift by a quarter between runs (the
bare app's own CPU per request has measured anywhere from 48 to 103 µs in one process);
an instruction count is the same whatever else runs. Each app (``_adapter_apps``'s
builders, logging as the served apps configure it) is called in one process the way
``_adapter_duties.frameworks`` calls it (the ASGI call driven by hand, the WSGI call
iterated), once with ``FEW`` requests and once with ``MANY``, under callgrind; the
difference of the two totals over ``MANY - FEW`` is one request's instructions, start-up
and imports cancelled out. The runs go side by side, two at a time.

What callgrind cannot see is the kernel: a system call's own work (the request id's
``getrandom``) counts only its user-space side here.

    python benchmarks/_adapter_instructions.py            # the table, printed
    python benchmarks/_adapter_instructions.py APP N      # one worker (run under valgrind)
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FEW, MANY = 200, 1200
APPS = {
    "fastapi": ("fastapi-bare", "fastapi-backendkit-nolog", "fastapi-backendkit"),
    "flask": ("flask-bare", "flask-backendkit-nolog", "flask-backendkit"),
}
_COLLECTED = re.compile(r"Collected : (\d+)")


def available() -> str | None:
    """None when callgrind can run here, else the one-line reason it cannot."""
    return None if shutil.which("valgrind") else "valgrind is not installed"


def _total(app: str, requests: int, log_file: Path) -> int:
    env = dict(
        os.environ,
        BENCH_APP=app,
        BENCH_LOG_FILE=str(log_file),
        PYTHONHASHSEED="0",  # the same dict layouts, run after run
        PYTHONPATH=os.pathsep.join([str(HERE), str(HERE.parent / "src")]),
    )
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, str(Path(__file__)), app, str(requests),
    ]  # fmt: skip
    result = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        # The caller may be pinned to one core (the in-process figures are): the two runs
        # side by side need both.
        preexec_fn=_every_core,
    )
    found = _COLLECTED.search(result.stderr)
    if result.returncode != 0 or found is None:
        tail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"callgrind of {app} failed: {tail[0]}")
    return int(found.group(1))


def _every_core() -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, range(os.cpu_count() or 1))


def measure(log_dir: Path) -> dict[str, dict[str, int]]:
    """Instructions per request of every app of ``APPS``, per framework."""
    runs = [(app, n) for apps in APPS.values() for app in apps for n in (FEW, MANY)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        totals = dict(
            zip(
                runs,
                pool.map(lambda run: _total(run[0], run[1], log_dir / f"{run[0]}.log"), runs),
                strict=True,
            )
        )
    return {
        framework: {
            app.removeprefix(f"{framework}-"): (totals[app, MANY] - totals[app, FEW])
            // (MANY - FEW)
            for app in apps
        }
        for framework, apps in APPS.items()
    }


def _worker(app: str, requests: int) -> None:
    import _adapter_apps
    from _adapter_duties import _asgi_request, _wsgi_request

    built = _adapter_apps.app()  # BENCH_APP, with -nolog's log level
    call: Any = (_asgi_request if app.startswith("fastapi") else _wsgi_request)(built)
    for _ in range(requests):
        call()


if __name__ == "__main__":
    if len(sys.argv) == 3:
        _worker(sys.argv[1], int(sys.argv[2]))
    else:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            for framework, figures in measure(Path(tmp)).items():
                bare = figures["bare"]
                print(framework, {k: f"{v:,} ({bare / v:.3f}x)" for k, v in figures.items()})
