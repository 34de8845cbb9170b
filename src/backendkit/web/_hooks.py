"""Steps around a sync or async callable (a view): one before it, with an async twin for
I/O, and one after it on its result. The wrapped call stays sync or async like the original.

Example:
    >>> seen = []
    >>> hooks = Hooks(before=lambda request, kw: seen.append(request),
    ...               after=lambda request, result: result.upper())
    >>> hooked(lambda request, name: f"hi {name}", hooks, is_async=False)("r", name="ann")
    'HI ANN'
    >>> seen
    ['r']
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

__all__ = ["After", "Hooks", "Step", "hooked"]

F = TypeVar("F", bound=Callable[..., Any])
#: A step before the call: ``(first argument, keyword arguments)``; it may change the latter.
Step = Callable[[Any, dict[str, Any]], Any]
#: A step after the call: ``(first argument, result) -> result``.
After = Callable[[Any, Any], Any]


@dataclass(frozen=True, slots=True)
class Hooks:
    """What runs around a call: ``before`` (sync), ``abefore`` (its async twin, awaited by
    an async call; without one, ``before`` runs there too) and ``after``."""

    before: Step | None = None
    abefore: Step | None = None
    after: After | None = None

    def run(self, is_async: bool, call: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        """``call(*args, **kwargs)`` between the steps; with ``is_async``, a coroutine."""
        if is_async:
            return self._arun(call, args, kwargs)
        if self.before:
            self.before(args[0], kwargs)
        result = call(*args, **kwargs)
        return self.after(args[0], result) if self.after else result

    async def _arun(self, call: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        if self.abefore:
            await self.abefore(args[0], kwargs)
        elif self.before:
            self.before(args[0], kwargs)
        result = await call(*args, **kwargs)
        return self.after(args[0], result) if self.after else result


def hooked(call: F, hooks: Hooks, *, is_async: bool) -> F:
    """``call`` with ``hooks`` around it (its name and docstring kept); ``is_async`` says
    whether it is a coroutine function (mark the wrapper as one as your framework does)."""

    @functools.wraps(call)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return hooks.run(is_async, call, args, kwargs)

    return cast(F, wrapped)
