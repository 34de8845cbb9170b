"""A rule's failure policy, set where the route declares its limit, holds in every adapter.

The limiter's storage is a refused Redis port and the limiter fails open: a route whose
rule says ``fail_closed`` is refused (429 with ``Retry-After``), the twin route without a
policy of its own is served.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from tests._services import DeadPort
from tests.adapters._apps import Harness, fastapi_harness, flask_harness, make_kit

from backendkit.web import WebKit


def _django(name: str) -> Callable[[WebKit], Harness]:
    def build(kit: WebKit) -> Harness:
        from tests.adapters import _django_app

        return getattr(_django_app, f"{name}_harness")(kit)  # type: ignore[no-any-return]

    return build


FACTORIES: dict[str, Callable[[WebKit], Harness]] = {
    "fastapi": fastapi_harness,
    "flask": flask_harness,
    "django": _django("django"),
    "drf": _django("drf"),
}


@pytest.fixture(params=sorted(FACTORIES))
def down(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """A harness whose limiters (fail_open) point at a refused port."""
    dead = DeadPort()
    try:
        yield FACTORIES[request.param](make_kit(limiter_storage=dead.url))
    finally:
        dead.close()


def test_a_fail_closed_rule_refuses_while_storage_is_down(down: Harness) -> None:
    """429 with Retry-After and no quota headers (nothing was counted)."""
    denied = down.request("GET", "/guarded")
    assert denied.status == 429, denied.body
    assert denied.json()["error"]["code"] == "RATE_LIMITED"
    assert int(denied.header("Retry-After") or "0") >= 1
    assert denied.header("RateLimit-Limit") is None


def test_a_rule_without_a_policy_follows_the_limiter(down: Harness) -> None:
    """The twin: the limiter fails open, so the plain limited route is served."""
    result = down.request("GET", "/limited")
    assert result.status == 200, result.body
    assert result.header("RateLimit-Limit") is None
