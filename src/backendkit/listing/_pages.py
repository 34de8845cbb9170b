"""What a query returns: a page by number or a page by cursor.

Pages are small frozen dataclasses; [`paginated`][backendkit.responses.paginated] turns
them into the wire envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:  # only annotations: a page needs no pydantic model at import
    from backendkit.listing._params import PageParams

__all__ = ["CursorPage", "Page"]

T = TypeVar("T")
U = TypeVar("U")


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
            >>> from backendkit.listing import PageParams
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
    [`CursorCodec`][backendkit.listing.CursorCodec], ``None`` at either end.

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
