"""configure_logging, request context, request ids, redaction and security events."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from backendkit.logging import (
    REDACTED,
    SECURITY_LOGGER,
    accept_request_id,
    bind_request_context,
    clear_request_context,
    configure_logging,
    current_request_id,
    get_logger,
    get_request_context,
    is_sensitive_key,
    new_request_id,
    redact,
    request_context,
    security_event,
)
from backendkit.settings import Settings
from backendkit.testing import capture_logs

pytestmark = pytest.mark.usefixtures("restore_logging")


def _configure(**kwargs: Any) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(stream=stream, **kwargs)
    return stream


def _json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


# --- configure_logging ------------------------------------------------------------------


def test_json_lines_carry_level_logger_timestamp_and_context() -> None:
    """Production format: one JSON object per event with the request context merged in."""
    stream = _configure(fmt="json")
    with request_context(request_id="req-1", user_id=7, method="GET", path="/users"):
        get_logger("app.users").info("users_listed", count=3)
    (line,) = _json_lines(stream)
    assert line["event"] == "users_listed"
    assert line["count"] == 3
    assert line["level"] == "info"
    assert line["logger"] == "app.users"
    assert line["timestamp"].endswith("Z")
    assert (line["request_id"], line["user_id"], line["method"], line["path"]) == (
        "req-1",
        7,
        "GET",
        "/users",
    )


def test_stdlib_records_go_through_the_same_pipeline() -> None:
    """A plain logging call gets the same JSON shape, context and redaction."""
    stream = _configure(fmt="json")
    with request_context(request_id="req-2"):
        logging.getLogger("thirdparty").warning(
            "connected to %s", "db", extra={"password": "hunter2"}
        )
    (line,) = _json_lines(stream)
    assert line["event"] == "connected to db"
    assert line["level"] == "warning"
    assert line["logger"] == "thirdparty"
    assert line["request_id"] == "req-2"
    assert line["password"] == REDACTED
    assert "hunter2" not in stream.getvalue()


def test_structlog_events_are_redacted_in_output() -> None:
    """Secrets passed as fields never reach the rendered line."""
    stream = _configure(fmt="json")
    get_logger("x").info(
        "login", password="hunter2", headers={"Authorization": "Bearer abc.def"}, user="ann"
    )
    text = stream.getvalue()
    assert "hunter2" not in text
    assert "abc.def" not in text
    (line,) = _json_lines(stream)
    assert line["user"] == "ann"
    assert line["headers"] == {"Authorization": REDACTED}


def test_level_filters_both_kinds_of_events() -> None:
    """Below the configured level nothing is written, from structlog or stdlib."""
    stream = _configure(fmt="json", level="WARNING")
    get_logger("x").info("quiet")
    logging.getLogger("y").info("quiet too")
    get_logger("x").warning("loud")
    assert [line["event"] for line in _json_lines(stream)] == ["loud"]


def test_console_format_for_development() -> None:
    """Development settings give a readable console line, not JSON."""
    stream = _configure(settings=Settings(env="development"))
    get_logger("x").info("hello", who="ann")
    text = stream.getvalue()
    assert "hello" in text
    assert "who=ann" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_settings_choose_format_and_level() -> None:
    """log_format and log_level come from Settings when not given explicitly."""
    settings = Settings(env="test", log_format="json", log_level="ERROR")
    stream = _configure(settings=settings)
    get_logger("x").warning("dropped")
    get_logger("x").error("kept")
    assert [line["event"] for line in _json_lines(stream)] == ["kept"]


def test_explicit_arguments_win_over_settings() -> None:
    """fmt/level arguments override the settings object."""
    stream = _configure(settings=Settings(env="development"), fmt="json", level="DEBUG")
    get_logger("x").debug("dbg")
    assert _json_lines(stream)[0]["event"] == "dbg"


@pytest.mark.parametrize(
    ("settings", "expected_json"),
    [
        (None, True),
        (Settings(env="development"), False),
        (Settings(env="test"), True),
    ],
)
def test_auto_format(settings: Settings | None, expected_json: bool) -> None:
    """fmt="auto": console in development, JSON otherwise (and without settings)."""
    stream = _configure(settings=settings, fmt="auto")
    get_logger("x").info("evt")
    first = stream.getvalue().splitlines()[0]
    assert first.startswith("{") is expected_json


def test_numeric_level_is_accepted() -> None:
    """A numeric level works like its name."""
    stream = _configure(fmt="json", level=logging.ERROR)
    get_logger("x").warning("dropped")
    assert _json_lines(stream) == []


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"level": "LOUD"}, "level"), ({"fmt": "xml"}, "format")]
)
def test_rejects_unknown_level_or_format(kwargs: dict[str, Any], match: str) -> None:
    """An unknown level or format is refused with a message saying which."""
    with pytest.raises(ValueError, match=match):
        configure_logging(**kwargs)


def test_reconfiguring_replaces_the_handler() -> None:
    """Calling configure_logging twice does not duplicate lines."""
    first = _configure(fmt="json")
    second = _configure(fmt="json")
    logging.getLogger("x").warning("once")
    assert first.getvalue() == ""
    assert len(_json_lines(second)) == 1


def test_exceptions_are_rendered_as_text() -> None:
    """log.exception() includes the traceback in the JSON line."""
    stream = _configure(fmt="json")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        get_logger("x").exception("failed")
    (line,) = _json_lines(stream)
    assert "RuntimeError: boom" in line["exception"]


def test_console_exceptions_use_plain_tracebacks() -> None:
    """The console renderer prints a plain traceback (no local variables)."""
    stream = _configure(fmt="console")
    secret_local = "hunter2"  # noqa: F841 - must not be printed
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        get_logger("x").exception("failed")
    assert "RuntimeError: boom" in stream.getvalue()
    assert "hunter2" not in stream.getvalue()


def test_get_logger_without_name() -> None:
    """get_logger() with no name still logs through the pipeline."""
    stream = _configure(fmt="json")
    get_logger().info("anonymous", n=1)
    assert _json_lines(stream)[0]["event"] == "anonymous"


# --- request context ---------------------------------------------------------------------


def test_bind_updates_only_the_given_fields() -> None:
    """Binding user_id later keeps the request id bound earlier."""
    bind_request_context(request_id="r1", method="POST", path="/login")
    bind_request_context(user_id=42)
    assert get_request_context() == {
        "request_id": "r1",
        "method": "POST",
        "path": "/login",
        "user_id": 42,
    }
    assert current_request_id() == "r1"
    clear_request_context()
    assert get_request_context() == {}
    assert current_request_id() is None


def test_request_context_restores_the_previous_context() -> None:
    """Nested request_context blocks restore what was bound before them."""
    bind_request_context(request_id="outer")
    with request_context(request_id="inner", path="/x") as ctx:
        assert ctx == {"request_id": "inner", "path": "/x"}
        assert current_request_id() == "inner"
    assert get_request_context() == {"request_id": "outer"}


def test_explicit_event_fields_win_over_context() -> None:
    """A field passed to the log call is not overwritten by the context."""
    with capture_logs() as logs, request_context(request_id="ctx", user_id=1):
        get_logger("x").info("evt", user_id=2)
    assert logs[0]["user_id"] == 2
    assert logs[0]["request_id"] == "ctx"


def test_context_is_isolated_between_threads() -> None:
    """Two threads handling requests at the same time never see each other's ids."""
    barrier = threading.Barrier(2)
    seen: dict[str, str | None] = {}

    def handle(rid: str) -> None:
        with request_context(request_id=rid):
            barrier.wait()
            seen[rid] = current_request_id()

    threads = [threading.Thread(target=handle, args=(rid,)) for rid in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": "a", "b": "b"}


async def test_context_is_isolated_between_tasks() -> None:
    """Concurrent asyncio tasks each keep their own request context."""
    started: list[str] = []
    all_bound = asyncio.Event()

    async def handle(rid: str) -> str | None:
        bind_request_context(request_id=rid)
        started.append(rid)
        if len(started) == 3:
            all_bound.set()
        await all_bound.wait()  # every task has bound its id before any reads it
        return current_request_id()

    results = await asyncio.gather(*(handle(r) for r in ("a", "b", "c")))
    assert results == ["a", "b", "c"]
    assert current_request_id() is None


def test_extra_context_fields_are_allowed() -> None:
    """Adapters may bind more fields (e.g. client_ip) alongside the standard ones."""
    with request_context(request_id="r", client_ip="10.0.0.1"):
        assert get_request_context()["client_ip"] == "10.0.0.1"


# --- request ids -------------------------------------------------------------------------


def test_new_request_id_is_random_hex() -> None:
    """New ids are 32 hex characters and do not repeat."""
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "req-42",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "1-5759e988-bd862e3fe1be46a994272793",
        "svc.frontend:1234_x",
        "a" * 128,
        b"bytes-id",
    ],
)
def test_accepts_safe_request_ids(value: str | bytes) -> None:
    """Short ids of letters, digits and . _ : - are kept as they are."""
    expected = value.decode() if isinstance(value, bytes) else value
    assert accept_request_id(value) == expected


def test_surrounding_whitespace_is_ignored() -> None:
    """Whitespace around an otherwise safe id is stripped, not a reason to replace it."""
    assert accept_request_id("  abc \t") == "abc"


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "a" * 129,
        "has space",
        "new\nline",
        'quote"d',
        "semi;colon",
        "slash/id",
        "equals=id",
        "ünïcode",
        "<script>",
        b"\xff\xfe",
    ],
)
def test_replaces_unsafe_request_ids(value: str | bytes | None) -> None:
    """Missing, long or unsafe ids are replaced by a fresh one."""
    result = accept_request_id(value)
    assert result != value
    assert len(result) == 32
    int(result, 16)


@given(st.text(max_size=300))
def test_accepted_request_ids_are_always_safe(value: str) -> None:
    """Whatever arrives, the id used is short and made of safe characters only."""
    result = accept_request_id(value)
    assert 1 <= len(result) <= 128
    assert all(c.isascii() and (c.isalnum() or c in "._:-") for c in result)


# --- security events ---------------------------------------------------------------------


def test_security_event_is_a_warning_on_the_security_logger() -> None:
    """security_event logs the named event at WARNING, flagged and redacted."""
    stream = _configure(fmt="json")
    with request_context(request_id="r9"):
        security_event("login_failed", user_id=5, password="hunter2")
    (line,) = _json_lines(stream)
    assert line["event"] == "login_failed"
    assert line["level"] == "warning"
    assert line["logger"] == SECURITY_LOGGER
    assert line["security"] is True
    assert line["request_id"] == "r9"
    assert line["password"] == REDACTED


# --- redaction ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "PASSWORD",
        "new_password",
        "passwd",
        "token",
        "access_token",
        "refreshToken",
        "id_token",
        "secret",
        "client_secret",
        "Authorization",
        "proxy-authorization",
        "cookie",
        "Set-Cookie",
        "api_key",
        "apiKey",
        "X-API-Key",
        "private_key",
        "credentials",
        "session_id",
        b"authorization",
    ],
)
def test_sensitive_keys(key: str | bytes) -> None:
    """Keys are matched case-insensitively, ignoring separators, as substrings."""
    assert is_sensitive_key(key)


@pytest.mark.parametrize("key", ["user", "user_id", "email", "path", "count", "event", 3, None])
def test_ordinary_keys(key: object) -> None:
    """Ordinary keys (and non-string keys) are not masked."""
    assert not is_sensitive_key(key)


def test_redacts_at_any_depth() -> None:
    """Dicts in lists in tuples in dicts: every secret is masked, the rest kept."""
    data = {
        "user": "ann",
        "request": {
            "headers": [("Authorization", "Bearer t0k"), ("Accept", "json")],
            "body": ({"items": [{"api_key": "k3y", "qty": 2}]},),
            "cookies": {"a": "b"},
        },
        "asgi_headers": [(b"cookie", b"sid=s3ss"), (b"host", b"example.com")],
    }
    result = redact(data)
    assert result == {
        "user": "ann",
        "request": {
            "headers": [("Authorization", REDACTED), ("Accept", "json")],
            "body": ({"items": [{"api_key": REDACTED, "qty": 2}]},),
            "cookies": REDACTED,
        },
        "asgi_headers": [(b"cookie", REDACTED), (b"host", b"example.com")],
    }
    assert data["request"]["cookies"] == {"a": "b"}  # the input is not modified


def test_redacts_credentials_in_urls() -> None:
    """user:password@ in any URL inside a string is masked."""
    result = redact(
        {"dsn": "postgresql://app:pa55w0rd@db:5432/app", "msg": "using redis://:pw@cache:6379/0"}
    )
    assert result["dsn"] == f"postgresql://app:{REDACTED}@db:5432/app"
    assert result["msg"] == f"using redis://:{REDACTED}@cache:6379/0"
    assert redact({"url": "https://example.com/a@b"}) == {"url": "https://example.com/a@b"}


def test_sets_and_deep_nesting_are_handled() -> None:
    """Sets become lists; absurdly deep nesting is cut off instead of recursing forever."""
    assert sorted(redact({"tags": {"a", "b"}})["tags"]) == ["a", "b"]
    deep: Any = "leaf"
    for _ in range(100):
        deep = [deep]
    text = repr(redact({"deep": deep}))
    assert REDACTED in text
    assert "leaf" not in text


_SECRET = "ZZSECRETZZ"
_SENSITIVE = st.sampled_from(
    [
        "password",
        "Password",
        "access_token",
        "refreshToken",
        "Set-Cookie",
        "X-Api-Key",
        "client_secret",
        "AUTHORIZATION",
        "db_passwd",
        "sessionId",
    ]
)
_PLAIN_KEYS = st.text(alphabet="abcdefghijklmnoqruvwxyz_", min_size=1, max_size=8).filter(
    lambda k: not is_sensitive_key(k)
)
_PLAIN_VALUES = st.one_of(
    st.integers(), st.none(), st.booleans(), st.text(alphabet="abcdef ", max_size=10)
)


def _secret_value() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.just(_SECRET),
        st.builds(lambda s: [s], st.just(_SECRET)),
        st.builds(lambda s: {"inner": s}, st.just(_SECRET)),
        st.builds(lambda s: (s, s), st.just(_SECRET)),
    )


_TREE = st.recursive(
    _PLAIN_VALUES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(_PLAIN_KEYS, children, max_size=4),
        st.dictionaries(_SENSITIVE, _secret_value(), min_size=1, max_size=2),
        st.tuples(_SENSITIVE, _secret_value()),
    ),
    max_leaves=20,
)


@hsettings(max_examples=300)
@given(st.dictionaries(st.one_of(_PLAIN_KEYS, _SENSITIVE), _TREE, max_size=5), _SENSITIVE)
def test_redaction_never_lets_a_secret_through(event: dict[str, Any], key: str) -> None:
    """Secrets under sensitive keys, at any depth, never survive redaction."""
    event = {**event, key: _SECRET}
    assert _SECRET not in repr(redact(event))


@hsettings(max_examples=100)
@given(st.dictionaries(_PLAIN_KEYS, _TREE, max_size=4), _SENSITIVE)
def test_rendered_log_lines_never_contain_a_secret(event: dict[str, Any], key: str) -> None:
    """End to end: what the JSON renderer writes holds no secret value."""
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    get_logger("prop").warning("evt", **{**event, key: _SECRET, "nested": {key: _SECRET}})
    assert _SECRET not in stream.getvalue()
    assert json.loads(stream.getvalue())["event"] == "evt"
