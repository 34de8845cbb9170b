"""A framework's own HTTP and validation errors become the catalogue's, in every adapter."""

from __future__ import annotations

from typing import Any

import pytest

from backendkit.errors import BadRequest, MethodNotAllowed, NotFound, ValidationFailed
from backendkit.web import framework_error, request_validation_error


def test_the_stock_phrase_gives_way_to_the_catalogue_message() -> None:
    """The HTTP reason phrase (Starlette's default detail) is not a message of the app's."""
    assert framework_error(404, "Not Found").message == NotFound().message


def test_the_app_own_detail_is_the_message() -> None:
    """Text the app wrote (abort(404, "No such note")) is kept (valid twin)."""
    error = framework_error(404, "No such note")
    assert (error.status, error.code, error.message) == (404, "NOT_FOUND", "No such note")


def test_a_framework_stock_wording_gives_way_too() -> None:
    """stock= names the framework's own wording (werkzeug's class description)."""
    stock = "The requested URL was not found on the server."
    assert framework_error(404, stock, stock=stock).message == NotFound().message
    assert framework_error(404, "Gone fishing", stock=stock).message == "Gone fishing"


@pytest.mark.parametrize("detail", [None, {"field": "x"}, ["a"]])
def test_a_detail_that_is_not_text_is_not_a_message(detail: Any) -> None:
    """A structured detail (FastAPI allows any JSON) never becomes the message."""
    assert framework_error(400, detail).message == BadRequest().message


def test_headers_travel_without_content_type() -> None:
    """Allow (as pairs or a mapping) is kept; the framework's Content-Type is dropped."""
    pairs = [("Allow", "GET, HEAD"), ("Content-Type", "text/html")]
    error = framework_error(405, None, headers=pairs)
    assert isinstance(error, MethodNotAllowed)
    assert error.headers == {"Allow": "GET, HEAD"}
    assert framework_error(405, headers={"Allow": "GET"}).headers == {"Allow": "GET"}


def test_a_5xx_detail_is_never_shown() -> None:
    """A server error's detail could carry internals: the catalogue's message instead."""
    error = framework_error(502, "upstream db-7 refused")
    assert (error.status, error.code) == (502, "INTERNAL_ERROR")
    assert "db-7" not in error.message


def test_query_and_path_names_are_camel_case_without_their_source() -> None:
    """("query", "per_page") is perPage, ("body", "email") is email: wire names."""
    error = request_validation_error(
        [
            {"type": "greater_than_equal", "loc": ("query", "per_page"), "msg": "too small"},
            {"type": "missing", "loc": ("body", "first_name"), "msg": "Field required"},
            {"type": "missing", "loc": ("header", "x_trace"), "msg": "Field required"},
        ]
    )
    assert isinstance(error, ValidationFailed)
    assert [detail.field for detail in error.details] == ["perPage", "first_name", "x_trace"]


def test_a_location_without_a_known_source_is_kept() -> None:
    """A location that names no request part (a model's own error) stays as it is."""
    error = request_validation_error([{"type": "value_error", "loc": ("a_b",), "msg": "bad"}])
    assert error.details[0].field == "a_b"


def test_a_body_that_is_not_json_is_a_bad_request() -> None:
    """json_invalid anywhere makes the whole answer 400 BAD_REQUEST, no field details."""
    error = request_validation_error(
        [{"type": "json_invalid", "loc": ("body", 3), "msg": "JSON decode error"}]
    )
    assert (type(error), error.code, error.details) == (BadRequest, "BAD_REQUEST", ())


def test_an_input_is_never_echoed() -> None:
    """The input stays with the error only so the message cannot repeat it."""
    secret = "hunter2-hunter2"
    error = request_validation_error(
        [
            {
                "type": "value_error",
                "loc": ("body", "pin"),
                "msg": f"{secret} is bad",
                "input": secret,
            }
        ]
    )
    assert error.details[0].field == "pin"
    assert secret not in error.details[0].message
