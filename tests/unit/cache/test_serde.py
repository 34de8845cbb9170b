"""Serialization: JSON through pydantic, back into the declared type; entry headers."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import math
import uuid
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from backendkit.cache._serde import (
    Codec,
    DecodeError,
    EncodeError,
    decode_entry,
    encode_entry,
)


class Role(enum.Enum):
    ADMIN = "admin"
    USER = "user"


class Address(BaseModel):
    street: str
    zip: str | None = None


class User(BaseModel):
    id: uuid.UUID
    created: datetime.datetime
    balance: decimal.Decimal
    role: Role
    address: Address
    tags: set[str]


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    when: datetime.date


USER = User(
    id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
    created=datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc),
    balance=decimal.Decimal("10.50"),
    role=Role.ADMIN,
    address=Address(street="Main"),
    tags={"a", "b"},
)

CASES: list[tuple[Any, Any]] = [
    (User, USER),
    (Point, Point(1, datetime.date(2024, 1, 2))),
    (list[User], [USER, USER]),
    (dict[str, Point], {"p": Point(2, datetime.date(2020, 2, 29))}),
    (tuple[int, str, uuid.UUID], (1, "a", uuid.UUID(int=7))),
    (frozenset[int], frozenset({3, 1})),
    (set[uuid.UUID], {uuid.UUID(int=1), uuid.UUID(int=2)}),
    (datetime.datetime, datetime.datetime(2024, 1, 1, 12, 0)),  # naive stays naive
    (
        datetime.datetime,
        datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    ),
    (datetime.timedelta, datetime.timedelta(days=1, seconds=5, microseconds=7)),
    (datetime.time, datetime.time(13, 14, 15)),
    (decimal.Decimal, decimal.Decimal("123456789.000000001")),
    (bytes, b"\x00\xff binary"),
    (User | None, None),
    (Literal["a", "b"], "b"),
    (Role, Role.USER),
    (float, 1e308),
    (int, 2**70),
    (dict[str, list[int | None]], {"x": [1, None]}),
]


@pytest.mark.parametrize(("type_", "value"), CASES, ids=[repr(c[0]) for c in CASES])
def test_round_trip_keeps_types(type_: Any, value: Any) -> None:
    """Every supported value comes back equal and of the same type, containers included."""
    codec: Codec[Any] = Codec(type_)
    back = codec.loads(codec.dumps(value))
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, list):
        assert all(type(a) is type(b) for a, b in zip(back, value, strict=False))
    if isinstance(value, datetime.datetime):
        assert (back.tzinfo is None) == (value.tzinfo is None)
        assert back.utcoffset() == value.utcoffset()


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_floats_round_trip(value: float) -> None:
    """inf and nan survive (stored as JSON5 constants rather than null)."""
    codec: Codec[float] = Codec(float)
    back = codec.loads(codec.dumps(value))
    assert (math.isnan(back) and math.isnan(value)) or back == value


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_any_json_value_round_trips(value: Any) -> None:
    """Any JSON-shaped value round-trips through an Any codec."""
    codec: Codec[Any] = Codec(Any)
    assert codec.loads(codec.dumps(value)) == value


def test_value_not_matching_the_declared_type_is_an_encode_error() -> None:
    """A function that returns something other than its annotation is not stored."""
    codec: Codec[dict[str, int]] = Codec(dict[str, int])
    with pytest.raises(EncodeError):
        codec.dumps(USER)  # type: ignore[arg-type]
    assert codec.dumps({"a": 1}) == b'{"a":1}'


@pytest.mark.parametrize("data", [b"not json", b'{"id": "nope"}', b"", b"[1,2"])
def test_undecodable_data_is_a_decode_error(data: bytes) -> None:
    """Garbage or a stale shape raises DecodeError (a miss to the caller)."""
    with pytest.raises(DecodeError):
        Codec(User).loads(data)
    assert Codec(User).loads(Codec(User).dumps(USER)) == USER


def test_lazy_type_is_resolved_on_first_use() -> None:
    """A resolver is called once, when the adapter is first needed."""
    calls = []

    def resolve() -> Any:
        calls.append(1)
        return int

    codec: Codec[int] = Codec(resolve, resolve=True)
    assert calls == []
    assert codec.loads(codec.dumps(5)) == 5
    assert codec.loads(b"6") == 6
    assert calls == [1]


def test_entry_header_round_trip() -> None:
    """Header fields survive encoding; a payload containing '|' is kept whole."""
    raw = encode_entry(b"abc123", 1_700_000_000.25, 0.2, b'{"a":"x|y"}')
    entry = decode_entry(raw)
    assert entry is not None
    assert entry.gen == b"abc123"
    assert entry.fresh_until == pytest.approx(1_700_000_000.25)
    assert entry.delta == pytest.approx(0.2)
    assert entry.payload == b'{"a":"x|y"}'


@pytest.mark.parametrize(
    "raw", [b"", b"garbage", b"2|g|1|1|{}", b"1|g|x|1|{}", b"1|g|1|y|{}", b"1|g|1"]
)
def test_foreign_entries_are_not_decoded(raw: bytes) -> None:
    """Bytes that are not our format (another writer, a future version) read as a miss."""
    assert decode_entry(raw) is None
    assert decode_entry(b"1|g|1|1|{}") is not None
