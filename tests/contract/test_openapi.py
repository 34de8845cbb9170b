"""Schemathesis against the FastAPI example's OpenAPI document: no 5xx, no undocumented shape."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from tests.contract._api import Api, new_address
from tests.contract._servers import RunningServer

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

pytestmark = pytest.mark.contract_only(app="fastapi", backend="embedded")

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_fastapi_openapi_document_holds(server: RunningServer, api: Api, mode: str) -> None:
    """Generated requests to every operation: never a 5xx, every body matches its schema."""
    document = api.http.get("/openapi.json")  # the document itself is not an envelope
    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.1")
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json").exclude(
        path="/api/v1/auth/logout"  # would end the session the other cases use
    )
    user = api.new_user("Schema Tester")
    strategy = schema.as_strategy(generation_mode=schemathesis.GenerationMode(mode))

    @settings(
        max_examples=80,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        headers = {"Authorization": f"Bearer {user.access}", "X-Forwarded-For": new_address()}
        response = case.call(base_url=server.url, headers=headers)
        case.validate_response(response, checks=CHECKS)
        assert user.access not in response.text

    run()
