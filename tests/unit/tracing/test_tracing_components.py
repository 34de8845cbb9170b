"""Child spans of Redis commands, SQL statements and bcrypt work, against a real Redis,
SQLite and PostgreSQL: opened inside a recording span only, never carrying a value."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode, Tracer
from tests._tracing import Spans, official_instrumentation

from backendkit.redis import AsyncRedisConnector, RedisConnector
from backendkit.testing import TestingPasswordHasher
from backendkit.tracing import INSTRUMENTATION_NAME, Tracing

_SECRET = "value-never-in-a-span-91c2"


@pytest.fixture
def spans() -> Spans:
    return Spans()


@pytest.fixture
def tracing(spans: Spans) -> Tracing:
    return Tracing(spans.provider)


@pytest.fixture
def tracer(tracing: Tracing) -> Tracer:
    return tracing.tracer


@pytest.fixture
def connector(redis_url: str) -> Iterator[RedisConnector]:
    conn = RedisConnector(redis_url)
    yield conn
    conn.close()


def _children(spans: Spans, name: str) -> list[ReadableSpan]:
    (parent,) = [span for span in spans.finished() if span.name == name]
    return spans.children(parent)


def _values(spans: Spans) -> list[str]:
    return [str(v) for span in spans.finished() for v in (span.attributes or {}).values()]


# --------------------------------------------------------------------------- Redis


def test_redis_commands_inside_a_span_are_its_children(
    spans: Spans, tracing: Tracing, tracer: Tracer, connector: RedisConnector, redis_prefix: str
) -> None:
    """Each command is a client span named by the command, with no argument recorded."""
    tracing.watch_redis(connector)
    key = f"{redis_prefix}k"
    with tracer.start_as_current_span("job"):
        connector.execute(lambda r: r.set(key, _SECRET, px=60_000))
        assert connector.execute(lambda r: r.get(key)) == _SECRET.encode()
    children = _children(spans, "job")
    assert [span.name for span in children] == ["SET", "GET"]
    attributes = dict(children[0].attributes or {})
    assert children[0].kind == SpanKind.CLIENT
    assert attributes["db.system"] == "redis"
    assert attributes["db.operation.name"] == "SET"
    assert attributes["db.namespace"] == "0"
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["backendkit.redis.connector"] == "redis"
    assert not [value for value in _values(spans) if _SECRET in value or key in value]


def test_redis_commands_outside_a_span_make_none(
    spans: Spans, tracing: Tracing, connector: RedisConnector, redis_prefix: str
) -> None:
    """Background work (a health ping) is no trace; the twin above is inside a span."""
    tracing.watch_redis(connector)
    connector.execute(lambda r: r.set(f"{redis_prefix}k", "1", px=60_000))
    assert connector.ping()
    assert list(spans.finished()) == []


def test_a_script_is_an_evalsha_span(
    spans: Spans, tracing: Tracing, tracer: Tracer, connector: RedisConnector, redis_prefix: str
) -> None:
    """A script runs as EVALSHA (loaded first when the server lacks it)."""
    tracing.watch_redis(connector)
    script = connector.register_script(f"return redis.call('INCR', KEYS[1]) -- {redis_prefix}")
    with tracer.start_as_current_span("job"):
        connector.execute(lambda r: script(keys=[f"{redis_prefix}n"], args=[], client=r))
        connector.execute(lambda r: script(keys=[f"{redis_prefix}n"], args=[], client=r))
    names = [span.name for span in _children(spans, "job")]
    assert names.count("EVALSHA") >= 2
    assert set(names) <= {"EVALSHA", "SCRIPT LOAD"}


def test_an_error_reply_is_an_error_span_without_its_message(
    spans: Spans, tracing: Tracing, tracer: Tracer, connector: RedisConnector
) -> None:
    """The error's type is recorded, not its text (a reply may quote a value)."""
    tracing.watch_redis(connector)
    with tracer.start_as_current_span("job"), pytest.raises(Exception, match="unknown command"):
        connector.execute(lambda r: r.execute_command("NOSUCHCOMMAND", _SECRET))
    (span,) = _children(spans, "job")
    assert span.status.status_code == StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == "ResponseError"
    assert not span.events
    assert not [value for value in _values(spans) if _SECRET in value]


def test_a_client_built_before_watching_is_traced_once(
    spans: Spans, tracing: Tracing, tracer: Tracer, connector: RedisConnector
) -> None:
    """Watching wraps the current client too, and watching twice wraps it once."""
    assert connector.ping()  # the client exists before the hook
    tracing.watch_redis(connector)
    tracing.watch_redis(connector)
    with tracer.start_as_current_span("job"):
        assert connector.ping()
    assert [span.name for span in _children(spans, "job")] == ["PING"]


def test_async_redis_commands_are_children_too(
    spans: Spans, tracing: Tracing, tracer: Tracer, redis_url: str, redis_prefix: str
) -> None:
    """The asyncio connector's commands are spans under the task's current span."""

    async def run() -> None:
        connector = AsyncRedisConnector(redis_url)
        tracing.watch_redis(connector)
        try:
            with tracer.start_as_current_span("job"):
                await connector.execute(lambda r: r.set(f"{redis_prefix}a", "1", px=60_000))
            assert await connector.ping()  # outside the span: none
        finally:
            await connector.aclose()

    asyncio.run(run())
    assert [span.name for span in _children(spans, "job")] == ["SET"]
    assert len(spans.finished()) == 2


def test_none_of_ours_while_the_official_redis_instrumentation_is_on(
    spans: Spans, tracing: Tracing, tracer: Tracer, connector: RedisConnector
) -> None:
    """With RedisInstrumentor on, its spans alone: never two spans for one command."""
    instrumentation = official_instrumentation("opentelemetry.instrumentation.redis")
    tracing.watch_redis(connector)
    instrumentor = instrumentation.RedisInstrumentor()
    instrumentor.instrument(tracer_provider=spans.provider)
    try:
        with tracer.start_as_current_span("job"):
            assert connector.ping()
    finally:
        instrumentor.uninstrument()
    (span,) = _children(spans, "job")
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name != INSTRUMENTATION_NAME
    with tracer.start_as_current_span("after"):
        assert connector.ping()  # the twin: off again, ours are back
    (ours,) = _children(spans, "after")
    assert ours.instrumentation_scope is not None
    assert ours.instrumentation_scope.name == INSTRUMENTATION_NAME


# --------------------------------------------------------------------------- SQL


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine("sqlite://")
    yield engine
    engine.dispose()


def test_a_statement_is_a_span_with_its_text_and_no_values(
    spans: Spans, tracing: Tracing, tracer: Tracer, engine: sa.Engine
) -> None:
    """``db.statement`` is the SQL with its placeholders; the bound value is nowhere."""
    tracing.watch_engine(engine)
    with tracer.start_as_current_span("job"), engine.connect() as connection:
        connection.execute(sa.text("SELECT :v AS v"), {"v": _SECRET})
    (span,) = _children(spans, "job")
    attributes = dict(span.attributes or {})
    assert span.name == "SELECT"
    assert span.kind == SpanKind.CLIENT
    assert attributes["db.statement"] == "SELECT ? AS v"
    assert attributes["db.system"] == "sqlite"
    assert not [value for value in _values(spans) if _SECRET in value]


def test_statements_outside_a_span_make_none(
    spans: Spans, tracing: Tracing, engine: sa.Engine
) -> None:
    """The twin: the same statement outside any span is not traced."""
    tracing.watch_engine(engine)
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    assert list(spans.finished()) == []


def test_a_failed_statement_is_an_error_span_without_its_message(
    spans: Spans, tracing: Tracing, tracer: Tracer, engine: sa.Engine
) -> None:
    """The driver's error type is recorded; its message (which may quote values) is not."""
    tracing.watch_engine(engine)
    tracing.watch_engine(engine)  # once however often
    with (
        tracer.start_as_current_span("job"),
        engine.connect() as connection,
        pytest.raises(sa.exc.OperationalError),
    ):
        connection.execute(sa.text("SELECT x FROM no_such_table WHERE y = :v"), {"v": _SECRET})
    (span,) = _children(spans, "job")
    assert span.status.status_code == StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == "OperationalError"
    assert not span.events


def test_postgres_statements_name_their_server_and_database(
    spans: Spans, tracing: Tracing, tracer: Tracer, postgres_url: str
) -> None:
    """On PostgreSQL: ``db.system`` postgresql, the database and the server, no password."""
    engine = sa.create_engine(postgres_url)
    tracing.watch_engine(engine)
    try:
        with tracer.start_as_current_span("job"), engine.connect() as connection:
            connection.execute(sa.text("SELECT :v"), {"v": _SECRET})
    finally:
        engine.dispose()
    (span,) = _children(spans, "job")
    attributes = dict(span.attributes or {})
    assert attributes["db.system"] == "postgresql"
    assert attributes["db.namespace"] == engine.url.database
    assert attributes["server.address"] == engine.url.host
    assert "%(v)s" in str(attributes["db.statement"])
    assert not [value for value in _values(spans) if _SECRET in value]


def test_none_of_ours_on_an_engine_the_official_instrumentation_traces(
    spans: Spans, tracing: Tracing, tracer: Tracer, engine: sa.Engine
) -> None:
    """With SQLAlchemyInstrumentor on the engine, its span alone; off again, ours."""
    instrumentation = official_instrumentation("opentelemetry.instrumentation.sqlalchemy")
    tracing.watch_engine(engine)
    instrumentor = instrumentation.SQLAlchemyInstrumentor()
    # Its declared range stops below SQLAlchemy 2.1; the engine events it uses are there.
    instrumentor.instrument(engine=engine, tracer_provider=spans.provider, skip_dep_check=True)
    try:
        with tracer.start_as_current_span("job"), engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    finally:
        instrumentor.uninstrument()
    # Its own spans (the statement, and its connect), none of ours.
    scopes = {span.instrumentation_scope.name for span in _children(spans, "job")}  # type: ignore[union-attr]
    assert scopes == {instrumentation.__name__}
    with tracer.start_as_current_span("after"), engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    (ours,) = _children(spans, "after")
    assert ours.instrumentation_scope is not None
    assert ours.instrumentation_scope.name == INSTRUMENTATION_NAME


# --------------------------------------------------------------------------- bcrypt


def test_hash_and_verify_are_spans_under_the_current_one(
    spans: Spans, tracing: Tracing, tracer: Tracer
) -> None:
    """``bcrypt.hash`` and ``bcrypt.verify`` under the caller's span; none outside one."""
    hasher = TestingPasswordHasher(allow=True)
    tracing.watch_passwords(hasher)
    hashed = hasher.hash("correct horse")
    assert list(spans.finished()) == []
    with tracer.start_as_current_span("login"):
        assert hasher.verify("correct horse", hashed)
        hasher.hash("another one")
    assert [span.name for span in _children(spans, "login")] == ["bcrypt.verify", "bcrypt.hash"]


def test_async_hashing_keeps_the_callers_span_in_the_pool(
    spans: Spans, tracing: Tracing, tracer: Tracer
) -> None:
    """The thread pool runs the work in the caller's context: the span has its parent."""
    hasher = TestingPasswordHasher(allow=True)
    tracing.watch_passwords(hasher)

    async def run() -> None:
        with tracer.start_as_current_span("register"):
            await hasher.ahash("correct horse")

    try:
        asyncio.run(run())
    finally:
        hasher.close()
    assert [span.name for span in _children(spans, "register")] == ["bcrypt.hash"]


def test_cluster_commands_are_spans_too(
    spans: Spans, tracing: Tracing, tracer: Tracer, redis_cluster_url: str, redis_prefix: str
) -> None:
    """A cluster client's commands go through its own ``execute_command``: traced alike."""
    connector = RedisConnector(redis_cluster_url)
    tracing.watch_redis(connector)
    try:
        with tracer.start_as_current_span("job"):
            connector.execute(lambda r: r.set(f"{redis_prefix}c", "1", px=60_000))
    finally:
        connector.close()
    assert [span.name for span in _children(spans, "job")] == ["SET"]
