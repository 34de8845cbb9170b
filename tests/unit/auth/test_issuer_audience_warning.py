"""``TokenService.from_settings`` warns at start in production when ``iss``/``aud`` are unset.

Without an issuer and an audience, any correctly signed token is accepted whoever issued it
and whichever service it was meant for; in production that is worth one warning at start.
"""

from __future__ import annotations

from typing import Any

import pytest

from backendkit.auth import TokenService
from backendkit.settings import Settings
from backendkit.testing import capture_logs

JWT_SECRET = "unit-test-jwt-secret-0123456789abcdef"
SECRET_KEY = "unit-test-secret-key-0123456789abcdef"
EVENT = "jwt_issuer_audience_unset"


def _build(env: str, **fields: Any) -> list[dict[str, Any]]:
    settings = Settings(env=env, secret_key=SECRET_KEY, jwt_secret=JWT_SECRET, **fields)
    with capture_logs() as logs:
        TokenService.from_settings(settings)
    return [entry for entry in logs if entry["event"] == EVENT]


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({}, ["audience", "issuer"]),
        ({"jwt_issuer": "https://auth.example.com"}, ["audience"]),
        ({"jwt_audience": "api.example.com"}, ["issuer"]),
    ],
)
def test_production_without_issuer_or_audience_warns_once(
    fields: dict[str, str], missing: list[str]
) -> None:
    warnings = _build("production", **fields)
    assert len(warnings) == 1
    (warning,) = warnings
    assert warning["log_level"] == "warning"
    assert warning["missing"] == missing
    assert "BACKENDKIT_JWT_ISSUER" in warning["hint"]


def test_production_with_issuer_and_audience_does_not_warn() -> None:
    assert _build("production", jwt_issuer="https://auth.example.com", jwt_audience="api") == []


def test_issuer_and_audience_given_as_options_count() -> None:
    # Keyword arguments win over the settings, so they are what the service checks.
    settings = Settings(env="production", secret_key=SECRET_KEY, jwt_secret=JWT_SECRET)
    with capture_logs() as logs:
        TokenService.from_settings(settings, issuer="https://auth.example.com", audience="api")
    assert [entry for entry in logs if entry["event"] == EVENT] == []


@pytest.mark.parametrize("env", ["development", "test"])
def test_outside_production_unset_issuer_and_audience_do_not_warn(env: str) -> None:
    assert _build(env) == []
