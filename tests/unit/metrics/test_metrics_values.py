"""The request tallies' values in multiprocess mode: prometheus-client's file format,
updated in place, readable by its collector at any moment, kept when a process dies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector

from backendkit.metrics._values import ValueFile, file_values

REPO = Path(__file__).resolve().parents[3]


def _read(path: Path) -> dict[str, float]:
    return {
        key: value
        for key, value, _timestamp, _position in MmapedDict.read_all_values_from_file(str(path))  # type: ignore[no-untyped-call]
    }


def test_values_written_in_place_are_what_prometheus_client_reads(tmp_path: Path) -> None:
    """Each key's value at its index, as prometheus-client's reader finds it, through the
    file's growth (its first 64 KiB hold a few hundred entries)."""
    path = tmp_path / "counter_bk_1.db"
    values = ValueFile(str(path))
    keys = [f"key-{index}-" + "x" * (index % 11) for index in range(2000)]
    for number, key in enumerate(keys):
        index = values.index(key)  # first: it replaces values when the file grows
        values.values[index] += number + 0.5
    index = values.index(keys[3])
    values.values[index] += 1.0  # a known key keeps its index
    assert path.stat().st_size > 1 << 16
    read = _read(path)
    assert len(read) == len(keys)
    assert read[keys[0]] == 0.5
    assert read[keys[3]] == 4.5
    assert read[keys[-1]] == len(keys) - 0.5


def test_a_file_opened_again_keeps_its_values(tmp_path: Path) -> None:
    """A pid used again within one run (the directory is emptied only at start): the new
    process adds to what the file holds."""
    path = str(tmp_path / "histogram_bk_7.db")
    first = ValueFile(path)
    first.values[first.index("a")] += 2.0
    first.values[first.index("b")] += 3.0
    again = ValueFile(path)
    assert again.index("b") == first.index("b")
    again.values[again.index("b")] += 1.0
    again.values[again.index("c")] += 1.0
    assert _read(tmp_path / "histogram_bk_7.db") == {"a": 2.0, "b": 4.0, "c": 1.0}


def test_one_process_shares_one_pair_of_files_per_directory(tmp_path: Path) -> None:
    """Two tallies writing one file would overwrite each other's entries: they share it."""
    assert file_values(str(tmp_path)) is file_values(str(tmp_path))
    assert file_values(str(tmp_path / "other")) is not file_values(str(tmp_path))


_KILLED = """
import os, signal, sys
from prometheus_client import CollectorRegistry
from backendkit.logging import configure_logging
from backendkit.metrics import Metrics
from backendkit.settings import Settings
from backendkit.web import Pipeline, WebKit

settings = Settings(env="test", secret_key="k" * 32, log_level="WARNING")
configure_logging(settings)
pipeline = Pipeline(WebKit.from_settings(settings, metrics=Metrics(CollectorRegistry())))

def serve(count, route):
    for _ in range(count):
        cycle = pipeline.start(method="GET", path="/x", request_id=None)
        cycle.route = route
        cycle.finish(200)

serve(3, "/parent")
child = os.fork()
if child == 0:
    serve(5, "/child")
    os.kill(os.getpid(), signal.SIGKILL)  # no exit handler runs
os.waitpid(child, 0)
serve(1, "/parent")
os.kill(os.getpid(), signal.SIGKILL)
"""


def _counts(directory: Path) -> dict[str, float]:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    return {
        sample.labels["route"]: sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == "backendkit_http_requests_total"
    }


def test_a_killed_process_keeps_its_counts_and_a_child_writes_its_own(tmp_path: Path) -> None:
    """SIGKILL, parent and child: every request counted before it is in the files (no
    flush to miss), the child's in files of its own, none of the parent's copied."""
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    env["PYTHONPATH"] = str(REPO / "src")
    done = subprocess.run(
        [sys.executable, "-c", _KILLED], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -9, done.stderr
    assert _counts(tmp_path) == {"/parent": 4.0, "/child": 5.0}
    assert len(list(tmp_path.glob("counter_bk_*.db"))) == 2


def test_the_same_requests_in_files_without_a_kill(tmp_path: Path) -> None:
    """The valid twin: the same script's counts when nothing is killed (it exits)."""
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    env["PYTHONPATH"] = str(REPO / "src")
    script = _KILLED.replace("os.kill(os.getpid(), signal.SIGKILL)", "os._exit(0)")
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert _counts(tmp_path) == {"/parent": 4.0, "/child": 5.0}


def test_keys_are_prometheus_clients(tmp_path: Path) -> None:
    """The tally names its entries as prometheus-client's own instruments would."""
    key = mmap_key("m", "m_total", ["a"], ["1"], "help")
    values = ValueFile(str(tmp_path / "counter_bk_3.db"))
    values.values[values.index(key)] += 1.0
    assert _read(tmp_path / "counter_bk_3.db") == {key: 1.0}


def test_a_counter_in_files_reads_as_the_same_counter_in_memory(tmp_path: Path) -> None:
    """Decisions and errors counted in place: the scrape of the files and the in-memory
    counter give the same samples."""
    from backendkit.metrics._counter import CounterTally

    memory = CounterTally("bk_test_decisions", "Decisions.", ("rule", "decision"), None)
    files = CounterTally("bk_test_decisions", "Decisions.", ("rule", "decision"), str(tmp_path))
    for labels in [("login", "allowed")] * 3 + [("login", "denied"), ("api", "allowed")]:
        memory.inc(labels)
        files.inc(labels)
    memory_registry, files_registry = CollectorRegistry(), CollectorRegistry()
    memory_registry.register(memory)
    MultiProcessCollector(files_registry, path=str(tmp_path))  # type: ignore[no-untyped-call]

    def samples(registry: CollectorRegistry) -> dict[tuple[str, str, str], float]:
        return {
            (s.name, s.labels["rule"], s.labels["decision"]): s.value
            for family in registry.collect()
            for s in family.samples
        }

    expected = {
        ("bk_test_decisions_total", "login", "allowed"): 3.0,
        ("bk_test_decisions_total", "login", "denied"): 1.0,
        ("bk_test_decisions_total", "api", "allowed"): 1.0,
    }
    assert samples(memory_registry) == expected
    assert samples(files_registry) == expected
