"""Page and cursor parameters from a query string, validated like any other input."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from backendkit.pagination import CursorParams, PageParams
from backendkit.validation import validate_query

__all__ = ["cursor_params", "page_params"]

_PAGE_KEYS = ("page", "perPage", "per_page")
_CURSOR_KEYS = ("cursor", "perPage", "per_page")


def _pick(query: Any, keys: Iterable[str]) -> list[tuple[str, str]]:
    # Other query parameters belong to the route (filters, sorting), not to paging; every
    # value of a repeated key is kept so validate_query can refuse the repetition.
    pairs: list[tuple[str, str]] = []
    for key in keys:
        if hasattr(query, "getlist"):
            pairs.extend((key, value) for value in query.getlist(key))
        elif isinstance(query, Mapping) and key in query:
            value = query[key]
            values = value if isinstance(value, list | tuple) else [value]
            pairs.extend((key, str(v)) for v in values)
    return pairs


def page_params(
    query: Mapping[str, Any] | Any, *, model: type[PageParams] = PageParams
) -> PageParams:
    """Read ``page`` and ``perPage`` (or ``per_page``) from a query mapping or multi-dict.

    Args:
        query: a mapping of strings (or lists of strings) or a multi-dict with ``getlist``
            (werkzeug, Django, Starlette).
        model: ``PageParams`` or a class from ``PageParams.with_max(n)`` (another cap).

    Raises:
        ValidationFailed: a value is not an integer, is out of range or is repeated (400).
    """
    return validate_query(model, _pick(query, _PAGE_KEYS))


def cursor_params(
    query: Mapping[str, Any] | Any, *, model: type[CursorParams] = CursorParams
) -> CursorParams:
    """Read ``cursor`` and ``perPage`` (or ``per_page``) from a query mapping or multi-dict.

    Args:
        query: a mapping or multi-dict, as for [`page_params`][backendkit.web.page_params].
        model: ``CursorParams`` or a class from ``CursorParams.with_max(n)``.

    The cursor's signature is checked later, when the data layer decodes it.

    Raises:
        ValidationFailed: ``perPage`` is not an integer, is out of range or is repeated (400).
    """
    return validate_query(model, _pick(query, _CURSOR_KEYS))
