"""Django ORM errors caused by a client's value map to 400 BAD_REQUEST (real PostgreSQL).

Django re-raises the driver's error as ``django.db.DataError`` (``from`` the driver's
error): psycopg refuses NUL in text on the client with no SQLSTATE; the server answers
22001 (too long) and 22003 (out of range). The Django adapter maps them through
``from_django_exception``; division by zero (22012) is left for the generic 500. SQLite
stores every one of these values: its rows are the twins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DataError, connections
from django.db.models.expressions import RawSQL
from tests.djangoproject.testapp.models import Article

from backendkit.adapters.django._request import from_django_exception
from backendkit.errors import BadRequest

CREATED = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def clean(alias: str) -> Iterator[str]:
    """The alias, with the articles a test made removed afterwards."""
    yield alias
    Article.objects.using(alias).all().delete()


@pytest.mark.parametrize(
    ("fields", "sqlstate"),
    [
        ({"title": "ab\x00cd"}, None),
        ({"title": "t" * 41}, "22001"),
        ({"title": "x", "rank": 2**40}, "22003"),
    ],
    ids=["nul", "too-long", "out-of-range"],
)
def test_refused_values_are_bad_request(
    clean: str, fields: dict[str, Any], sqlstate: str | None
) -> None:
    """PostgreSQL refuses the value: django.db.DataError, mapped to BAD_REQUEST."""
    article = Article(created=CREATED, **fields)
    if connections[clean].vendor != "postgresql":
        article.save(using=clean)  # the twin: SQLite stores it
        assert Article.objects.using(clean).get(pk=article.pk).title == fields["title"]
        return
    with pytest.raises(DataError) as caught:
        article.save(using=clean)
    assert getattr(caught.value.__cause__, "sqlstate", None) == sqlstate
    mapped = from_django_exception(caught.value)
    assert isinstance(mapped, BadRequest)
    assert (mapped.code, mapped.status) == ("BAD_REQUEST", 400)
    Article(title="fine", rank=1, created=CREATED).save(using=clean)  # the valid twin
    assert Article.objects.using(clean).filter(title="fine").count() == 1


def test_division_by_zero_is_not_bad_input(clean: str) -> None:
    """22012 is our bug: from_django_exception leaves it for the generic 500."""
    Article(title="x", rank=0, created=CREATED).save(using=clean)
    if connections[clean].vendor != "postgresql":
        # SQLite answers 1/0 with NULL, not an error: nothing to map there.
        rows = Article.objects.using(clean).annotate(bad=RawSQL("1 / rank", []))
        assert [row.bad for row in rows] == [None]
        return
    with pytest.raises(DataError) as caught:
        list(Article.objects.using(clean).annotate(bad=RawSQL("1 / rank", [])))
    assert getattr(caught.value.__cause__, "sqlstate", None) == "22012"
    assert from_django_exception(caught.value) is caught.value
