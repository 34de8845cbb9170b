"""DRF pagination classes: page and cursor envelopes over a real queryset (SQLite test DB)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from django.test import override_settings
from django.urls import path
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from tests.adapters._apps import make_kit
from tests.adapters._django_app import client_for, use_kit
from tests.djangoproject.testapp.models import Article

from backendkit.adapters.django import reset_config
from backendkit.adapters.drf import CursorPagination, PagePagination


class ArticleSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Article
        fields = ("id", "title", "rank")


class ByTitle(PagePagination):
    sort_fields = {"title": "title", "rank": "rank"}  # noqa: RUF012
    default_sort = "title"
    max_per_page = 3
    default_per_page = 3


class ByTitleNoCount(ByTitle):
    count = "none"


class ByTitleCursor(CursorPagination):
    sort_fields = {"title": "title"}  # noqa: RUF012
    default_sort = "title"


class Pages(ListAPIView):  # type: ignore[type-arg]
    queryset = Article.objects.all()
    serializer_class = ArticleSerializer
    pagination_class = ByTitle


class PagesNoCount(Pages):
    pagination_class = ByTitleNoCount


class Cursors(Pages):
    pagination_class = ByTitleCursor


class OtherCursors(Pages):
    pagination_class = ByTitleCursor


urlpatterns = [
    path("api/pages", Pages.as_view()),
    path("api/pages-no-count", PagesNoCount.as_view()),
    path("api/cursors", Cursors.as_view()),
    path("api/other-cursors", OtherCursors.as_view()),
]


@pytest.fixture(scope="module")
def articles() -> Iterator[None]:
    """A fresh SQLite test database with five articles."""
    creation = connections["default"].creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        created = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
        for i, title in enumerate(["e", "b", "d", "a", "c"]):
            Article.objects.create(title=title, rank=i, created=created)
        yield
    finally:
        connections["default"].close()
        creation.destroy_test_db(old_name, verbosity=0)


@pytest.fixture
def client(articles: None) -> Iterator[Any]:
    use_kit(make_kit(secret_key=["cursor-secret-" + "k" * 20]))
    with override_settings(BACKENDKIT={"KIT": "tests.adapters._django_app.current_kit"}):
        yield client_for(__name__)
    reset_config()


def body(response: Any) -> Any:
    return json.loads(response.content)


def test_page_envelope(client: Any) -> None:
    """The page class emits the page envelope, sorted by the allowlisted field."""
    payload = body(client.get("/api/pages?perPage=2&page=2"))
    assert payload["success"] is True
    assert [row["title"] for row in payload["data"]] == ["c", "d"]
    assert payload["pagination"] == {"page": 2, "perPage": 2, "total": 5, "totalPages": 3}


def test_page_sort_and_default_size(client: Any) -> None:
    """A client sort from the allowlist applies; perPage defaults under the class cap."""
    payload = body(client.get("/api/pages?sort=-rank"))
    assert [row["rank"] for row in payload["data"]] == [4, 3, 2]


@pytest.mark.parametrize("query", ["perPage=4", "page=0", "sort=created", "page=1&page=2"])
def test_bad_page_parameters_are_validation_errors(client: Any, query: str) -> None:
    """Over the class cap, out of range, not allowlisted or repeated: 400 VALIDATION_ERROR."""
    response = client.get(f"/api/pages?{query}")
    assert response.status_code == 400
    assert body(response)["error"]["code"] == "VALIDATION_ERROR"


def test_page_without_count(client: Any) -> None:
    """count = "none": total is null and hasNext says whether a page follows."""
    payload = body(client.get("/api/pages-no-count?perPage=2"))
    assert payload["pagination"]["total"] is None
    assert payload["pagination"]["totalPages"] is None
    assert payload["pagination"]["hasNext"] is True
    last = body(client.get("/api/pages-no-count?perPage=2&page=3"))
    assert last["pagination"]["hasNext"] is False


def test_cursor_walk_forward_and_back(client: Any) -> None:
    """Cursor pages chain through every row and back; the envelope carries both cursors."""
    first = body(client.get("/api/cursors?perPage=2"))
    assert [row["title"] for row in first["data"]] == ["a", "b"]
    assert first["pagination"]["hasNext"] is True
    assert first["pagination"]["prevCursor"] is None
    second = body(client.get(f"/api/cursors?perPage=2&cursor={first['pagination']['nextCursor']}"))
    assert [row["title"] for row in second["data"]] == ["c", "d"]
    back = body(client.get(f"/api/cursors?perPage=2&cursor={second['pagination']['prevCursor']}"))
    assert [row["title"] for row in back["data"]] == ["a", "b"]


def test_cursor_from_another_listing_is_refused(client: Any) -> None:
    """A cursor is bound to its view: replayed on another listing it is a 400."""
    first = body(client.get("/api/cursors?perPage=2"))
    token = first["pagination"]["nextCursor"]
    response = client.get(f"/api/other-cursors?perPage=2&cursor={token}")
    assert response.status_code == 400
    assert body(response)["error"]["code"] == "VALIDATION_ERROR"


def test_tampered_cursor_is_refused(client: Any) -> None:
    """A changed cursor is a 400 VALIDATION_ERROR, never a 500."""
    first = body(client.get("/api/cursors?perPage=2"))
    token = first["pagination"]["nextCursor"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get(f"/api/cursors?perPage=2&cursor={tampered}")
    assert response.status_code == 400


def test_schema_helpers() -> None:
    """Both classes describe their envelope for DRF's OpenAPI generation."""
    item = {"type": "object"}
    page = ByTitle().get_paginated_response_schema(item)
    cursor = ByTitleCursor().get_paginated_response_schema(item)
    assert page["properties"]["data"] == item
    assert "totalPages" in page["properties"]["pagination"]["properties"]
    assert "nextCursor" in cursor["properties"]["pagination"]["properties"]
