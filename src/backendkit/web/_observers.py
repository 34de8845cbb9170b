"""Several request observers told as one (a kit with both metrics and tracing).

The pipeline holds one observer: ``None``, the only one configured, or an
[`Observers`][backendkit.web._observers.Observers] of them, so a kit with neither pays one
attribute check and a kit with one pays no loop.

Example:
    >>> combine(None, None) is None
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backendkit.web._cycle import RequestCycle, RequestObserver

__all__ = ["Observers", "combine"]


class Observers:
    """Tells each of ``observers`` in order; itself a ``RequestObserver``."""

    __slots__ = ("observers",)

    def __init__(self, observers: tuple[RequestObserver, ...]) -> None:
        self.observers = observers

    def attach(self, kit: Any) -> None:
        """Each observer watches ``kit``'s services."""
        for observer in self.observers:
            observer.attach(kit)

    def request_started(self, cycle: RequestCycle) -> None:
        """Each observer is told the request began."""
        for observer in self.observers:
            observer.request_started(cycle)

    def request_finished(self, cycle: RequestCycle) -> None:
        """Each observer is told the request ended."""
        for observer in self.observers:
            observer.request_finished(cycle)

    def request_dropped(self, cycle: RequestCycle) -> None:
        """Each observer forgets the request."""
        for observer in self.observers:
            observer.request_dropped(cycle)


def combine(*observers: RequestObserver | None) -> RequestObserver | None:
    """One observer telling every non-``None`` one of ``observers`` (``None``: none)."""
    present = tuple(observer for observer in observers if observer is not None)
    if not present:
        return None
    return present[0] if len(present) == 1 else Observers(present)
