"""Every 503 says when to come back: the breaker's cooldown, else the retry_after setting."""

from __future__ import annotations

import json

import pytest
from tests._services import DeadPort

from backendkit.errors import (
    BackendUnavailable,
    Conflict,
    ServiceUnavailable,
    retry_after_header,
)
from backendkit.redis import CircuitBreaker, RedisConfig, RedisConnector
from backendkit.testing import FakeClock
from backendkit.web import HealthReport, health_response, render_error


def test_render_error_adds_the_setting_to_a_bare_503() -> None:
    """A 503 naming no time (a database outage) gets retry_after, 5 s by default."""
    assert render_error(BackendUnavailable(), request_id="r").headers["Retry-After"] == "5"
    rendered = render_error(ServiceUnavailable(), request_id="r", retry_after=12.5)
    assert rendered.headers["Retry-After"] == "13"
    rendered = render_error(ServiceUnavailable(), request_id="r", problem=True, retry_after=2)
    assert rendered.headers["Retry-After"] == "2"


def test_render_error_keeps_a_503s_own_time() -> None:
    """The error's own Retry-After (any case) wins over the setting."""
    rendered = render_error(BackendUnavailable(retry_after=0.4), request_id="r", retry_after=9)
    assert rendered.headers["Retry-After"] == "1"
    own = ServiceUnavailable(headers={"retry-after": "30"})
    assert "Retry-After" not in render_error(own, request_id="r").headers
    assert render_error(own, request_id="r").headers["retry-after"] == "30"


def test_other_errors_get_no_retry_after() -> None:
    """The twin: a 409 or a 500 is not told to retry later."""
    assert "Retry-After" not in render_error(Conflict(), request_id="r").headers
    assert "Retry-After" not in render_error(RuntimeError("x"), request_id="r").headers


@pytest.mark.parametrize(
    ("seconds", "header"),
    [(0.0, "1"), (0.001, "1"), (1.0, "1"), (1.01, "2"), (299.5, "300"), (float("nan"), "1")],
)
def test_retry_after_header_is_whole_seconds_at_least_one(seconds: float, header: str) -> None:
    """Rounded up, never 0 (a retry storm), never a non-number."""
    assert retry_after_header(seconds) == header


def test_health_503_carries_retry_after() -> None:
    """An unhealthy report says when to probe again; a healthy one does not."""
    down = health_response(HealthReport({"redis": "unavailable"}), request_id="r", retry_after=7)
    assert (down.status, down.headers["Retry-After"]) == (503, "7")
    assert json.loads(down.body)["error"]["code"] == "SERVICE_UNAVAILABLE"
    default = health_response(HealthReport({"redis": "timeout"}), request_id="r")
    assert default.headers["Retry-After"] == "5"
    ok = health_response(HealthReport({"redis": "ok"}), request_id="r")
    assert "Retry-After" not in ok.headers


def test_breaker_retry_after_is_the_rest_of_the_cooldown() -> None:
    """Open: what is left of the cooldown; closed: one whole cooldown."""
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=2, cooldown=10.0, clock=clock)
    assert breaker.retry_after == 10.0
    breaker.record_failure()
    assert breaker.retry_after == 10.0  # still closed: the next failure opens it
    breaker.record_failure()
    clock.advance(4.0)
    assert breaker.retry_after == pytest.approx(6.0)
    clock.advance(6.0)
    assert 0 < breaker.retry_after <= 0.001  # due: a trial may go out now


def test_a_redis_outage_503_carries_the_breaker_cooldown() -> None:
    """Refused port, then the open breaker: both errors say when the next trial is."""
    clock = FakeClock()
    dead = DeadPort()
    config = RedisConfig(dead.url, breaker_threshold=1, breaker_cooldown=8)
    connector = RedisConnector(config, clock=clock, name="t")
    try:
        with pytest.raises(BackendUnavailable) as refused:
            connector.execute(lambda r: r.get("k"))
        assert refused.value.headers["Retry-After"] == "8"
        clock.advance(5.5)
        with pytest.raises(BackendUnavailable) as fast:
            connector.execute(lambda r: r.get("k"))  # the breaker answers, nothing is sent
        assert fast.value.headers["Retry-After"] == "3"
        assert (
            render_error(fast.value, request_id="r", retry_after=60).headers["Retry-After"] == "3"
        )
    finally:
        connector.close()
        dead.close()
