"""Where the request tallies keep their numbers: plain lists in a single process, this
process's own files in multiprocess mode, updated in place.

prometheus-client's multiprocess values write each update through a process-wide lock, a
pid check and a packed 16-byte slice; three per request (the count, the duration's sum
and its bucket) cost more than the rest of the metrics together. Its file format is a
list of entries (a key, then the value and a timestamp as doubles), each value 8-byte
aligned, so the file's mapping seen as an array of doubles holds every value at a fixed
index: an update is one ``values[index] += amount`` on shared memory, visible to a scrape
in another process as soon as it is made and kept if the process is killed (the page
belongs to the file, not to the process). The files are named ``counter_bk_<pid>.db``
and ``histogram_bk_<pid>.db``: the scrape's ``MultiProcessCollector`` reads every
``*.db`` by the type its name starts with, and prometheus-client's own
``counter_<pid>.db`` never holds these keys.

One process has one pair of files per directory, shared by every tally in it (two tallies
writing one file would overwrite each other's entries), and one lock for their updates.
A forked child starts a pair of its own.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from typing import Any

from prometheus_client.mmap_dict import MmapedDict

__all__ = ["FileValues", "MemoryValues", "ValueFile", "file_values"]

_INITIAL_SIZE = 1 << 16  # prometheus-client's initial size, doubled as needed
_USED = struct.Struct("i")  # the first 4 bytes: how much of the file is written


class ValueFile:
    """One file of values in prometheus-client's multiprocess format, mapped as doubles.

    ``values[index(key)]`` is the value stored under ``key``. Not thread-safe: the owner
    holds its lock around ``index`` and around every use of ``values`` (which ``index``
    replaces when the file grows).

    Args:
        path: the file; an existing one (a pid used again within one run) keeps its values.
    """

    __slots__ = ("_map", "_path", "_positions", "_size", "_used", "values")

    def __init__(self, path: str) -> None:
        self._path = path
        # The mapping outlives the descriptor: the file is opened again only to grow it.
        with open(path, "a+b") as file:
            self._size = os.fstat(file.fileno()).st_size
            if self._size == 0:
                file.truncate(_INITIAL_SIZE)
                self._size = _INITIAL_SIZE
            self._map = mmap.mmap(file.fileno(), self._size)
        self._positions: dict[str, int] = {}
        self._used: int = _USED.unpack_from(self._map, 0)[0]
        if self._used == 0:
            self._used = 8  # the used count and 4 bytes of padding
            self._map[0:4] = _USED.pack(self._used)
        else:
            for key, _value, _timestamp, position in MmapedDict.read_all_values_from_file(path):  # type: ignore[no-untyped-call]
                self._positions[key] = position // 8
        #: The file's values, each at the index ``index`` gives for its key.
        self.values: Any = memoryview(self._map).cast("d")

    def index(self, key: str) -> int:
        """The index of ``key``'s value in ``values``; a new key is added with value 0."""
        found = self._positions.get(key)
        if found is not None:
            return found
        encoded = key.encode("utf-8")
        padded = encoded + b" " * (8 - (len(encoded) + 4) % 8)  # the value 8-byte aligned
        entry = struct.pack(f"i{len(padded)}sdd", len(encoded), padded, 0.0, 0.0)
        end = self._used + len(entry)
        if end > self._size:
            self._grow(end)
        # The entry first, then the used count: a reader never sees half an entry.
        self._map[self._used : end] = entry
        self._used = end
        self._map[0:4] = _USED.pack(end)
        index = self._positions[key] = (end - 16) // 8
        return index

    def _grow(self, needed: int) -> None:
        size = self._size
        while size < needed:
            size *= 2
        self.values.release()  # a mapping with a view on it cannot be closed
        self._map.close()
        with open(self._path, "a+b") as file:
            file.truncate(size)
            self._map = mmap.mmap(file.fileno(), size)
        self._size = size
        self.values = memoryview(self._map).cast("d")


class MemoryValues:
    """The values of one tally in a single process: two growing lists and a lock (a list's
    items are read and replaced more cheaply than an ``array``'s)."""

    __slots__ = ("counted", "lock", "timed")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: Counter values, then histogram values (sums and buckets).
        self.counted: Any = []
        self.timed: Any = []

    def count_index(self, key: str) -> int:
        """A new counter value's index (the tally asks once per series)."""
        self.counted.append(0.0)
        return len(self.counted) - 1

    def timing_index(self, key: str) -> int:
        """A new histogram value's index (a sum or a bucket)."""
        self.timed.append(0.0)
        return len(self.timed) - 1


class FileValues:
    """This process's counter and histogram files in ``directory``, opened with the first
    value a tally adds (a process that only forks workers writes none)."""

    __slots__ = ("_counters", "_directory", "_histograms", "counted", "lock", "timed")

    def __init__(self, directory: str) -> None:
        self._directory = directory
        self.lock = threading.Lock()
        self._counters: ValueFile | None = None
        self._histograms: ValueFile | None = None
        self.counted: Any = None
        self.timed: Any = None

    def count_index(self, key: str) -> int:
        """The index of the counter value of ``key`` (an ``mmap_key``)."""
        if self._counters is None:
            self._counters = ValueFile(self._path("counter"))
        index = self._counters.index(key)
        self.counted = self._counters.values  # a new view when the file grew
        return index

    def timing_index(self, key: str) -> int:
        """The index of the histogram value of ``key`` (a sum or a bucket)."""
        if self._histograms is None:
            self._histograms = ValueFile(self._path("histogram"))
        index = self._histograms.index(key)
        self.timed = self._histograms.values
        return index

    def _path(self, kind: str) -> str:
        return os.path.join(self._directory, f"{kind}_bk_{os.getpid()}.db")


_shared: dict[str, FileValues] = {}
_shared_lock = threading.Lock()


def file_values(directory: str) -> FileValues:
    """This process's files in ``directory``, shared by every tally that writes there."""
    with _shared_lock:
        values = _shared.get(directory)
        if values is None:
            values = _shared[directory] = FileValues(directory)
        return values


def _forked() -> None:
    # The parent's files are the parent's: a child's tallies ask for their own.
    global _shared_lock
    _shared_lock = threading.Lock()
    _shared.clear()


os.register_at_fork(after_in_child=_forked)
