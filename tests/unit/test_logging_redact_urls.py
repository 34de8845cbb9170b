"""Passwords in URLs are masked whatever characters they hold; the host stays readable.

``backendkit.logging._redact`` masks ``scheme://user:password@host``. A password may hold characters
that end other parts of a URL (``/``, ``?``, ``#``, ``:``, ``;``, ``=``), percent-escapes
(``%2F``, ``%40``, ``%20``) and non-ASCII text; the mask must cover all of it (a pattern
stopping at ``/`` would log ``et@cache`` of ``redis://:s3cr/et@cache``). Each case runs
through every entry point: ``redact_value`` on a string, ``redact`` on nested data, the
structlog processor, and a logger call captured with ``capture_logs``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backendkit.logging import get_logger
from backendkit.logging._redact import REDACTED, redact, redact_processor, redact_value
from backendkit.testing import capture_logs

# Schemes whose URLs carry credentials in backendkit's settings and logs (storage URIs,
# SQLAlchemy URLs), and a few generic ones: the pattern covers any scheme.
SCHEMES = [
    "redis",
    "rediss",
    "redis+cluster",
    "redis+sentinel",
    "postgresql",
    "postgresql+psycopg",
    "postgresql+asyncpg",
    "mysql+pymysql",
    "mariadb+mariadbconnector",
    "amqp",
    "https",
    "mongodb+srv",
]

# Each password holds a distinctive marker ("Zq") so that finding any piece of it in the
# output is a leak; the rest of each password is the character class under test.
PASSWORDS = {
    "slash": "s3cr/etZq",
    "slashes": "Zq//a/b/",
    "question": "s3cr?etZq",
    "hash": "s3cr#etZq",
    "colon": "s3cr:etZq",
    "semicolon": "s3cr;etZq",
    "equals": "s3cr=etZq",
    "ampersand": "a&b=cZq",
    "encoded-slash": "s3cr%2FetZq",
    "encoded-at": "s3cr%40etZq",
    "encoded-space": "s3cr%20etZq",
    "encoded-colon": "s3cr%3AetZq",
    "unicode": "pässwörd✓Zq",
    "sub-delims": "!$'()*+,Zq",
    "brackets": "[Zq]~._-",
    "all-of-them": "a/b?c#d:e;f=g&h%2F%40%20é!$Zq",
    "percent-only": "%Zq%",
}
USERS = ["", "app", "default"]


def _url(scheme: str, user: str, password: str) -> str:
    return f"{scheme}://{user}:{password}@cache.internal:6379/0"


def _assert_masked(text: str, scheme: str, user: str, password: str) -> None:
    assert "Zq" not in text, f"password leaked: {text!r}"
    for piece in {p for p in password.replace("%", "/").split("/") if len(p) >= 3}:
        assert piece not in text, f"a piece of the password leaked: {text!r}"
    assert f"{scheme}://{user}:{REDACTED}@cache.internal:6379/0" in text


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("password", PASSWORDS.values(), ids=PASSWORDS.keys())
def test_url_password_is_masked_in_strings(scheme: str, password: str) -> None:
    """A bare URL and a URL inside a sentence: password gone, scheme, user and host kept."""
    for user in USERS:
        url = _url(scheme, user, password)
        _assert_masked(redact_value(url), scheme, user, password)
        _assert_masked(redact_value(f"connecting to {url} now"), scheme, user, password)


@pytest.mark.parametrize("password", PASSWORDS.values(), ids=PASSWORDS.keys())
def test_url_password_is_masked_in_nested_data_and_events(password: str) -> None:
    """Nested in dicts, lists and tuples, in the processor, and through a logger call."""
    url = _url("redis", "", password)
    nested = redact({"config": {"storage": url, "replicas": [url, (url,)]}})
    for text in (nested["config"]["storage"], *nested["config"]["replicas"][:1]):
        _assert_masked(text, "redis", "", password)
    _assert_masked(nested["config"]["replicas"][1][0], "redis", "", password)
    event: dict[str, Any] = {"event": "redis_connected", "url": url, "extra": [url]}
    processed = redact_processor(None, "info", event)
    _assert_masked(processed["url"], "redis", "", password)
    _assert_masked(processed["extra"][0], "redis", "", password)
    with capture_logs() as logs:
        get_logger("test.redact").warning("redis_unavailable", url=url, detail=f"at {url}")
    (entry,) = logs
    _assert_masked(entry["url"], "redis", "", password)
    _assert_masked(entry["detail"], "redis", "", password)


def test_several_urls_in_one_string_are_each_masked() -> None:
    """Two URLs separated by a space: each password masked, both hosts readable."""
    text = redact_value("primary redis://:a/bZq@h1:6379 replica rediss://u:c?dZq@h2:6380/1")
    assert "Zq" not in text
    assert f"redis://:{REDACTED}@h1:6379" in text
    assert f"rediss://u:{REDACTED}@h2:6380/1" in text


@pytest.mark.parametrize(
    "text",
    [
        "redis://cache.internal:6379/0",
        "postgresql://app@db:5432/app",
        "https://example.com/a@b",
        "https://example.com/path?next=/a:b@c",
        "plain text with a : and an @ sign",
    ],
)
def test_urls_without_a_password_are_left_alone(text: str) -> None:
    """The twins: no ``user:password@`` part, nothing masked."""
    assert redact_value(text) == text


_password_chars = st.characters(
    codec="utf-8",
    blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"),  # no whitespace or control
    blacklist_characters="@",
)


@settings(deadline=None, max_examples=300)
@given(
    scheme=st.sampled_from(SCHEMES),
    user=st.text(st.characters(codec="ascii", whitelist_categories=("Ll", "Nd")), max_size=8),
    password=st.text(_password_chars, min_size=1, max_size=24),
)
def test_any_password_without_at_or_whitespace_is_masked(
    scheme: str, user: str, password: str
) -> None:
    """Any password a URL can carry raw (no ``@``, no whitespace) is masked entirely."""
    secret = password + "Zq"
    url = f"{scheme}://{user}:{secret}@cache.internal:6379/0"
    masked = redact_value(url)
    assert masked == f"{scheme}://{user}:{REDACTED}@cache.internal:6379/0"
