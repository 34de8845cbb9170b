"""OpenAPI error responses, framework-free: statuses per operation, components, entries."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import BaseModel

from backendkit.responses import (
    ERROR_RESPONSES,
    PROBLEM_MEDIA_TYPE,
    document_errors,
    operation_errors,
)


class NoteIn(BaseModel):
    title: str


def ref(status: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ((), {"500"}),
        (("credentials",), {"401", "500"}),
        (("authenticated", "authorize"), {"401", "403", "500"}),
        (("limit",), {"429", "500"}),
        (("json_body",), {"400", "413", "415", "500"}),
        (("parameters",), {"400", "500"}),
        (("framework_body",), {"400", "413", "500"}),
        (("health",), {"503", "500"}),
    ],
)
def test_each_step_adds_its_statuses(steps: tuple[Any, ...], expected: set[str]) -> None:
    """An operation answers 500 and what each of its steps can answer, nothing more."""
    assert operation_errors("/notes", steps, default_limit=False) == expected


def test_a_path_naming_a_resource_can_be_a_404() -> None:
    """A templated path adds 404; a plain one does not (valid twin)."""
    assert "404" in operation_errors("/notes/{id}", (), default_limit=False)
    assert "404" not in operation_errors("/notes", (), default_limit=False)


def test_the_default_limit_adds_429_except_on_health_checks() -> None:
    """A path the default limit charges can be a 429; a health check never is."""
    assert "429" in operation_errors("/notes", (), default_limit=True)
    assert "429" not in operation_errors("/health", ("health",), default_limit=True)


def test_cookie_transport_adds_the_csrf_403_to_credential_steps() -> None:
    """With cookies, reading credentials can fail the CSRF check; without auth, no 403."""
    assert "403" in operation_errors("/me", ("credentials",), default_limit=False, cookie_auth=True)
    assert "403" not in operation_errors("/me", ("credentials",), default_limit=False)
    assert "403" not in operation_errors("/x", ("limit",), default_limit=False, cookie_auth=True)


def fastapi_like() -> dict[str, Any]:
    """A document as FastAPI writes it: a 422 referring to its own schemas."""
    validation = {"$ref": "#/components/schemas/HTTPValidationError"}
    return {
        "openapi": "3.1.0",
        "paths": {
            "/notes": {
                "post": {
                    "responses": {
                        "200": {"description": "Successful Response"},
                        "409": {"description": "Conflict"},
                        "422": {"content": {"application/json": {"schema": validation}}},
                    }
                },
                "parameters": [],
            },
            "/notes/{id}": {"get": {"responses": {"418": {"description": "Teapot"}}}},
        },
        "components": {
            "schemas": {
                "HTTPValidationError": {
                    "properties": {
                        "detail": {"items": {"$ref": "#/components/schemas/ValidationError"}}
                    }
                },
                "ValidationError": {"properties": {}},
                "Kept": {"properties": {}},
            }
        },
    }


def test_document_errors_writes_shared_responses_and_references() -> None:
    """Each operation refers to one shared response per status; its body model is added."""
    document = fastapi_like()
    operations = {("/notes", "post"): ({"400", "413", "415", "500"}, NoteIn)}
    document_errors(document, operations, problem=False, replaces=("422",))
    post = document["paths"]["/notes"]["post"]
    responses = post["responses"]
    assert "422" not in responses
    for status in ("400", "413", "415", "500"):
        assert responses[status] == ref(status)
    assert responses["409"] == ref("409")  # a bare phrase: the shared entry
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NoteIn"
    }
    shared = document["components"]["responses"]
    assert set(shared) == {name for name, _ in ERROR_RESPONSES.values()}
    rate_limited = shared["RateLimited"]
    assert {"Retry-After", "RateLimit-Limit", "X-Request-ID"} <= set(rate_limited["headers"])
    envelope = rate_limited["content"]["application/json"]["schema"]["$ref"]
    assert envelope == "#/components/schemas/ErrorEnvelope"
    # An operation not named answers 500 only; a status outside the table is left alone.
    assert document["paths"]["/notes/{id}"]["get"]["responses"] == {
        "418": {"description": "Teapot"},
        "500": ref("500"),
    }


def test_the_replaced_responses_schemas_go_and_others_stay() -> None:
    """HTTPValidationError, then the ValidationError only it used, go; other schemas stay."""
    document = fastapi_like()
    document_errors(document, {}, problem=False, replaces=("422",))
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    assert "Kept" in schemas


def test_a_schema_still_referred_to_elsewhere_stays() -> None:
    """A replaced response's schema that a route also uses is kept."""
    document = fastapi_like()
    uses = {"$ref": "#/components/schemas/ValidationError"}
    document["paths"]["/notes/{id}"]["get"]["responses"]["200"] = {
        "content": {"a/b": {"schema": uses}}
    }
    document_errors(document, {}, problem=False, replaces=("422",))
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" in schemas


def test_without_replaces_the_framework_entries_stay() -> None:
    """replaces= is what goes: without it the 422 and its schemas are untouched."""
    document = fastapi_like()
    document_errors(document, {}, problem=False)
    assert "422" in document["paths"]["/notes"]["post"]["responses"]
    assert "HTTPValidationError" in document["components"]["schemas"]


def test_a_route_own_description_keeps_it_with_the_error_headers_and_content() -> None:
    """responses={409: {"description": "Taken."}} keeps the text, gains headers and body."""
    document = fastapi_like()
    document["paths"]["/notes"]["post"]["responses"]["409"] = {
        "description": "Taken.",
        "headers": {"X-Own": {"schema": {"type": "string"}}},
    }
    document_errors(document, {}, problem=True)
    entry = document["paths"]["/notes"]["post"]["responses"]["409"]
    assert entry["description"] == "Taken."
    assert {"X-Own", "X-Request-ID"} <= set(entry["headers"])
    schema = entry["content"][PROBLEM_MEDIA_TYPE]["schema"]
    assert schema == {"$ref": "#/components/schemas/ProblemDetails"}


def test_a_route_that_documents_its_own_content_is_left_alone() -> None:
    """An entry with its own content (or a $ref) is the route's business."""
    document = fastapi_like()
    own = {"description": "Taken.", "content": {"text/plain": {}}}
    document["paths"]["/notes"]["post"]["responses"]["409"] = copy.deepcopy(own)
    document_errors(document, {}, problem=False)
    assert document["paths"]["/notes"]["post"]["responses"]["409"] == own


def test_a_body_the_route_documents_itself_is_kept() -> None:
    """An operation with its own requestBody keeps it; the model is not forced in."""
    document = fastapi_like()
    own: dict[str, Any] = {"content": {"text/csv": {}}}
    document["paths"]["/notes"]["post"]["requestBody"] = own
    document_errors(document, {("/notes", "post"): ({"500"}, NoteIn)}, problem=False)
    assert document["paths"]["/notes"]["post"]["requestBody"] == own
    assert "NoteIn" not in document["components"]["schemas"]
