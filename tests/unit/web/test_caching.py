"""HTTP caching helpers: ETags, If-None-Match, Cache-Control."""

from __future__ import annotations

import pytest

from backendkit.web import cache_control, conditional, etag_for, etag_matches


def test_etag_is_strong_quoted_and_stable() -> None:
    """Same bytes, same tag; different bytes, different tag; quoted, no W/."""
    tag = etag_for(b"abc")
    assert tag == etag_for(b"abc")
    assert tag != etag_for(b"abd")
    assert tag.startswith('"')
    assert tag.endswith('"')
    assert len(tag) == 26


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ('"nope"', False),
        ("*", True),
        ('"a", TAG', True),
        ("W/TAG", True),
        ('"x",W/TAG', True),
    ],
)
def test_if_none_match(header: str | None, expected: bool) -> None:
    """Lists, wildcards and weak tags all compare weakly, as RFC 9110 says for If-None-Match."""
    tag = etag_for(b"body")
    value = header.replace("TAG", tag) if header else header
    assert etag_matches(value, tag) is expected


def test_cache_control_builder() -> None:
    """Directives come out in a fixed order; bad combinations are refused."""
    assert cache_control(public=True, max_age=60, s_maxage=300, stale_while_revalidate=30) == (
        "public, max-age=60, s-maxage=300, stale-while-revalidate=30"
    )
    assert cache_control(private=True, no_cache=True, must_revalidate=True) == (
        "private, no-cache, must-revalidate"
    )
    assert cache_control(no_store=True) == "no-store"
    assert cache_control(immutable=True, max_age=31536000) == "immutable, max-age=31536000"
    with pytest.raises(ValueError, match="both"):
        cache_control(public=True, private=True)
    with pytest.raises(ValueError, match="negative"):
        cache_control(max_age=-1)


def test_conditional_adds_etag_and_answers_304() -> None:
    """A GET 200 gets an ETag; a matching If-None-Match is a bodiless 304."""
    status, headers, body = conditional("GET", None, 200, b"data")
    assert (status, body) == (200, b"data")
    tag = headers["ETag"]
    assert conditional("get", tag, 200, b"data") == (304, {"ETag": tag}, b"")
    assert conditional("HEAD", tag, 200, b"data")[0] == 304


@pytest.mark.parametrize(("method", "status"), [("POST", 200), ("GET", 201), ("GET", 404)])
def test_conditional_leaves_other_responses_alone(method: str, status: int) -> None:
    """Only successful GET/HEAD responses are validated."""
    assert conditional(method, "*", status, b"x") == (status, {}, b"x")
