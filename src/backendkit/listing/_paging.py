"""From fetched rows to pages, written once for the SQLAlchemy repository and the Django adapter.

Each backend builds and runs its own queries; what the rows mean is decided here:

* [`OffsetWindow`][]: which rows a page number reads, when the rows themselves tell the
  total, and how the page (with its ``total`` per the count strategy) is put together.
* [`KeysetWindow`][]: the cursor a request came with (verified, bound to the sort and
  filters), the direction of the walk, and the page with its next and previous cursors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias, TypeVar

from backendkit.errors import ErrorDetail, ValidationFailed
from backendkit.listing._codec import CursorCodec, cursor_binding
from backendkit.listing._pages import CursorPage, Page
from backendkit.listing._params import CursorParams, PageParams
from backendkit.listing._sort import NamedKey, canonical_sort
from backendkit.listing._state import CursorState

__all__ = [
    "COUNT_STRATEGIES",
    "DEFAULT_ESTIMATE_THRESHOLD",
    "DEFAULT_MAX_OFFSET",
    "Counting",
    "KeysetWindow",
    "OffsetWindow",
    "SortTerm",
]

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K", bound="SortTerm")

#: How page-number paging computes ``total``: ``exact``, ``none`` or ``estimated``.
Counting: TypeAlias = Literal["exact", "none", "estimated"]

#: Every count strategy.
COUNT_STRATEGIES: tuple[Counting, ...] = ("exact", "none", "estimated")

#: Largest row offset page-number paging accepts unless configured otherwise.
DEFAULT_MAX_OFFSET = 10_000
#: Below this planner estimate, the ``estimated`` strategy counts exactly.
DEFAULT_ESTIMATE_THRESHOLD = 10_000


class SortTerm(NamedKey, Protocol):
    """A resolved sort key that can be walked the other way."""

    def reversed(self: K) -> K:
        """The same key in the opposite direction."""


@dataclass(frozen=True, slots=True)
class OffsetWindow:
    """The rows a page-number request reads, and how they become a [`Page`][].

    ``exact`` reads one page and counts only when the page does not tell the total (a
    short non-empty page, or an empty first page, does); ``none`` and ``estimated`` read
    one extra row, which tells ``has_next``.
    """

    params: PageParams
    count: Counting

    @classmethod
    def open(cls, params: PageParams, count: Counting, max_offset: int | None) -> OffsetWindow:
        """The window for ``params``.

        Raises:
            ValidationFailed: on field ``page``, past ``max_offset`` (``None``: no limit).
            ValueError: an unknown count strategy.
        """
        if count not in COUNT_STRATEGIES:
            raise ValueError(f"unknown count strategy {count!r}")
        if max_offset is not None and params.offset > max_offset:
            limit = max_offset // params.per_page + 1
            raise ValidationFailed(
                "Page out of range", details=[ErrorDetail("page", f"must be at most {limit}")]
            )
        return cls(params, count)

    @property
    def offset(self) -> int:
        """Rows to skip."""
        return self.params.offset

    @property
    def fetch(self) -> int:
        """Rows to read (the page, plus one unless counting exactly)."""
        return self.params.per_page + (0 if self.count == "exact" else 1)

    def _known(self, rows: Sequence[Any]) -> int | None:
        # A short, non-empty page (or an empty first page) tells the exact total for free.
        shown = min(len(rows), self.params.per_page)
        if (rows and len(rows) < self.params.per_page) or (self.offset == 0 and not rows):
            return self.offset + shown
        return None

    def needs_total(self, rows: Sequence[Any]) -> bool:
        """Whether the strategy wants a total that ``rows`` do not tell (count or estimate)."""
        return self.count != "none" and self._known(rows) is None

    def page(self, rows: Sequence[T], total: int | None = None) -> Page[T]:
        """The page of ``rows`` (as read: up to ``fetch``); ``total`` as counted if needed."""
        params = self.params
        items = list(rows[: params.per_page])
        more = len(rows) > params.per_page
        if self.count == "none":
            return Page(items, params.page, params.per_page, None, more)
        known = self._known(rows)
        if known is not None:
            total = known
        elif total is None:
            raise ValueError("the rows do not tell the total: count them first")
        if self.count == "exact":
            has_next = self.offset + len(items) < total
            return Page(items, params.page, params.per_page, total, has_next)
        if known is None and items:  # an estimate may be stale: never contradict this page
            total = max(total, self.offset + len(items) + (1 if more else 0))
        return Page(items, params.page, params.per_page, total, more)


@dataclass(frozen=True, slots=True)
class KeysetWindow:
    """A keyset request: its verified cursor (if any), its page size and its signing."""

    codec: CursorCodec
    binding: str
    per_page: int
    state: CursorState | None

    @classmethod
    def open(
        cls,
        params: CursorParams,
        codec: CursorCodec,
        keys: Sequence[NamedKey],
        *,
        filters: Any,
        scope: str,
    ) -> KeysetWindow:
        """Verify the request's cursor against the sort ``keys``, ``filters`` and ``scope``.

        Raises:
            ValidationFailed: on field ``cursor``, for a cursor that is invalid, tampered
                with or made for another listing.
        """
        binding = cursor_binding(canonical_sort(keys), filters, scope=scope)
        state = None
        if params.cursor:
            payload = codec.decode(params.cursor, binding=binding)
            state = CursorState.from_payload(payload, len(keys))
        return cls(codec, binding, params.per_page, state)

    @property
    def backward(self) -> bool:
        """Whether this page is read backwards from the cursor (a previous page)."""
        return self.state is not None and self.state.backward

    @property
    def values(self) -> tuple[Any, ...] | None:
        """The key values of the cursor's row, read after (``None`` on a first page)."""
        return None if self.state is None else self.state.values

    @property
    def inclusive(self) -> bool:
        """Whether the cursor's own row is part of the page (a way back from an empty end)."""
        return self.state is not None and self.state.inclusive

    @property
    def fetch(self) -> int:
        """Rows to read: the page and one more, which tells whether the walk goes on."""
        return self.per_page + 1

    def walk(self, keys: Sequence[K]) -> list[K]:
        """``keys`` in the order rows are read: reversed for a previous page."""
        return [key.reversed() for key in keys] if self.backward else list(keys)

    def page(self, rows: Sequence[R], key_of: Callable[[R], Sequence[Any]]) -> CursorPage[R]:
        """The page of ``rows`` as read (walk order, up to ``fetch``), with its cursors.

        ``key_of`` gives a row's sort-key values (as sorted, primary key last); it is asked
        only for the first and the last row shown, or none.
        """
        state = self.state
        more = len(rows) > self.per_page
        items = list(rows[: self.per_page])
        if self.backward:
            items.reverse()
        has_next = True if self.backward else more
        has_prev = more if self.backward else state is not None
        next_cursor = prev_cursor = None
        if items:
            next_cursor = self._token(key_of(items[-1]), False) if has_next else None
            prev_cursor = self._token(key_of(items[0]), True) if has_prev else None
        elif state is not None:
            # Nothing beyond the cursor (rows were deleted, or the end was reached): offer
            # the way back, starting at the cursor's own row.
            if self.backward:
                has_prev = False
                next_cursor = self._token(state.values, False, inclusive=True)
            else:
                has_next = False
                prev_cursor = self._token(state.values, True, inclusive=True)
        return CursorPage(items, self.per_page, next_cursor, prev_cursor, has_next, has_prev)

    def _token(self, values: Sequence[Any], backward: bool, *, inclusive: bool = False) -> str:
        payload = CursorState(tuple(values), backward, inclusive).to_payload()
        return self.codec.encode(payload, binding=self.binding)
