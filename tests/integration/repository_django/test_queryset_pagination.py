"""paginate_queryset / paginate_queryset_cursor and their async twins on SQLite and real
PostgreSQL: every paging test runs sync and async (the coroutine driven by asgiref's
``async_to_sync``, as Django runs an async view under WSGI, so a sync ORM call on the event
loop would raise ``SynchronousOnlyOperation``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import connections
from django.db.models import F
from tests.djangoproject.testapp.models import Article, Tag

from backendkit.adapters.django import (
    QueryFilter,
    apaginate_queryset,
    apaginate_queryset_cursor,
    filter_queryset,
    paginate_queryset,
    paginate_queryset_cursor,
)
from backendkit.errors import ValidationFailed
from backendkit.listing import CursorCodec, CursorParams, PageParams

CODEC = CursorCodec([b"django-pagination-tests-key-0123"])
SORT_FIELDS = {"title": "title", "rank": "rank", "category": "category", "created": "created"}
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)

Paginate = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def paginate(request: pytest.FixtureRequest) -> Paginate:
    """paginate_queryset, or apaginate_queryset run to completion."""
    return paginate_queryset if request.param == "sync" else async_to_sync(apaginate_queryset)


@pytest.fixture(params=["sync", "async"])
def paginate_cursor(request: pytest.FixtureRequest) -> Paginate:
    """paginate_queryset_cursor, or apaginate_queryset_cursor run to completion."""
    if request.param == "sync":
        return paginate_queryset_cursor
    return async_to_sync(apaginate_queryset_cursor)


@pytest.fixture
def articles(alias: str) -> Iterator[Any]:
    """21 articles with heavy ties and NULLs; removed after the test."""
    Article.objects.using(alias).bulk_create(
        [
            Article(
                title=["alpha", "Alpha", "beta", "gamma"][i % 4],
                rank=None if i % 3 == 0 else i % 4,
                category=[None, "x", "y"][i % 3],
                created=BASE + dt.timedelta(hours=i % 5),
            )
            for i in range(21)
        ]
    )
    yield Article.objects.using(alias).all()
    Tag.objects.using(alias).all().delete()
    Article.objects.using(alias).all().delete()


def _db_order(qs: Any, sort: str) -> list[int]:
    """The database's own ORDER BY (NULL greatest, PK tie-breaker), independent of the code."""
    terms = []
    for part in sort.split(","):
        desc = part.startswith("-")
        name = SORT_FIELDS[part.lstrip("-")]
        terms.append(F(name).desc(nulls_first=True) if desc else F(name).asc(nulls_last=True))
    last_desc = sort.split(",")[-1].startswith("-")
    terms.append(F("id").desc() if last_desc else F("id").asc())
    return list(qs.order_by(*terms).values_list("id", flat=True))


def test_offset_page_with_exact_count(articles: Any, paginate: Paginate) -> None:
    """Page 2 of 5 per page: the rows, the exact total and hasNext."""
    page = paginate(
        articles, PageParams(page=2, per_page=5), sort="-created", sort_fields=SORT_FIELDS
    )
    assert [a.id for a in page.items] == _db_order(articles, "-created")[5:10]
    assert (page.total, page.total_pages, page.has_next) == (21, 5, True)


def test_short_and_past_the_end_pages(articles: Any, paginate: Paginate) -> None:
    """A short page tells the total; past the end the total stays true."""
    last = paginate(articles, PageParams(page=5, per_page=5))
    assert (len(last.items), last.total, last.has_next) == (1, 21, False)
    past = paginate(articles, PageParams(page=9, per_page=5))
    assert (past.items, past.total) == ([], 21)
    none = paginate(articles.filter(title="none"), PageParams())
    assert (none.total, none.has_next) == (0, False)


def test_count_none_and_estimated(articles: Any, paginate: Paginate) -> None:
    """none: no total, hasNext from an extra row; estimated: exact below the threshold."""
    page = paginate(articles, PageParams(page=4, per_page=5), count="none")
    assert (page.total, page.has_next) == (None, True)
    page = paginate(articles, PageParams(page=5, per_page=5), count="none")
    assert page.has_next is False
    estimated = paginate(articles, PageParams(page=1, per_page=5), count="estimated")
    assert estimated.total == 21
    planned = paginate(
        articles, PageParams(page=2, per_page=5), count="estimated", estimate_threshold=0
    )
    assert planned.total is not None
    assert planned.total >= 11
    with pytest.raises(ValueError, match="count strategy"):
        paginate(articles, PageParams(page=2), count="nope")  # type: ignore[arg-type]


def test_count_with_joins_and_distinct(articles: Any, alias: str, paginate: Paginate) -> None:
    """The total counts distinct articles, not joined tag rows."""
    first = list(articles.order_by("id")[:3])
    Tag.objects.using(alias).bulk_create(
        [Tag(article=a, name=n) for a in first for n in ("red", "blue")]
    )
    qs = articles.filter(tags__name__in=["red", "blue"]).distinct()
    page = paginate(qs, PageParams(page=2, per_page=2))
    assert (page.total, len(page.items)) == (3, 1)
    page = paginate(qs, PageParams(page=1, per_page=2))
    assert page.total == 3


def test_sort_is_allowlisted_and_offset_capped(articles: Any, paginate: Paginate) -> None:
    """Unknown sort fields and too-deep pages are VALIDATION_ERRORs naming the field."""
    with pytest.raises(ValidationFailed) as info:
        paginate(articles, PageParams(), sort="secret", sort_fields=SORT_FIELDS)
    assert [d.field for d in info.value.details] == ["sort"]
    with pytest.raises(ValidationFailed) as info:
        paginate(articles, PageParams(page=3, per_page=10), max_offset=10)
    assert [d.field for d in info.value.details] == ["page"]
    ok = paginate(articles, PageParams(page=2, per_page=10), max_offset=10)
    assert len(ok.items) == 10


@pytest.mark.parametrize("sort", ["rank", "-rank", "category,title", "-category,rank", "title"])
def test_cursor_walk_both_ways_in_database_order(
    articles: Any, sort: str, paginate_cursor: Paginate
) -> None:
    """Every article exactly once, in the database's order, walking forward and back."""
    expected = _db_order(articles, sort)
    for per_page in (1, 4, 25):
        seen: list[int] = []
        page = paginate_cursor(
            articles,
            CursorParams(per_page=per_page),
            codec=CODEC,
            sort=sort,
            sort_fields=SORT_FIELDS,
        )
        seen += [a.id for a in page.items]
        while page.has_next:
            assert len(seen) <= len(expected)
            page = paginate_cursor(
                articles,
                CursorParams(cursor=page.next_cursor, per_page=per_page),
                codec=CODEC,
                sort=sort,
                sort_fields=SORT_FIELDS,
            )
            seen += [a.id for a in page.items]
        assert seen == expected
        back = [a.id for a in page.items]
        while page.has_prev:
            assert len(back) <= len(expected)
            page = paginate_cursor(
                articles,
                CursorParams(cursor=page.prev_cursor, per_page=per_page),
                codec=CODEC,
                sort=sort,
                sort_fields=SORT_FIELDS,
            )
            back = [a.id for a in page.items] + back
        assert back == expected


def test_cursor_is_bound_to_sort_and_filters(articles: Any, paginate_cursor: Paginate) -> None:
    """A cursor used with another sort or other filters is refused; the same query works."""
    page = paginate_cursor(
        articles,
        CursorParams(per_page=3),
        codec=CODEC,
        sort="rank",
        sort_fields=SORT_FIELDS,
        filters={"a": 1},
    )
    params = CursorParams(cursor=page.next_cursor, per_page=3)
    for kwargs in ({"sort": "-rank", "filters": {"a": 1}}, {"sort": "rank", "filters": {"a": 2}}):
        with pytest.raises(ValidationFailed):
            paginate_cursor(articles, params, codec=CODEC, sort_fields=SORT_FIELDS, **kwargs)
    again = paginate_cursor(
        articles, params, codec=CODEC, sort="rank", sort_fields=SORT_FIELDS, filters={"a": 1}
    )
    assert len(again.items) == 3


def test_cursor_past_the_end_offers_the_way_back(articles: Any, paginate_cursor: Paginate) -> None:
    """After the rows beyond a cursor are deleted, the empty page links back to them."""
    first = paginate_cursor(articles, CursorParams(per_page=3), codec=CODEC)
    articles.filter(id__gt=first.items[-1].id).delete()
    empty = paginate_cursor(
        articles, CursorParams(cursor=first.next_cursor, per_page=3), codec=CODEC
    )
    assert (empty.items, empty.has_next, empty.has_prev) == ([], False, True)
    back = paginate_cursor(
        articles, CursorParams(cursor=empty.prev_cursor, per_page=3), codec=CODEC
    )
    assert [a.id for a in back.items] == [a.id for a in first.items]
    articles.all().delete()
    gone = paginate_cursor(
        articles,
        CursorParams(cursor=back.prev_cursor or empty.prev_cursor, per_page=3),
        codec=CODEC,
    )
    assert gone.items == []
    assert gone.next_cursor is not None


def test_cursor_paging_never_counts(articles: Any, alias: str, paginate_cursor: Paginate) -> None:
    """A non-null sort is one query per page, and no COUNT is ever sent."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections[alias]) as queries:
        page = paginate_cursor(
            articles, CursorParams(per_page=5), codec=CODEC, sort="created", sort_fields=SORT_FIELDS
        )
        paginate_cursor(
            articles,
            CursorParams(cursor=page.next_cursor, per_page=5),
            codec=CODEC,
            sort="created",
            sort_fields=SORT_FIELDS,
        )
    assert len(queries.captured_queries) == 2
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert " OR " not in queries.captured_queries[1]["sql"].split("WHERE", 1)[1].upper()


def test_cursors_cross_between_sync_and_async(articles: Any) -> None:
    """A cursor from the sync function pages on in the async twin, and back."""
    apaginate = async_to_sync(apaginate_queryset_cursor)
    options: dict[str, Any] = {"codec": CODEC, "sort": "-rank", "sort_fields": SORT_FIELDS}
    first = paginate_queryset_cursor(articles, CursorParams(per_page=4), **options)
    second = apaginate(articles, CursorParams(cursor=first.next_cursor, per_page=4), **options)
    back = paginate_queryset_cursor(
        articles, CursorParams(cursor=second.prev_cursor, per_page=4), **options
    )
    expected = _db_order(articles, "-rank")
    assert [a.id for a in [*first.items, *second.items]] == expected[:8]
    assert [a.id for a in back.items] == expected[:4]


FILTERS = {
    "title": QueryFilter("title", "eq", "in", "search", "ne"),
    "rank": QueryFilter("rank", "eq", "gte", "lte", "null"),
    "category": QueryFilter("category", "null", "eq"),
    "created": QueryFilter("created", "gte"),
    "tag": QueryFilter("tags__name"),
}


def _titles(qs: Any) -> list[str]:
    return sorted(a.title for a in qs)


def test_filter_queryset_applies_every_operator(articles: Any) -> None:
    """Typed values, each operator, and paging keys skipped."""
    qs, applied = filter_queryset(
        articles, {"rank[gte]": "2", "page": "3", "sort": "-rank", "perPage": "5"}, FILTERS
    )
    assert {a.rank for a in qs} == {2, 3}
    assert applied == [["rank", "gte", 2]]
    assert len(filter_queryset(articles, {"rank[null]": "true"}, FILTERS)[0]) == 7
    assert len(filter_queryset(articles, {"title[in]": "beta,gamma"}, FILTERS)[0]) == 10
    assert len(filter_queryset(articles, {"title[search]": "ALPHA"}, FILTERS)[0]) == 11
    assert len(filter_queryset(articles, {"title[ne]": "beta"}, FILTERS)[0]) == 16
    assert len(filter_queryset(articles, {"category": "x"}, FILTERS)[0]) == 7
    later = filter_queryset(articles, {"created[gte]": "2024-01-01T03:00:00Z"}, FILTERS)[0]
    assert len(later) == 8
    assert filter_queryset(articles, None, FILTERS) == (articles, [])


def test_filter_search_treats_wildcards_literally(alias: str) -> None:
    """% and _ in a search term match themselves."""
    Article.objects.using(alias).bulk_create(
        [Article(title=t, created=BASE) for t in ("100% cotton", "1000 cotton", "a_b", "axb")]
    )
    try:
        qs = Article.objects.using(alias).all()
        assert _titles(filter_queryset(qs, {"title[search]": "0%"}, FILTERS)[0]) == ["100% cotton"]
        assert _titles(filter_queryset(qs, {"title[search]": "a_"}, FILTERS)[0]) == ["a_b"]
    finally:
        Article.objects.using(alias).all().delete()


def test_filter_errors_name_the_field(articles: Any) -> None:
    """Unknown field, bad operator, wrong type: VALIDATION_ERROR like the repository's."""
    for query, field, message in [
        ({"secret": "1"}, "secret", "is not a filterable field"),
        ({"rank[search]": "1"}, "rank", "does not support the 'search' operator"),
        ({"rank[gte]": "high"}, "rank", "must be a valid integer"),
        ({"created[gte]": "soon"}, "created", "must be a valid date-time"),
    ]:
        with pytest.raises(ValidationFailed) as info:
            filter_queryset(articles, query, FILTERS)
        assert [(d.field, d.message) for d in info.value.details] == [(field, message)]
    with pytest.raises(ValueError, match="unknown filter operators"):
        QueryFilter("rank", "like")
    assert repr(FILTERS["rank"]).startswith("QueryFilter(")
    assert QueryFilter("rank", python_type=int).bound(Article).python_type is int
    assert QueryFilter("nope").bound(Article).python_type is str


def test_filtered_cursor_walk_is_bound_to_the_filters(
    articles: Any, alias: str, paginate_cursor: Paginate
) -> None:
    """Filters over a join with distinct, walked by cursor bound to the applied filters."""
    first = list(articles.order_by("id")[:4])
    Tag.objects.using(alias).bulk_create([Tag(article=a, name=n) for a in first for n in "xy"])
    qs, applied = filter_queryset(articles, {"tag[in]": "x,y"}, FILTERS)
    qs = qs.distinct()
    page = paginate_cursor(qs, CursorParams(per_page=3), codec=CODEC, filters=applied)
    rest = paginate_cursor(
        qs, CursorParams(cursor=page.next_cursor, per_page=3), codec=CODEC, filters=applied
    )
    assert [a.id for a in [*page.items, *rest.items]] == [a.id for a in first]
    other, other_applied = filter_queryset(articles, {"tag": "x"}, FILTERS)
    with pytest.raises(ValidationFailed):
        paginate_cursor(
            other, CursorParams(cursor=page.next_cursor), codec=CODEC, filters=other_applied
        )
