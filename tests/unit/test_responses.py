"""Envelopes match the golden wire format byte for byte; errors never leak internals."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import threading
import uuid
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import pytest
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from backendkit.errors import (
    ERROR_CATALOGUE,
    AppError,
    BackendUnavailable,
    ErrorDetail,
    InvalidToken,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ValidationFailed,
)
from backendkit.fields import Email
from backendkit.listing import CursorPage, Page
from backendkit.responses import (
    JSON_MEDIA_TYPE,
    PROBLEM_MEDIA_TYPE,
    CursorInfo,
    CursorPageEnvelope,
    Envelope,
    ErrorEnvelope,
    ErrorInfo,
    FieldError,
    PageEnvelope,
    PageInfo,
    ProblemDetails,
    RenderedResponse,
    error_response,
    failure,
    json_response,
    paginated,
    pagination_meta,
    problem_details,
    render_json,
    success,
)
from backendkit.validation import ApiModel, validate

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
REQUEST_ID = "3f2b8c1e-9d4a-4c7b-8e21-5a6f0d9c1b2a"
USERS = [{"id": 1, "firstName": "Ada"}, {"id": 2, "firstName": "Grace"}]
NEXT = "eyJhZnRlciI6Mn0.2bQyXn1s0cR0aB8uFhQhVwq3l8mTrHkR9v0Y3c1n5sE"


class User(ApiModel):
    id: int
    email: Email
    first_name: str
    last_name: str


class UserRow(ApiModel):
    id: int
    first_name: str


class Register(ApiModel):
    email: Email


def golden(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def assert_matches_golden(body: bytes, name: str) -> None:
    """Same JSON, same key order, and the exact compact bytes of the golden file."""
    expected = golden(name)
    assert json.loads(body) == expected
    assert list(json.loads(body)) == list(expected)
    assert body == json.dumps(expected, separators=(",", ":"), ensure_ascii=False).encode()


# --------------------------------------------------------------------------- golden files


def test_success_envelope_matches_golden() -> None:
    """success(model, message) renders DESIGN.md's success example, camelCase keys."""
    user = User(id=1, email="Ada@Example.com", first_name="Ada", last_name="Lovelace")
    assert_matches_golden(render_json(success(user, "User retrieved successfully")), "success.json")


def test_validation_error_envelope_matches_golden() -> None:
    """A missing email, through validate() and failure(), is DESIGN.md's error example."""
    with pytest.raises(ValidationFailed) as caught:
        validate(Register, {})
    assert_matches_golden(render_json(failure(caught.value, REQUEST_ID)), "error_validation.json")
    response = error_response(caught.value, request_id=REQUEST_ID)
    assert (response.status, response.media_type) == (400, JSON_MEDIA_TYPE)
    assert_matches_golden(response.body, "error_validation.json")


def test_error_without_details_matches_golden() -> None:
    """details is an empty list, never missing, when there are none."""
    response = error_response(NotFound("User not found"), request_id=REQUEST_ID)
    assert response.status == 404
    assert_matches_golden(response.body, "error_not_found.json")


def test_unexpected_exception_is_a_generic_500_matching_golden() -> None:
    """Any other exception is INTERNAL_ERROR; nothing of the original reaches the body."""
    exc = RuntimeError("connection to db-internal:5432 failed for user admin")
    response = error_response(exc, request_id=REQUEST_ID)
    assert (response.status, response.headers) == (500, {})
    assert b"db-internal" not in response.body
    assert b"RuntimeError" not in response.body
    assert_matches_golden(response.body, "error_internal.json")


def test_counted_page_matches_golden() -> None:
    """A counted page has page, perPage, total, totalPages (DESIGN.md's page example)."""
    page = Page(
        items=[UserRow(id=1, first_name="Ada"), UserRow(id=2, first_name="Grace")],
        page=1,
        per_page=20,
        total=100,
        has_next=True,
    )
    assert_matches_golden(render_json(paginated(page)), "page.json")


def test_uncounted_page_matches_golden() -> None:
    """Without a count, total/totalPages are null and hasNext says if there is more."""
    page = Page(items=USERS, page=1, per_page=20, total=None, has_next=True)
    assert_matches_golden(render_json(paginated(page)), "page_uncounted.json")


def test_cursor_page_matches_golden() -> None:
    """A cursor page has perPage, nextCursor, prevCursor, hasNext, hasPrev."""
    page = CursorPage(
        USERS, per_page=20, next_cursor=NEXT, prev_cursor=None, has_next=True, has_prev=False
    )
    assert_matches_golden(render_json(paginated(page)), "cursor_page.json")


def test_problem_details_match_golden() -> None:
    """problem=True renders RFC 9457 problem+json with the same code, details, requestId."""
    with pytest.raises(ValidationFailed) as caught:
        validate(Register, {})
    response = error_response(caught.value, request_id=REQUEST_ID, problem=True)
    assert (response.status, response.media_type) == (400, PROBLEM_MEDIA_TYPE)
    assert_matches_golden(response.body, "problem_validation.json")


def test_problem_keeps_error_headers_and_matches_golden() -> None:
    """A 429 problem keeps Retry-After; requestId is null when unknown."""
    response = error_response(RateLimited(retry_after=2.5), request_id=None, problem=True)
    assert response.headers == {"Retry-After": "3"}
    assert_matches_golden(response.body, "problem_rate_limited.json")


@pytest.mark.parametrize(
    "name",
    [
        "success.json",
        "page.json",
        "page_uncounted.json",
        "cursor_page.json",
        "error_validation.json",
        "error_not_found.json",
        "error_internal.json",
    ],
)
def test_golden_files_validate_against_the_openapi_models(name: str) -> None:
    """Each golden envelope parses with its model and dumps back to itself."""
    model: type[BaseModel] = {
        "success.json": Envelope[User],
        "page.json": PageEnvelope[UserRow],
        "page_uncounted.json": PageEnvelope[UserRow],
        "cursor_page.json": CursorPageEnvelope[UserRow],
    }.get(name, ErrorEnvelope)
    expected = golden(name)
    assert model.model_validate(expected).model_dump(mode="json") == expected
    assert_matches_golden(model.model_validate(expected).model_dump_json().encode(), name)


def test_problem_golden_validates_against_problem_model() -> None:
    """ProblemDetails parses the golden problem and leaves out a missing instance."""
    expected = golden("problem_validation.json")
    assert ProblemDetails.model_validate(expected).model_dump(mode="json") == expected
    with_instance = problem_details(NotFound(), "r", instance="/api/v1/users/9")
    assert with_instance["instance"] == "/api/v1/users/9"
    assert (
        ProblemDetails.model_validate(with_instance).model_dump()["instance"] == "/api/v1/users/9"
    )


# --------------------------------------------------------------------------- builders


def test_success_without_message_has_null_message() -> None:
    """message is always present (null when not given); data may be null too."""
    assert success() == {"success": True, "data": None, "message": None}
    assert render_json(success([1])) == b'{"success":true,"data":[1],"message":null}'


@pytest.mark.parametrize("code", sorted(ERROR_CATALOGUE))
def test_every_catalogue_error_renders_with_its_status(code: str) -> None:
    """Each catalogue code renders with its status in both formats."""
    cls = next(c for c in _app_errors() if c.code == code)
    error = cls()
    envelope = error_response(error, request_id="r")
    problem = error_response(error, request_id="r", problem=True)
    assert envelope.status == problem.status == ERROR_CATALOGUE[code]
    assert json.loads(envelope.body)["error"]["code"] == code
    assert json.loads(problem.body)["code"] == code
    assert json.loads(problem.body)["status"] == ERROR_CATALOGUE[code]


def _app_errors() -> list[type[AppError]]:
    found: list[type[AppError]] = []
    stack: list[type[AppError]] = [AppError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize(
    ("error", "headers"),
    [
        (RateLimited(retry_after=1.2), {"Retry-After": "2"}),
        (InvalidToken(), {"WWW-Authenticate": 'Bearer error="invalid_token"'}),
        (MethodNotAllowed(allowed=["post", "GET"]), {"Allow": "GET, POST"}),
        (PayloadTooLarge(), {}),
        (BackendUnavailable(), {}),
    ],
)
def test_error_headers_are_carried(error: AppError, headers: dict[str, str]) -> None:
    """Retry-After, WWW-Authenticate and Allow travel in RenderedResponse.headers."""
    assert error_response(error, request_id=None).headers == headers


def test_error_response_headers_are_a_copy() -> None:
    """Changing the response headers does not change the error."""
    error = RateLimited(retry_after=1)
    error_response(error, request_id=None).headers["X"] = "y"
    assert error.headers == {"Retry-After": "1"}


def test_unknown_status_uses_the_code_as_problem_title() -> None:
    """A custom AppError with a non-standard status still renders a title."""

    class OddStatusError(AppError):
        code: ClassVar[str] = "ODD_STATUS"
        status: ClassVar[int] = 599
        default_message: ClassVar[str] = "Odd"

    body = problem_details(OddStatusError(details=[ErrorDetail("x", "bad")]))
    assert body["title"] == "ODD_STATUS"
    assert body["details"] == [{"field": "x", "message": "bad"}]


def test_pagination_meta_is_exposed_for_adapters() -> None:
    """pagination_meta gives the pagination object alone."""
    assert pagination_meta(Page([], 3, 10, 25, False)) == {
        "page": 3,
        "perPage": 10,
        "total": 25,
        "totalPages": 3,
    }


def test_json_response_renders_a_payload() -> None:
    """json_response wraps render_json with a status and headers."""
    response = json_response(success({"a": 1}), status=201, headers={"Location": "/u/1"})
    assert response == RenderedResponse(
        201,
        {"Location": "/u/1"},
        b'{"success":true,"data":{"a":1},"message":null}',
        JSON_MEDIA_TYPE,
    )


# --------------------------------------------------------------------------- render_json


class Color(enum.Enum):
    RED = "red"


def test_render_json_handles_common_types() -> None:
    """Models by alias, datetimes, UUIDs, decimals, enums and non-ASCII text."""
    value = {
        "user": UserRow(id=1, first_name="\u00c9milie"),
        "at": dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc),
        "day": dt.date(2024, 5, 1),
        "id": uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e"),
        "price": decimal.Decimal("9.99"),
        "color": Color.RED,
        "tags": ("a",),
    }
    assert json.loads(render_json(value)) == {
        "user": {"id": 1, "firstName": "\u00c9milie"},
        "at": "2024-05-01T12:00:00Z",
        "day": "2024-05-01",
        "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "price": "9.99",
        "color": "red",
        "tags": ["a"],
    }
    assert "\u00c9milie".encode() in render_json(value)


def test_render_json_writes_null_for_non_finite_floats() -> None:
    """NaN and infinities are not JSON: they become null rather than invalid output."""
    assert render_json([float("nan"), float("inf"), 1.5]) == b"[null,null,1.5]"


def test_render_json_unknown_type_is_a_type_error() -> None:
    """An unserializable value raises TypeError (like json.dumps), not a pydantic error."""
    with pytest.raises(TypeError, match="serialize"):
        render_json({"x": object()})
    assert render_json({"x": 1}) == b'{"x":1}'


# --------------------------------------------------------------------------- OpenAPI models

T = TypeVar("T")


@pytest.mark.parametrize(
    ("model", "name"),
    [
        (lambda: Envelope[User], "UserEnvelope"),
        (lambda: Envelope[list[User]], "UserListEnvelope"),
        (lambda: Envelope[None], "EmptyEnvelope"),
        (lambda: Envelope[dict[str, Any]], "DictEnvelope"),
        (lambda: Envelope[dict[str, int]], "IntDict" + "Envelope"),
        (lambda: Envelope[User | None], "OptionalUserEnvelope"),
        (lambda: Envelope[int | str], "IntOrStrEnvelope"),
        (lambda: Envelope[Literal["a"]], "LiteralEnvelope"),
        (lambda: Envelope[Any], "AnyEnvelope"),
        (lambda: Envelope[list[Any]], "ListEnvelope"),
        (lambda: PageEnvelope[User], "UserPageEnvelope"),
        (lambda: CursorPageEnvelope[User], "UserCursorPageEnvelope"),
        (lambda: Envelope[list[T]][User], "UserListEnvelope"),
    ],
)
def test_parametrized_envelopes_get_clean_names(model: Any, name: str) -> None:
    """Envelope[User] is a class named UserEnvelope (not Envelope[User] / Envelope_User_)."""
    cls = model()
    assert cls.__name__ == name
    assert cls is model()  # cached: one class per parametrization
    assert cls.model_json_schema()["title"] == name


def test_openapi_schema_names_are_clean() -> None:
    """The $defs keys that become OpenAPI component names are the clean names."""
    _, schema = models_json_schema(
        [
            (Envelope[User], "serialization"),
            (PageEnvelope[UserRow], "serialization"),
            (CursorPageEnvelope[UserRow], "serialization"),
            (ErrorEnvelope, "serialization"),
            (ProblemDetails, "serialization"),
        ]
    )
    assert set(schema["$defs"]) == {
        "UserEnvelope",
        "UserRowPageEnvelope",
        "UserRowCursorPageEnvelope",
        "ErrorEnvelope",
        "ErrorInfo",
        "FieldError",
        "PageInfo",
        "CursorInfo",
        "ProblemDetails",
        "User",
        "UserRow",
    }
    envelope = schema["$defs"]["UserEnvelope"]
    assert set(envelope["required"]) == {"success", "data", "message"}
    assert schema["$defs"]["ErrorInfo"]["properties"]["requestId"]["title"] == "Request id"


def test_still_generic_parametrization_is_left_to_pydantic() -> None:
    """Envelope[T] stays generic (no concrete class is made for a free type variable)."""
    assert Envelope[T].__pydantic_generic_metadata__["parameters"] == (T,)


def test_parametrization_is_one_class_even_under_concurrency() -> None:
    """Threads racing to build Envelope[X] all get the same class."""

    class Racer(ApiModel):
        n: int

    barrier = threading.Barrier(8)
    results: list[type] = []

    def build() -> None:
        barrier.wait()
        results.append(Envelope[Racer])

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1


def test_models_describe_the_builder_output() -> None:
    """The builders' dicts validate into the models and dump back identically."""
    page = Page([UserRow(id=1, first_name="A")], 2, 1, None, False)
    dumped = PageEnvelope[UserRow].model_validate(paginated(page)).model_dump(mode="json")
    assert dumped == json.loads(render_json(paginated(page)))
    counted = PageInfo(page=1, per_page=2, total=3, total_pages=2, has_next=True)
    assert "hasNext" not in counted.model_dump()
    info = CursorInfo(
        per_page=1, next_cursor=None, prev_cursor=None, has_next=False, has_prev=False
    )
    assert info.model_dump() == {
        "perPage": 1,
        "nextCursor": None,
        "prevCursor": None,
        "hasNext": False,
        "hasPrev": False,
    }
    error = ErrorEnvelope(
        error=ErrorInfo(
            code="X",
            message="m",
            request_id="r",
            details=[FieldError.from_detail(ErrorDetail("f", "m"))],
        )
    )
    assert error.model_dump() == failure(
        ValidationFailed("m", details=[ErrorDetail("f", "m")]), "r"
    ) | {
        "error": {
            "code": "X",
            "message": "m",
            "details": [{"field": "f", "message": "m"}],
            "requestId": "r",
        }
    }
