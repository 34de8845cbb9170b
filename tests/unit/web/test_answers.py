"""Whole answers the adapters translate: JSON with an ETag (304 on a match), health routes."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest

from backendkit.errors import RateLimited
from backendkit.settings import Settings
from backendkit.web import (
    JSON_CONTENT_TYPE,
    HealthRoute,
    Pipeline,
    WebKit,
    conditional_response,
    etag_for,
)


def make_pipeline(**settings: Any) -> Pipeline:
    return Pipeline(WebKit.from_settings(Settings(env="test", **settings)))


def test_conditional_response_is_json_with_a_strong_etag() -> None:
    """A 200 GET carries its body as JSON with the ETag of exactly those bytes."""
    rendered = conditional_response("GET", None, {"id": 1})
    assert rendered.status == 200
    assert json.loads(rendered.body) == {"id": 1}
    assert rendered.media_type == JSON_CONTENT_TYPE
    assert rendered.headers == {"ETag": etag_for(rendered.body)}


def test_a_matching_if_none_match_is_a_bodiless_304() -> None:
    """A match gives 304, no body and no media type, the ETag and Cache-Control kept."""
    tag = conditional_response("GET", None, {"id": 1}).headers["ETag"]
    rendered = conditional_response("GET", tag, {"id": 1}, cache_control="max-age=60")
    assert (rendered.status, rendered.body, rendered.media_type) == (304, b"", "")
    assert rendered.headers == {"ETag": tag, "Cache-Control": "max-age=60"}


def test_another_tag_is_not_a_match() -> None:
    """An If-None-Match naming another representation gets the whole body (valid twin)."""
    rendered = conditional_response("GET", '"other"', {"id": 1})
    assert rendered.status == 200
    assert json.loads(rendered.body) == {"id": 1}


@pytest.mark.parametrize(("method", "status"), [("POST", 200), ("GET", 201)])
def test_only_a_successful_get_gets_an_etag(method: str, status: int) -> None:
    """Other methods and statuses pass through with their own status and no ETag."""
    rendered = conditional_response(method, "*", [1], status=status, headers={"X-A": "b"})
    assert (rendered.status, rendered.headers) == (status, {"X-A": "b"})
    assert rendered.body == b"[1]"


def test_cache_control_replaces_one_in_headers_whatever_its_case() -> None:
    """cache_control= wins over a cache-control header given in headers=, once."""
    headers = {"cache-control": "no-cache", "X-A": "b"}
    rendered = conditional_response("GET", None, 1, cache_control="max-age=5", headers=headers)
    assert {name.lower(): value for name, value in rendered.headers.items()} == {
        "cache-control": "max-age=5",
        "x-a": "b",
        "etag": etag_for(b"1"),
    }


@dataclass
class Facts:
    path: str
    method: str = "GET"
    peer: str | None = "203.0.113.7"
    native: object = None

    def header(self, name: str) -> str | None:
        return None

    def cookies(self) -> dict[str, str]:
        return {}

    def route(self) -> str:
        return self.path

    def session_user(self) -> str | None:
        return None


def test_health_route_answers_the_report_and_is_never_charged() -> None:
    """A healthy check is a 200 envelope; the default limit spares its path, not others."""
    pipeline = make_pipeline(rate_limit_default="1/minute")
    route = HealthRoute(pipeline, "/api/health", checks={"queue": lambda: True})
    cycle = pipeline.start(method="GET", path="/api/health", request_id=None)
    rendered = route.answer(cycle)
    assert rendered.status == 200
    assert json.loads(rendered.body)["data"] == {"status": "ok", "checks": {"queue": "ok"}}
    for _ in range(3):
        pipeline.admit(cycle, Facts("/api/health"), None)
    pipeline.admit(cycle, Facts("/api/notes"), None)
    with pytest.raises(RateLimited):
        pipeline.admit(cycle, Facts("/api/notes"), None)


def test_an_unhealthy_report_is_a_503_with_the_kit_format_and_retry_after() -> None:
    """A failing probe gives 503 in the kit's error format, with its Retry-After setting."""
    pipeline = make_pipeline(error_format="problem", retry_after=7)
    route = HealthRoute(pipeline, "/health", checks={"queue": lambda: False})
    cycle = pipeline.start(method="GET", path="/health", request_id="req-1")
    rendered = route.answer(cycle)
    body = json.loads(rendered.body)
    assert rendered.status == 503
    assert rendered.headers["Retry-After"] == "7"
    assert rendered.media_type.startswith("application/problem+json")
    assert (body["requestId"], body["details"]) == (
        "req-1",
        [{"field": "queue", "message": "unavailable"}],
    )


def test_aanswer_awaits_async_probes() -> None:
    """The async twin awaits a coroutine probe; no cycle means no request id."""

    async def probe() -> bool:
        return False

    route = HealthRoute(make_pipeline(), "/health", checks={"queue": probe})
    rendered = asyncio.run(route.aanswer(None))
    assert rendered.status == 503
    assert json.loads(rendered.body)["error"]["requestId"] is None


def test_a_wrong_probe_keyword_fails_when_the_route_is_added() -> None:
    """A keyword check_health does not take is a TypeError at once; the known ones pass."""
    pipeline = make_pipeline()
    with pytest.raises(TypeError):
        HealthRoute(pipeline, "/health", databse=object())
    HealthRoute(pipeline, "/health", database=None, redis=None, checks={}, timeout=0.5)
