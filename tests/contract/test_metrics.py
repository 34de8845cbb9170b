"""``/metrics`` of each example app (one worker): a known mix of successes, 401s, 429s and
cached reads moves each series by exactly its share; probes and scrapes move nothing.

The multi-worker version of the same check (gunicorn, two workers, multiprocess mode)
is ``tests/integration/metrics/test_metrics_multiprocess.py``.
"""

from __future__ import annotations

import secrets

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.contract._api import Api
from tests.contract._servers import RunningServer

pytestmark = pytest.mark.contract_only(backend="embedded")

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"


def scrape(server: RunningServer) -> Samples:
    """Every sample of one ``/metrics`` scrape."""
    with Api(server) as client:
        response = client.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much one series grew between two scrapes."""
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def moved_family(before: Samples, after: Samples, name: str) -> float:
    """How much every series of ``name`` grew together."""
    return sum(value for key, value in after.items() if key[0] == name) - sum(
        value for key, value in before.items() if key[0] == name
    )


def test_a_known_mix_moves_each_series_exactly(server: RunningServer, api: Api) -> None:
    """5 reads of /me (cached), 3 anonymous 401s, 10 failed logins then 2 refused ones."""
    account = api.new_user()
    before = scrape(server)
    for _ in range(5):
        assert api.get(ME, token=account.access).status_code == 200
    for _ in range(3):
        assert api.get(ME).status_code == 401
    statuses = []
    with Api(server) as guesser:  # one address: its login limit is 10 a minute
        for _ in range(12):
            body = {"email": f"nobody-{secrets.token_hex(4)}@example.com", "password": "x" * 12}
            statuses.append(guesser.post(LOGIN, json_body=body).status_code)
    assert statuses == [401] * 10 + [429] * 2
    assert api.get("/health").status_code == 200
    after = scrape(server)

    total = "backendkit_http_requests_total"
    assert moved(before, after, total, method="GET", route=ME, status="200") == 5
    assert moved(before, after, total, method="GET", route=ME, status="401") == 3
    assert moved(before, after, total, method="POST", route=LOGIN, status="401") == 10
    assert moved(before, after, total, method="POST", route=LOGIN, status="429") == 2
    assert moved_family(before, after, total) == 20  # the probe and the scrapes: nothing
    errors = "backendkit_http_errors_total"
    assert moved(before, after, errors, route=ME, code="UNAUTHENTICATED") == 3
    assert moved(before, after, errors, route=LOGIN, code="RATE_LIMITED") == 2
    assert after[("backendkit_http_requests_in_progress", ())] == 0
    decisions = "backendkit_ratelimit_decisions_total"
    denied = sum(
        after[key] - before.get(key, 0.0)
        for key in after
        if key[0] == decisions and ("decision", "denied") in key[1]
    )
    assert denied == 2
    hits = moved_family(before, after, "backendkit_cache_hits_total")
    misses = moved_family(before, after, "backendkit_cache_misses_total")
    assert hits + misses == 5  # one cached read of the user per /me
    assert hits >= 4
    rejections = moved_family(before, after, "backendkit_token_rejections_total")
    assert rejections == 0  # no token was sent that failed: the 401s had none
    verifications = "backendkit_password_duration_seconds_count"
    assert moved(before, after, verifications, operation="verify") == 10


def test_the_metrics_route_is_not_rate_limited(server: RunningServer) -> None:
    """More scrapes from one address than the default budget allows: all answered."""
    with Api(server) as client:
        statuses = {client.http.get("/metrics").status_code for _ in range(120)}
    assert statuses == {200}
