"""The logger of a per-request hot path, for backendkit's own access log."""

from __future__ import annotations

import logging
from typing import Any, cast

import structlog

from backendkit.logging._config import Installed, last_configuration
from backendkit.logging._loggers import Logger

__all__ = ["HotLogger"]

# Module globals: drops_info runs on every request (no attribute lookups through modules).
_INFO = logging.INFO
_get_config = structlog.get_config


class HotLogger:
    """The logger of a per-request hot path (the access log).

    ``get_logger`` returns a lazy proxy that assembles a new bound logger for every event
    (so that loggers made at import time follow a later ``configure``, and
    ``capture_logs``). Under the configuration ``configure_logging`` installed, this runs
    its pipeline and writes the line itself: what structlog's bound logger would do, less
    the assembling and the generic plumbing. Under any other configuration (a test's
    capture, the application's own), it logs through a bound logger assembled once per
    configuration.
    """

    __slots__ = ("_bound", "_key", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._key: tuple[Any, ...] = ()
        self._bound: Logger | None = None

    def drops_info(self) -> bool:
        """True when an INFO event would be dropped unseen: the configuration
        ``configure_logging`` installed is in force with a level above INFO. A caller may
        then skip building the event (under any other configuration this is False: its
        own filtering decides, in ``info``)."""
        installed = last_configuration.installed
        if installed is None or installed.level <= _INFO:
            return False  # the common case decided without reading structlog's configuration
        return _get_config() == installed.signature  # _in_force, without its call

    def info(self, event: str, **fields: Any) -> None:
        """Log ``event`` at INFO with ``fields`` (like ``get_logger(name).info``)."""
        config = structlog.get_config()
        installed = last_configuration.installed
        if installed is not None and _in_force(config, installed):
            if installed.level <= logging.INFO:
                logger = installed.factory(self._name)
                fields["event"] = event
                try:
                    line = installed.pipeline(logger, "info", fields)
                except structlog.DropEvent:
                    # A user's processor dropped it, as structlog's bound logger allows.
                    return
                logger.msg(line)
            return
        self._bound_logger(config).info(event, **fields)

    def _bound_logger(self, config: dict[str, Any]) -> Logger:
        key = (
            config["processors"],
            config["wrapper_class"],
            config["logger_factory"],
            config["context_class"],
        )
        bound = self._bound
        # Identity, not equality (the key holds the objects, so none can be replaced by a
        # new one at the same address).
        if bound is None or any(new is not old for new, old in zip(key, self._key, strict=True)):
            bound = cast(Logger, structlog.get_logger(self._name).bind())
            self._bound, self._key = bound, key
        return bound


def _in_force(config: dict[str, Any], installed: Installed) -> bool:
    """Whether structlog's ``config`` is still the one ``configure_logging`` installed."""
    # One C-level comparison: the processor lists by contents (a capture swaps the items
    # of the installed list), the rest by identity (none of them defines equality).
    return config == installed.signature
