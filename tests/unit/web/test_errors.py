"""Errors at the edge: any exception to a response; framework statuses to AppErrors."""

from __future__ import annotations

import json

import pytest

from backendkit.errors import (
    BackendUnavailable,
    BadRequest,
    InternalError,
    MethodNotAllowed,
    NotFound,
    RateLimited,
)
from backendkit.testing import capture_logs
from backendkit.web import error_for_status, render_error


def test_app_error_renders_without_logging_a_traceback() -> None:
    """A client error is rendered as its envelope and logs nothing."""
    with capture_logs() as logs:
        rendered = render_error(NotFound("No such user"), request_id="r1")
    assert rendered.status == 404
    assert json.loads(rendered.body)["error"]["message"] == "No such user"
    assert logs == []


def test_unexpected_error_is_generic_and_logged_with_traceback() -> None:
    """An unexpected exception is a generic 500; the exception goes to the log."""
    boom = KeyError("users.password_hash")
    with capture_logs() as logs:
        rendered = render_error(boom, request_id="r2", user_id="u1")
    assert rendered.status == 500
    assert b"password_hash" not in rendered.body
    assert json.loads(rendered.body)["error"]["requestId"] == "r2"
    assert logs[0]["event"] == "unhandled_exception"
    assert logs[0]["exc_info"] is boom
    assert (logs[0]["request_id"], logs[0]["user_id"]) == ("r2", "u1")


def test_deliberate_5xx_is_a_warning() -> None:
    """A 503 raised on purpose logs a warning, without a traceback."""
    with capture_logs() as logs:
        rendered = render_error(BackendUnavailable(), request_id="r3")
    assert rendered.status == 503
    assert logs[0]["event"] == "server_error"
    assert "exc_info" not in logs[0]


def test_problem_format() -> None:
    """problem=True renders RFC 9457 problem details."""
    rendered = render_error(NotFound(), request_id="r4", problem=True)
    assert rendered.media_type == "application/problem+json"
    assert json.loads(rendered.body)["status"] == 404


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequest), (404, NotFound), (405, MethodNotAllowed), (429, RateLimited)],
)
def test_catalogue_statuses(status: int, cls: type[Exception]) -> None:
    """Statuses in the catalogue map to their class."""
    assert type(error_for_status(status)) is cls


def test_messages_are_kept_for_4xx_only() -> None:
    """A framework's client message is kept for a 4xx; a 5xx message is dropped."""
    assert error_for_status(404, message="Widget gone").message == "Widget gone"
    assert error_for_status(500, message="db at 10.0.0.3").message == "An unexpected error occurred"


def test_headers_are_kept() -> None:
    """Allow on a 405 survives."""
    assert error_for_status(405, headers={"Allow": "GET"}).headers == {"Allow": "GET"}


def test_other_statuses_keep_their_number() -> None:
    """418/422/502 keep their status with the catalogue's generic code for their class."""
    teapot = error_for_status(418)
    assert (teapot.status, teapot.code) == (418, "BAD_REQUEST")
    gateway = error_for_status(502, message="upstream said x")
    assert (gateway.status, gateway.code, gateway.message) == (
        502,
        "INTERNAL_ERROR",
        InternalError.default_message,
    )
    assert type(error_for_status(418)) is type(teapot)  # one class per status
