"""Page and cursor parameters (what a client asks for) and pages (what a query returns).

Parameters are [`ApiModel`][backendkit.validation.ApiModel]s, so they validate from a query
string (``?page=2&perPage=50``) or a JSON body with the usual field-level errors. Values out of
range are a ``VALIDATION_ERROR``, never silently clamped: a client asking for 1000 rows and
quietly getting 100 would page through the data wrongly without noticing.

Pages are small frozen dataclasses; [`paginated`][backendkit.responses.paginated] turns
them into the wire envelope.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, ClassVar, Generic, TypeVar

from pydantic import BeforeValidator, ConfigDict, Field, create_model

from backendkit._validators import not_bool as _not_bool
from backendkit.validation import ApiModel

__all__ = [
    "DEFAULT_MAX_PER_PAGE",
    "DEFAULT_PER_PAGE",
    "MAX_CURSOR_LENGTH",
    "MAX_PAGE",
    "CursorPage",
    "CursorParams",
    "Page",
    "PageParams",
    "cursor_params_model",
    "page_params_model",
]

T = TypeVar("T")
U = TypeVar("U")
P = TypeVar("P", bound="_PerPage")

#: ``perPage`` when the client sends none.
DEFAULT_PER_PAGE = 20
#: Largest ``perPage`` accepted by [`PageParams`][backendkit.pagination.PageParams].
DEFAULT_MAX_PER_PAGE = 100
#: Largest page number; keeps ``offset`` inside a signed 64-bit integer for any page size.
MAX_PAGE = 2**31 - 1
#: Longest cursor accepted, in characters (the codec refuses longer ones before decoding).
MAX_CURSOR_LENGTH = 4096

_PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE), BeforeValidator(_not_bool)]
_PerPageNumber = Annotated[int, Field(ge=1, le=DEFAULT_MAX_PER_PAGE), BeforeValidator(_not_bool)]


class _PerPage(ApiModel):
    # Query strings carry other parameters (sort, filters) next to these: ignore them here.
    model_config = ConfigDict(extra="ignore", frozen=True)

    #: The ``perPage`` cap of this class.
    max_per_page: ClassVar[int] = DEFAULT_MAX_PER_PAGE


class PageParams(_PerPage):
    """Offset pagination parameters: ``page`` (from 1) and ``perPage`` (1 to the cap).

    The cap is 100 by default; [`with_max`][backendkit.pagination.PageParams.with_max]
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

    Decode the cursor with a [`CursorCodec`][backendkit.cursor.CursorCodec] bound to the
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
    """Return a [`PageParams`][backendkit.pagination.PageParams] class with another cap.

    Raises:
        ValueError: unless ``1 <= default_per_page <= max_per_page <= MAX_PAGE``.
    """
    return _capped(PageParams, max_per_page, default_per_page)


def cursor_params_model(
    *, max_per_page: int = DEFAULT_MAX_PER_PAGE, default_per_page: int = DEFAULT_PER_PAGE
) -> type[CursorParams]:
    """Return a [`CursorParams`][backendkit.pagination.CursorParams] class with another cap.

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
    per_page = Annotated[int, Field(ge=1, le=max_per_page), BeforeValidator(_not_bool)]
    model: type[P] = create_model(
        name,
        __base__=base,
        __module__=base.__module__,
        per_page=(per_page, default_per_page),
    )
    model.max_per_page = max_per_page
    return model


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of an offset-paginated result.

    ``total`` is ``None`` when the query did not count rows (count strategy ``none``);
    ``has_next`` then says whether another page exists.

    Example:
        >>> page = Page(items=["a", "b"], page=1, per_page=2, total=5, has_next=True)
        >>> page.total_pages
        3
    """

    items: Sequence[T]
    page: int
    per_page: int
    total: int | None
    has_next: bool

    @property
    def total_pages(self) -> int | None:
        """``ceil(total / per_page)`` (0 when there are no rows), or ``None`` without a count."""
        if self.total is None:
            return None
        return -(-self.total // self.per_page)

    @property
    def has_prev(self) -> bool:
        """True after the first page."""
        return self.page > 1

    @classmethod
    def build(
        cls,
        items: Sequence[T],
        params: PageParams,
        *,
        total: int | None = None,
        has_next: bool | None = None,
    ) -> Page[T]:
        """Make a page for ``params``; ``has_next`` defaults to what ``total`` implies.

        Raises:
            ValueError: neither ``total`` nor ``has_next`` is given.

        Example:
            >>> Page.build(["a"], PageParams(page=2, per_page=1), total=3).has_next
            True
        """
        if has_next is None:
            if total is None:
                raise ValueError("give total or has_next")
            has_next = params.page * params.per_page < total
        return cls(list(items), params.page, params.per_page, total, has_next)

    def map(self, func: Callable[[T], U]) -> Page[U]:
        """Return the same page with ``func`` applied to every item."""
        return Page(
            [func(item) for item in self.items], self.page, self.per_page, self.total, self.has_next
        )


@dataclass(frozen=True, slots=True)
class CursorPage(Generic[T]):
    """One page of a cursor-paginated (keyset) result.

    ``next_cursor`` / ``prev_cursor`` are opaque tokens from a
    [`CursorCodec`][backendkit.cursor.CursorCodec], ``None`` at either end.

    Example:
        >>> CursorPage(["a"], per_page=1, next_cursor="t", prev_cursor=None,
        ...            has_next=True, has_prev=False).has_next
        True
    """

    items: Sequence[T]
    per_page: int
    next_cursor: str | None
    prev_cursor: str | None
    has_next: bool
    has_prev: bool

    def map(self, func: Callable[[T], U]) -> CursorPage[U]:
        """Return the same page with ``func`` applied to every item."""
        return CursorPage(
            [func(item) for item in self.items],
            self.per_page,
            self.next_cursor,
            self.prev_cursor,
            self.has_next,
            self.has_prev,
        )
