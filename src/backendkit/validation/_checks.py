"""Pydantic validators shared by the core's field types and parameter models."""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticCustomError

__all__ = ["not_bool"]


def not_bool(value: Any) -> Any:
    """Refuse a boolean where an integer is expected; use it as a ``BeforeValidator``.

    Pydantic's lax integers accept ``true``/``false`` as 1/0; an id or a page number of
    ``true`` is a client bug, not 1. Anything else passes through to the integer schema.
    """
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value
