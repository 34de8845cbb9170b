"""The sync and async repositories expose the same operations with the same signatures."""

from __future__ import annotations

import inspect

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from backendkit.errors import ConfigurationError
from backendkit.repository import AsyncRepository, AsyncUnitOfWork, Repository, UnitOfWork
from backendkit.repository._engine import _options


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_")
    }


def test_async_twin_has_the_same_operations() -> None:
    """Same public methods, same parameters; every async one is a coroutine function."""
    sync, asynchronous = _public(Repository), _public(AsyncRepository)
    assert sync.keys() == asynchronous.keys()
    for name, signature in sync.items():
        assert list(signature.parameters) == list(asynchronous[name].parameters), name
        assert inspect.iscoroutinefunction(getattr(AsyncRepository, name)), name
    assert {
        "get",
        "get_or_none",
        "get_many",
        "exists",
        "count",
        "list",
        "list_page",
        "list_cursor",
        "create",
        "create_many",
        "update",
        "delete",
        "upsert",
        "upsert_many",
    } <= sync.keys()
    assert _public(UnitOfWork).keys() == _public(AsyncUnitOfWork).keys()


class _Base(DeclarativeBase):
    metadata = sa.MetaData()


class Thing(_Base):
    __tablename__ = "things"
    id: Mapped[int] = mapped_column(primary_key=True)


def test_model_comes_from_the_generic_parameter() -> None:
    """Repository[Thing] knows its model; a repository without one is refused."""

    class Things(Repository[Thing]):
        pass

    class Explicit(Repository[Thing]):
        model = Thing

    class Nothing(Repository):  # type: ignore[type-arg]
        pass

    engine = sa.create_engine("sqlite://")
    with Session(engine) as session:
        assert Things(session).model is Thing
        assert Explicit(session).model is Thing
        with pytest.raises(ConfigurationError, match="needs a model"):
            Nothing(session)
    engine.dispose()


def test_engine_options_per_driver() -> None:
    """Statement and connect timeouts land where each driver expects them."""

    def opts(url: str, **kw: object) -> dict[str, object]:
        base: dict[str, object] = {
            "pool_size": 5,
            "max_overflow": 10,
            "pool_timeout": 10.0,
            "pool_recycle": 1800,
            "pool_pre_ping": True,
            "statement_timeout": 2.5,
            "connect_timeout": 3.0,
            "hide_parameters": True,
            "extra": {},
        }
        base.update(kw)
        return _options(sa.make_url(url), **base)  # type: ignore[arg-type]

    psycopg = opts(
        "postgresql+psycopg://u@h/d", extra={"connect_args": {"options": "-c search_path=s"}}
    )
    assert psycopg["connect_args"] == {
        "options": "-c statement_timeout=2500 -c search_path=s",
        "connect_timeout": 3,
    }
    asyncpg = opts(
        "postgresql+asyncpg://u@h/d", extra={"connect_args": {"server_settings": {"a": "b"}}}
    )
    assert asyncpg["connect_args"] == {
        "server_settings": {"statement_timeout": "2500", "a": "b"},
        "timeout": 3.0,
    }
    assert opts("mysql+pymysql://u@h/d")["connect_args"] == {"connect_timeout": 3}
    assert opts("mysql+asyncmy://u@h/d")["connect_args"] == {"connect_timeout": 3}
    memory = opts("sqlite://", statement_timeout=None, connect_timeout=None)
    assert "pool_size" not in memory
    assert "connect_args" not in memory
    assert opts("sqlite:///f.db")["pool_size"] == 5
    assert opts("sqlite:///f.db", extra={"echo": True})["echo"] is True
