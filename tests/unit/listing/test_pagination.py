"""Page and cursor parameters validate (never clamp); pages compute their derived values."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from backendkit.errors import ErrorDetail, ValidationFailed
from backendkit.listing import (
    DEFAULT_MAX_PER_PAGE,
    DEFAULT_PER_PAGE,
    MAX_CURSOR_LENGTH,
    MAX_PAGE,
    CursorPage,
    CursorParams,
    Page,
    PageParams,
    cursor_params_model,
    page_params_model,
)
from backendkit.validation import validate, validate_query


def test_defaults_are_first_page_of_twenty() -> None:
    """No parameters: page 1, perPage 20, offset 0."""
    params = validate(PageParams, {})
    assert (params.page, params.per_page, params.offset, params.limit) == (1, 20, 0, 20)
    assert DEFAULT_PER_PAGE == 20
    assert DEFAULT_MAX_PER_PAGE == 100


@pytest.mark.parametrize(
    "query",
    [{"page": "3", "perPage": "25"}, {"page": "3", "per_page": "25"}, {"page": 3, "perPage": 25}],
)
def test_reads_camel_or_snake_case_and_strings(query: dict[str, Any]) -> None:
    """Query strings are strings; both perPage and per_page are accepted."""
    params = validate(PageParams, query)
    assert (params.page, params.per_page, params.offset) == (3, 25, 50)


@pytest.mark.parametrize(
    ("bad", "field", "message", "valid_twin"),
    [
        ({"page": "0"}, "page", "Input should be greater than or equal to 1", {"page": "1"}),
        ({"page": -1}, "page", "Input should be greater than or equal to 1", {"page": 2}),
        (
            {"page": MAX_PAGE + 1},
            "page",
            f"Input should be less than or equal to {MAX_PAGE}",
            {"page": MAX_PAGE},
        ),
        ({"perPage": 0}, "perPage", "Input should be greater than or equal to 1", {"perPage": 1}),
        (
            {"perPage": "101"},
            "perPage",
            "Input should be less than or equal to 100",
            {"perPage": "100"},
        ),
        (
            {"perPage": "ten"},
            "perPage",
            "Input should be a valid integer, unable to parse string as an integer",
            {"perPage": "10"},
        ),
        ({"page": True}, "page", "Input should be a valid integer", {"page": 1}),
    ],
)
def test_out_of_range_is_a_validation_error_never_clamped(
    bad: dict[str, Any], field: str, message: str, valid_twin: dict[str, Any]
) -> None:
    """perPage=101 is refused (not quietly turned into 100); the in-range twin passes."""
    with pytest.raises(ValidationFailed) as caught:
        validate(PageParams, bad)
    assert caught.value.details == (ErrorDetail(field, message),)
    validate(PageParams, valid_twin)


def test_other_query_parameters_are_ignored() -> None:
    """Sort and filter parameters sit next to paging in a query string."""
    params = validate_query(PageParams, {"page": "2", "sort": "-id", "role": "admin"})
    assert params.page == 2


def test_params_are_frozen_and_hashable() -> None:
    """Parameters are values: immutable and usable as cache keys."""
    params = PageParams(page=2)
    with pytest.raises(ValidationError):
        params.page = 3  # type: ignore[misc]
    assert hash(params) == hash(PageParams(page=2))


def test_offset_of_the_last_page_fits_in_bigint() -> None:
    """MAX_PAGE times any allowed cap stays inside a signed 64-bit integer."""
    params = PageParams.with_max(MAX_PAGE).model_validate({"page": MAX_PAGE, "perPage": MAX_PAGE})
    assert params.offset < 2**63


def test_with_max_gives_a_cached_class_with_another_cap() -> None:
    """PageParams.with_max(500) accepts 500, refuses 501, and is the same class every time."""
    big = PageParams.with_max(500)
    assert big is PageParams.with_max(500) is page_params_model(max_per_page=500)
    assert issubclass(big, PageParams)
    assert big.__name__ == "PageParamsMax500"
    assert big.max_per_page == 500
    assert PageParams.max_per_page == 100
    assert validate(big, {"perPage": 500}).per_page == 500
    with pytest.raises(ValidationFailed) as caught:
        validate(big, {"perPage": 501})
    assert caught.value.details == (
        ErrorDetail("perPage", "Input should be less than or equal to 500"),
    )
    assert big.model_json_schema()["properties"]["perPage"]["maximum"] == 500


def test_with_max_default_per_page_and_identity_for_the_defaults() -> None:
    """A new default per page is part of the class; the defaults give PageParams itself."""
    small = PageParams.with_max(50, default_per_page=10)
    assert small.__name__ == "PageParamsMax50Default10"
    assert validate(small, {}).per_page == 10
    assert PageParams.with_max(100) is PageParams
    assert CursorParams.with_max(100) is CursorParams


@pytest.mark.parametrize(("cap", "default"), [(0, 1), (10, 20), (10, 0), (MAX_PAGE + 1, 20)])
def test_with_max_refuses_impossible_caps(cap: int, default: int) -> None:
    """The cap must be >= 1 and >= the default; the default >= 1."""
    with pytest.raises(ValueError, match="max_per_page"):
        page_params_model(max_per_page=cap, default_per_page=default)
    assert page_params_model(max_per_page=min(max(cap, 1), MAX_PAGE), default_per_page=1)


def test_schema_has_readable_titles_and_bounds() -> None:
    """OpenAPI shows page >= 1 and perPage in 1..100 with readable titles."""
    props = PageParams.model_json_schema()["properties"]
    assert props["page"]["minimum"] == 1
    assert props["perPage"] == {
        "default": 20,
        "maximum": 100,
        "minimum": 1,
        "title": "Per page",
        "type": "integer",
    }


def test_cursor_params_defaults_and_caps() -> None:
    """cursor is optional, at most 4096 characters; perPage has the same caps."""
    params = validate(CursorParams, {"perPage": "10"})
    assert (params.cursor, params.per_page) == (None, 10)
    assert validate(CursorParams, {"cursor": "x" * MAX_CURSOR_LENGTH}).cursor
    with pytest.raises(ValidationFailed) as caught:
        validate(CursorParams, {"cursor": "x" * (MAX_CURSOR_LENGTH + 1), "perPage": 101})
    assert [d.field for d in caught.value.details] == ["cursor", "perPage"]
    capped = CursorParams.with_max(10, default_per_page=5)
    assert capped is cursor_params_model(max_per_page=10, default_per_page=5)
    assert validate(capped, {}).per_page == 5
    assert capped.__name__ == "CursorParamsMax10Default5"


@pytest.mark.parametrize(
    ("total", "per_page", "pages"),
    [(100, 20, 5), (101, 20, 6), (0, 20, 0), (1, 20, 1), (None, 20, None)],
)
def test_total_pages(total: int | None, per_page: int, pages: int | None) -> None:
    """ceil(total / perPage), 0 for no rows, None without a count."""
    assert Page([], 1, per_page, total, False).total_pages == pages


def test_page_build_computes_has_next_from_total() -> None:
    """build() derives has_next from total, or takes it when there is no count."""
    assert Page.build(["a"], PageParams(page=2, per_page=1), total=3).has_next is True
    assert Page.build(["a"], PageParams(page=3, per_page=1), total=3).has_next is False
    page = Page.build(("a", "b"), PageParams(), has_next=True)
    assert (page.items, page.total, page.total_pages, page.has_next) == (
        ["a", "b"],
        None,
        None,
        True,
    )
    with pytest.raises(ValueError, match="total or has_next"):
        Page.build([], PageParams())


def test_page_map_and_has_prev() -> None:
    """map() converts items and keeps the rest; has_prev is true after page 1."""
    page = Page([1, 2], page=2, per_page=2, total=4, has_next=False)
    mapped = page.map(str)
    assert mapped == Page(["1", "2"], 2, 2, 4, False)
    assert page.has_prev
    assert not Page([], 1, 2, 0, False).has_prev


def test_cursor_page_map() -> None:
    """CursorPage.map converts items and keeps cursors and flags."""
    page = CursorPage(
        [1], per_page=1, next_cursor="n", prev_cursor="p", has_next=True, has_prev=True
    )
    assert page.map(str) == CursorPage(["1"], 1, "n", "p", True, True)


@given(st.integers(0, 10_000), st.integers(1, 100))
def test_every_row_is_on_exactly_one_page(total: int, per_page: int) -> None:
    """Pages 1..total_pages cover rows 0..total-1 without overlap; has_next is exact."""
    pages = Page([], 1, per_page, total, False).total_pages
    assert pages is not None
    covered = 0
    for number in range(1, pages + 1):
        params = PageParams.with_max(100).model_validate({"page": number, "perPage": per_page})
        size = min(per_page, total - params.offset)
        assert size > 0
        covered += size
        assert Page.build([], params, total=total).has_next == (number < pages)
    assert covered == total
