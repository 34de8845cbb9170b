"""What a client asks for: page and cursor parameters, and reading them from a query string.

Parameters are [`ApiModel`][backendkit.validation.ApiModel]s, so they validate from a query
string (``?page=2&perPage=50``) or a JSON body with the usual field-level errors. Values out of
range are a ``VALIDATION_ERROR``, never silently clamped: a client asking for 1000 rows and
quietly getting 100 would page through the data wrongly without noticing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BeforeValidator, ConfigDict, Field, create_model

from backendkit.validation import ApiModel, validate_query
from backendkit.validation._checks import not_bool

__all__ = [
    "DEFAULT_MAX_PER_PAGE",
    "DEFAULT_PER_PAGE",
    "MAX_CURSOR_LENGTH",
    "MAX_PAGE",
    "CursorParams",
    "PageParams",
    "cursor_params",
    "cursor_params_model",
    "page_params",
    "page_params_model",
]

P = TypeVar("P", bound="_PerPage")

#: ``perPage`` when the client sends none.
DEFAULT_PER_PAGE = 20
#: Largest ``perPage`` accepted by [`PageParams`][backendkit.listing.PageParams].
DEFAULT_MAX_PER_PAGE = 100
#: Largest page number; keeps ``offset`` inside a signed 64-bit integer for any page size.
MAX_PAGE = 2**31 - 1
#: Longest cursor accepted, in characters (the codec refuses longer ones before decoding).
MAX_CURSOR_LENGTH = 4096

_PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE), BeforeValidator(not_bool)]
_PerPageNumber = Annotated[int, Field(ge=1, le=DEFAULT_MAX_PER_PAGE), BeforeValidator(not_bool)]

_PAGE_KEYS = ("page", "perPage", "per_page")
_CURSOR_KEYS = ("cursor", "perPage", "per_page")


class _PerPage(ApiModel):
    # Query strings carry other parameters (sort, filters) next to these: ignore them here.
    model_config = ConfigDict(extra="ignore", frozen=True)

    #: The ``perPage`` cap of this class.
    max_per_page: ClassVar[int] = DEFAULT_MAX_PER_PAGE


class PageParams(_PerPage):
    """Offset pagination parameters: ``page`` (from 1) and ``perPage`` (1 to the cap).

    The cap is 100 by default; [`with_max`][backendkit.listing.PageParams.with_max]
    gives a class with another cap. Unknown keys are ignored, so the whole query string
    can be passed.

    Example:
        >>> params = PageParams.model_validate({"page": "3", "perPage": "25"})
        >>> (params.offset, params.limit)
        (50, 25)
    """

    page: _PageNumber = 1
    per_page: _PerPageNumber = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        """Rows to skip: ``(page - 1) * per_page``."""
        return (self.page - 1) * self.per_page

    @property
    def limit(self) -> int:
        """Rows to return: ``per_page``."""
        return self.per_page

    @classmethod
    def with_max(
        cls, max_per_page: int, *, default_per_page: int = DEFAULT_PER_PAGE
    ) -> type[PageParams]:
        """Return the ``PageParams`` class whose ``perPage`` cap is ``max_per_page``.

        The same arguments return the same class, so OpenAPI shows it once.

        Example:
            >>> PageParams.with_max(500).model_validate({"perPage": 400}).per_page
            400
        """
        return page_params_model(max_per_page=max_per_page, default_per_page=default_per_page)


class CursorParams(_PerPage):
    """Cursor pagination parameters: an opaque ``cursor`` (absent for the first page).

    Decode the cursor with a [`CursorCodec`][backendkit.listing.CursorCodec] bound to the
    sort and filters of the query.

    Example:
        >>> CursorParams.model_validate({"perPage": "10"})
        CursorParams(cursor=None, per_page=10)
    """

    cursor: Annotated[str | None, Field(max_length=MAX_CURSOR_LENGTH)] = None
    per_page: _PerPageNumber = DEFAULT_PER_PAGE

    @classmethod
    def with_max(
        cls, max_per_page: int, *, default_per_page: int = DEFAULT_PER_PAGE
    ) -> type[CursorParams]:
        """Return the ``CursorParams`` class whose ``perPage`` cap is ``max_per_page``."""
        return cursor_params_model(max_per_page=max_per_page, default_per_page=default_per_page)


def page_params_model(
    *, max_per_page: int = DEFAULT_MAX_PER_PAGE, default_per_page: int = DEFAULT_PER_PAGE
) -> type[PageParams]:
    """Return a [`PageParams`][backendkit.listing.PageParams] class with another cap.

    Raises:
        ValueError: unless ``1 <= default_per_page <= max_per_page <= MAX_PAGE``.
    """
    return _capped(PageParams, max_per_page, default_per_page)


def cursor_params_model(
    *, max_per_page: int = DEFAULT_MAX_PER_PAGE, default_per_page: int = DEFAULT_PER_PAGE
) -> type[CursorParams]:
    """Return a [`CursorParams`][backendkit.listing.CursorParams] class with another cap.

    Raises:
        ValueError: unless ``1 <= default_per_page <= max_per_page <= MAX_PAGE``.
    """
    return _capped(CursorParams, max_per_page, default_per_page)


@functools.lru_cache(maxsize=64)
def _capped(base: type[P], max_per_page: int, default_per_page: int) -> type[P]:
    if not 1 <= default_per_page <= max_per_page <= MAX_PAGE:
        raise ValueError("need 1 <= default_per_page <= max_per_page <= 2**31 - 1")
    if max_per_page == DEFAULT_MAX_PER_PAGE and default_per_page == DEFAULT_PER_PAGE:
        return base
    name = f"{base.__name__}Max{max_per_page}"
    if default_per_page != DEFAULT_PER_PAGE:
        name += f"Default{default_per_page}"
    per_page = Annotated[int, Field(ge=1, le=max_per_page), BeforeValidator(not_bool)]
    model: type[P] = create_model(
        name,
        __base__=base,
        __module__=base.__module__,
        per_page=(per_page, default_per_page),
    )
    model.max_per_page = max_per_page
    return model


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
            (werkzeug, Django, Starlette, DRF).
        model: ``PageParams`` or a class from ``PageParams.with_max(n)`` (another cap).

    Raises:
        ValidationFailed: a value is not an integer, is out of range or is repeated (400).

    Example:
        >>> page_params({"page": "2", "perPage": "5", "sort": "-name"})
        PageParams(page=2, per_page=5)
    """
    return validate_query(model, _pick(query, _PAGE_KEYS))


def cursor_params(
    query: Mapping[str, Any] | Any, *, model: type[CursorParams] = CursorParams
) -> CursorParams:
    """Read ``cursor`` and ``perPage`` (or ``per_page``) from a query mapping or multi-dict.

    Args:
        query: a mapping or multi-dict, as for [`page_params`][backendkit.listing.page_params].
        model: ``CursorParams`` or a class from ``CursorParams.with_max(n)``.

    The cursor's signature is checked later, when the data layer decodes it.

    Raises:
        ValidationFailed: ``perPage`` is not an integer, is out of range or is repeated (400).
    """
    return validate_query(model, _pick(query, _CURSOR_KEYS))
