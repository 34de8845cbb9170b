"""Hooks around a sync or async call: before (or its async twin), the call, after; in order."""

from __future__ import annotations

import asyncio
import doctest
import inspect
from typing import Any

import pytest

from backendkit.web import _hooks
from backendkit.web._hooks import Hooks, hooked


def test_docstring_examples() -> None:
    """The examples in the module's docstrings run and print what they claim."""
    assert doctest.testmod(_hooks).failed == 0


def _recorder(log: list[str]) -> Hooks:
    def before(request: Any, kwargs: dict[str, Any]) -> None:
        log.append(f"before {request}")
        kwargs["extra"] = 1

    async def abefore(request: Any, kwargs: dict[str, Any]) -> None:
        log.append(f"abefore {request}")
        kwargs["extra"] = 2

    def after(request: Any, result: Any) -> Any:
        log.append(f"after {result}")
        return result * 10

    return Hooks(before, abefore, after)


def test_a_sync_call_runs_before_then_after_on_its_result() -> None:
    """The sync step may add keyword arguments; after replaces the result."""
    log: list[str] = []

    def view(request: str, extra: int) -> int:
        log.append("view")
        return extra

    assert hooked(view, _recorder(log), is_async=False)("r") == 10
    assert log == ["before r", "view", "after 1"]


def test_an_async_call_awaits_the_async_twin() -> None:
    """A coroutine: the async step instead of the sync one, then after."""
    log: list[str] = []

    async def view(request: str, extra: int) -> int:
        log.append("view")
        return extra

    wrapped = hooked(view, _recorder(log), is_async=True)
    assert asyncio.run(wrapped("r")) == 20
    assert log == ["abefore r", "view", "after 2"]


def test_an_async_call_without_a_twin_runs_the_sync_step() -> None:
    """No async twin: the sync step runs inline before the awaited call."""
    log: list[str] = []

    async def view(request: str, extra: int) -> int:
        return extra

    hooks = Hooks(before=_recorder(log).before)
    assert asyncio.run(hooked(view, hooks, is_async=True)("r")) == 1
    assert log == ["before r"]


def test_no_hooks_is_the_call_itself() -> None:
    """Empty hooks pass arguments and the result through."""
    assert Hooks().run(False, lambda *a, **k: (a, k), ("r", 2), {"x": 3}) == (("r", 2), {"x": 3})


def test_a_failing_step_stops_before_the_call() -> None:
    """An exception before the call: the call and after never run (valid twin: above)."""
    calls: list[str] = []

    def refuse(request: Any, kwargs: dict[str, Any]) -> None:
        raise PermissionError("no")

    hooks = Hooks(before=refuse, after=lambda request, result: calls.append("after"))
    with pytest.raises(PermissionError):
        hooked(lambda request: calls.append("view"), hooks, is_async=False)("r")
    assert calls == []


def test_the_wrapper_keeps_the_name_and_docstring() -> None:
    """functools.wraps: a decorated view keeps its identity for URL names and docs."""

    async def my_view(request: Any) -> None:
        """Docs."""

    wrapped = hooked(my_view, Hooks(), is_async=True)
    assert (wrapped.__name__, wrapped.__doc__) == ("my_view", "Docs.")
    assert inspect.unwrap(wrapped) is my_view
