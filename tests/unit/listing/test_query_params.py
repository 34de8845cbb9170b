"""Page and cursor parameters from query mappings and multi-dicts."""

from __future__ import annotations

import pytest

from backendkit.errors import ValidationFailed
from backendkit.listing import PageParams, cursor_params, page_params


class MultiDict:
    """A minimal multi-dict (werkzeug/Django/Starlette all have getlist)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self.pairs if k == key]


def test_defaults_and_values() -> None:
    """Absent keys take defaults; camelCase and snake_case are both read; others ignored."""
    assert page_params({}) == PageParams()
    assert page_params({"page": "2", "perPage": "5", "sort": "-name"}) == PageParams(
        page=2, per_page=5
    )
    assert page_params({"per_page": "7"}).per_page == 7
    assert page_params({"page": ["3"]}).page == 3


def test_multidict_and_repeats() -> None:
    """A multi-dict is read; a repeated scalar parameter is refused."""
    assert page_params(MultiDict([("page", "4")])).page == 4
    with pytest.raises(ValidationFailed):
        page_params(MultiDict([("page", "1"), ("page", "2")]))


@pytest.mark.parametrize("query", [{"page": "0"}, {"perPage": "101"}, {"page": "x"}])
def test_bad_values(query: dict[str, str]) -> None:
    """Out-of-range and non-numeric values are a VALIDATION_ERROR."""
    with pytest.raises(ValidationFailed):
        page_params(query)


def test_custom_cap() -> None:
    """A model with another cap accepts more."""
    assert page_params({"perPage": "400"}, model=PageParams.with_max(500)).per_page == 400


def test_cursor_params() -> None:
    """cursor and perPage are read; a bad perPage is refused."""
    params = cursor_params({"cursor": "abc", "perPage": "3"})
    assert (params.cursor, params.per_page) == ("abc", 3)
    with pytest.raises(ValidationFailed):
        cursor_params({"perPage": "-1"})
