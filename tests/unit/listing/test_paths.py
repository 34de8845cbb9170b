"""Filters and sort keys over attribute paths, and the lookups an ORM says them with."""

from __future__ import annotations

import doctest
from types import SimpleNamespace
from typing import Any

import pytest

from backendkit.errors import ValidationFailed
from backendkit.listing import CursorCodec, _paths
from backendkit.listing._filters import Condition
from backendkit.listing._keyset import keyset_plan
from backendkit.listing._paging import KeysetWindow
from backendkit.listing._paths import (
    PK_NAME,
    LookupKeys,
    PathFilter,
    PathKey,
    after_cursor,
    lookup_filter,
    path_keys,
)
from backendkit.listing._state import CursorState

FIELDS = {"createdAt": "created", "author": "author__name", "id": "id"}


def _keys(sort: str | None, default: str | None = None) -> list[tuple[str, str, bool, bool]]:
    keys = path_keys(
        sort,
        FIELDS,
        default=default,
        nullable=lambda path: path == "author__name",
        pk="id",
        pk_paths={"id", "pk"},
    )
    return [(key.name, key.path, key.descending, key.nullable) for key in keys]


def test_docstring_examples() -> None:
    """The examples in the module's docstrings run and print what they claim."""
    assert doctest.testmod(_paths).failed == 0


def test_the_primary_key_breaks_ties_in_the_last_direction() -> None:
    """Named keys in order, then the primary key, never nullable, as the last one runs."""
    assert _keys("author,-createdAt") == [
        ("author", "author__name", False, True),
        ("createdAt", "created", True, False),
        (PK_NAME, "id", True, False),
    ]


def test_no_sort_is_the_default_or_the_primary_key_alone() -> None:
    """Without a client sort the default applies; without either, the key ascending."""
    assert _keys(None, default="-createdAt")[0] == ("createdAt", "created", True, False)
    assert _keys(None) == [(PK_NAME, "id", False, False)]


def test_a_sort_on_the_primary_key_adds_no_tie_breaker() -> None:
    """A key whose path is the primary key already breaks ties."""
    assert _keys("-id") == [("id", "id", True, False)]


def test_a_sort_outside_the_allowlist_is_refused() -> None:
    """An unknown field is a validation error on ``sort`` (twins: the sorts above)."""
    with pytest.raises(ValidationFailed) as caught:
        _keys("password")
    assert [detail.field for detail in caught.value.details] == ["sort"]


def test_no_allowlist_sorts_by_the_primary_key_only() -> None:
    """``fields=None`` allows no client sort."""
    keys = path_keys(None, None, default=None, nullable=bool, pk="pk_id", pk_paths=())
    assert [key.path for key in keys] == ["pk_id"]


def test_a_key_reads_its_value_along_the_path_and_reverses() -> None:
    """Attributes in turn, ``None`` past a missing relation; ``reversed`` flips only direction."""
    key = PathKey("author", "author__name", False, True)
    assert key.value_of(SimpleNamespace(author=SimpleNamespace(name="ann"))) == "ann"
    assert key.value_of(SimpleNamespace(author=None)) is None
    assert key.reversed() == PathKey("author", "author__name", True, True)
    assert key.reversed().reversed() == key


def test_a_filter_takes_its_type_from_the_orm_when_none_was_given() -> None:
    """``typed`` asks for the path's type only when the rule has none; ``str`` until then."""
    asked: list[str] = []

    def type_of(path: str) -> type:
        asked.append(path)
        return int

    rule = PathFilter("author__age", "gte", "lte")
    assert rule.python_type is str
    typed = rule.typed(type_of)
    assert (typed.path, typed.ops, typed.python_type) == ("author__age", rule.ops, int)
    assert asked == ["author__age"]
    given = PathFilter("age", python_type=float)
    assert given.typed(type_of) is given
    assert asked == ["author__age"]


def test_a_filter_allows_eq_and_in_by_default_and_names_itself() -> None:
    """No operators: ``eq`` and ``in``; the repr names the class and its operators."""
    rule = PathFilter("role")
    assert rule.ops == frozenset({"eq", "in"})
    assert repr(rule) == "PathFilter('role', ops=['eq', 'in'])"


def test_a_filter_refuses_an_unknown_operator() -> None:
    """An operator outside the allowlist is a mistake in the code: ValueError (twins above)."""
    with pytest.raises(ValueError, match="like"):
        PathFilter("title", "like")


class _Cond:
    """A condition that prints itself, combined with & and ~ as Django's Q is."""

    def __init__(self, text: str = "", **lookup: Any) -> None:
        self.text = text or " ".join(f"{name}={value!r}" for name, value in lookup.items())

    def __and__(self, other: _Cond) -> _Cond:
        return _Cond(f"({self.text} AND {other.text})")

    def __invert__(self) -> _Cond:
        return _Cond(f"NOT {self.text}")


def test_lookup_keys_name_comparisons_as_lookups() -> None:
    """Each comparison is one keyword ``path__op``; and/not use the condition's operators."""
    keys = LookupKeys(["author__name", "id"], _Cond)
    assert keys.compare(0, "gte", "ann").text == "author__name__gte='ann'"
    assert keys.is_null(1, False).text == "id__isnull=False"
    both = keys.both(keys.compare(1, "gt", 3), keys.negate(keys.is_null(0, True)))
    assert both.text == "(id__gt=3 AND NOT author__name__isnull=True)"


def test_lookup_keys_serve_the_keyset_plan() -> None:
    """The plan over two keys: the merged range, then the NULLs after a nullable key."""
    walk = [PathKey("author", "author__name", False, True), PathKey(PK_NAME, "id", False, False)]
    plan = keyset_plan(LookupKeys([key.path for key in walk], _Cond), walk, ["ann", 7])
    assert [piece.text for piece in plan] == [
        "(author__name__gte='ann' AND NOT (author__name__exact='ann' AND NOT id__gt=7))",
        "author__name__isnull=True",
    ]


@pytest.mark.parametrize(
    ("op", "value", "text"),
    [
        ("eq", "ann", "a__b='ann'"),
        ("eq", None, "a__b__isnull=True"),
        ("ne", "ann", "NOT a__b='ann'"),
        ("in", ("x", "y"), "a__b__in=['x', 'y']"),
        ("null", False, "a__b__isnull=False"),
        ("search", "an", "a__b__icontains='an'"),
        ("gt", 3, "a__b__gt=3"),
        ("lte", 3, "a__b__lte=3"),
    ],
)
def test_each_filter_operator_is_one_lookup(op: str, value: Any, text: str) -> None:
    """Every operator becomes one lookup on the rule's path (``ne`` negates equality)."""
    assert lookup_filter(Condition("b", op, value), "a__b", _Cond).text == text


def _window(state: CursorState | None) -> KeysetWindow:
    return KeysetWindow(CursorCodec([b"k" * 32]), "binding", 10, state)


def test_a_first_page_has_no_condition_after_the_cursor() -> None:
    """No cursor: nothing to filter on (every row is after the start)."""
    walk = [PathKey(PK_NAME, "id", False, False)]
    assert after_cursor(_window(None), walk, _Cond) == []


def test_after_the_cursor_follows_the_walk_and_inclusiveness() -> None:
    """A cursor: the plan over the walk's paths; an inclusive one takes its own row too."""
    walk = [PathKey(PK_NAME, "id", True, False)]
    after = after_cursor(_window(CursorState((7,))), walk, _Cond)
    assert [piece.text for piece in after] == ["id__lt=7"]
    inclusive = after_cursor(_window(CursorState((7,), inclusive=True)), walk, _Cond)
    assert [piece.text for piece in inclusive] == ["id__lte=7"]
