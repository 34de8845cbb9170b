"""Client-safe details of a nested error tree (field -> messages, as DRF's serializers give).

Each message becomes one [`ErrorDetail`][backendkit.errors.ErrorDetail] whose field is its
path, written as pydantic errors are written (``address.street``, ``items[2].qty``). A
message that quotes the value the client sent at that path is replaced: an error never
echoes input.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from backendkit.errors import ErrorDetail

__all__ = ["INVALID_VALUE", "nested_details"]

#: What replaces a message that quotes the submitted value.
INVALID_VALUE = "Invalid value."

_Parts = tuple[str | int, ...]


def nested_details(
    tree: Any,
    data: Any = None,
    *,
    unnamed: Collection[str] = (),
    fixed: Mapping[str, str] | None = None,
) -> list[ErrorDetail]:
    """One detail per message of ``tree``, in order.

    Args:
        tree: messages (strings, or objects whose ``str`` is one) nested in mappings (a
            field name or an item index -> its messages) and lists (one entry per item, an
            empty one for an item without errors).
        data: what the client submitted, compared at each message's path (``None``: no
            comparison).
        unnamed: keys whose messages belong to the enclosing object (non-field errors).
        fixed: a message's ``code`` attribute -> the text that replaces it (codes whose
            messages quote the input or its type).

    Example:
        >>> nested_details({"items": [{}, {"qty": ["'x' is not a number."]}]},
        ...                {"items": [{}, {"qty": "x"}]})
        [ErrorDetail(field='items[1].qty', message='Invalid value.')]
        >>> nested_details({"__all__": ["Passwords differ."]}, unnamed={"__all__"})
        [ErrorDetail(field=None, message='Passwords differ.')]
    """
    texts = fixed or {}
    details = []
    for parts, item in _walk(tree, (), unnamed):
        message = texts.get(getattr(item, "code", None) or "")
        if message is None:
            message = str(item)
            if data is not None and _echoes(message, data, parts):
                message = INVALID_VALUE
        details.append(ErrorDetail(_field(parts), message))
    return details


def _walk(tree: Any, parts: _Parts, unnamed: Collection[str]) -> Iterator[tuple[_Parts, Any]]:
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            # List items are keyed by index in some trees (DRF's ListField).
            name = () if key in unnamed else (key if isinstance(key, int) else str(key),)
            yield from _walk(value, (*parts, *name), unnamed)
    elif isinstance(tree, list | tuple) and not all(isinstance(i, str) for i in tree):
        for index, item in enumerate(tree):
            if item:
                yield from _walk(item, (*parts, index), unnamed)
    else:
        for item in tree if isinstance(tree, list | tuple) else [tree]:
            yield parts, item


def _field(parts: _Parts) -> str | None:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text or None


def _echoes(message: str, data: Any, parts: _Parts) -> bool:
    """Whether ``message`` quotes the scalar the client sent at ``parts``."""
    value = data
    for part in parts:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(value, bool | Mapping | list) or value is None:
        return False
    return bool(str(value)) and str(value) in message
