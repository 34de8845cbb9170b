"""The official instrumentations are skipped only where they may be absent."""

from __future__ import annotations

import pytest
from tests._tracing import REQUIRE_INSTRUMENTATIONS, official_instrumentation


def test_an_absent_instrumentation_skips_outside_the_main_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lowest-versions and other-Python runs (variable unset) skip the test."""
    monkeypatch.delenv(REQUIRE_INSTRUMENTATIONS, raising=False)
    with pytest.raises(pytest.skip.Exception):
        official_instrumentation("opentelemetry.instrumentation.not_installed_here")


def test_an_absent_instrumentation_fails_in_the_main_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the Makefile requires them, a missing one is an error, not a skip."""
    monkeypatch.setenv(REQUIRE_INSTRUMENTATIONS, "1")
    with pytest.raises(ModuleNotFoundError):
        official_instrumentation("opentelemetry.instrumentation.not_installed_here")


def test_an_installed_module_is_returned_in_both(monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed module is imported and returned, required or not."""
    for value in ("1", "0"):
        monkeypatch.setenv(REQUIRE_INSTRUMENTATIONS, value)
        assert official_instrumentation("opentelemetry.trace").__name__ == "opentelemetry.trace"
