"""A counter kept as the request tally keeps its counts, for the ones a request may touch
(rate-limit decisions, errors by code): one lock, one lookup and one number updated, in a
list in a single process and in place in this process's counter file in multiprocess
mode (see ``_values``), where prometheus-client's ``inc()`` is a locked, pid-checked
file write each time."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily
from prometheus_client.mmap_dict import mmap_key
from prometheus_client.registry import Collector

from backendkit.metrics._values import FileValues, MemoryValues, file_values

__all__ = ["CounterTally"]


class CounterTally(Collector):
    """``<name>_total`` by ``labelnames``, as a collector.

    Args:
        name: the counter's name, without ``_total``.
        documentation: its help text.
        labelnames: its labels, in the order ``inc`` gets their values.
        directory: multiprocess mode's ``PROMETHEUS_MULTIPROC_DIR``, or ``None`` in a
            single process.
    """

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], directory: str | None
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._directory = directory
        if directory is not None:
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _forget(ref))
        self._start()

    def _start(self) -> None:
        # Also in a forked child: the parent's counts and files stay the parent's.
        self._values: MemoryValues | FileValues = (
            MemoryValues() if self._directory is None else file_values(self._directory)
        )
        self._indices: dict[tuple[str, ...], int] = {}  # label values -> value index

    def inc(self, labels: tuple[str, ...]) -> None:
        """Count one more of ``labels`` (the label values, bounded by the caller)."""
        values = self._values
        lock = values.lock
        lock.acquire()  # not a with block: see RequestTally
        try:
            index = self._indices.get(labels)
            if index is None:
                index = self._indices[labels] = values.count_index(
                    mmap_key(
                        self.name,
                        f"{self.name}_total",
                        list(self.labelnames),
                        list(labels),
                        self.documentation,
                    )
                )
            values.counted[index] += 1.0
        finally:
            lock.release()

    def describe(self) -> Iterator[Any]:
        """The counter's name, so the registry refuses a second collector of it."""
        yield CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Any]:
        """This process's counts now."""
        values = self._values
        with values.lock:
            counts = [(labels, values.counted[index]) for labels, index in self._indices.items()]
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in sorted(counts):
            family.add_metric(labels, value)
        yield family


def _forget(ref: weakref.ReferenceType[CounterTally]) -> None:
    counter = ref()
    if counter is not None:
        counter._start()  # the counter's own reset, after a fork
