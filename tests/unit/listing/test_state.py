"""Cursor payloads: typed key values survive JSON; malformed payloads are refused."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backendkit.errors import ValidationFailed
from backendkit.listing import CursorCodec, cursor_binding
from backendkit.listing._state import CursorState, decode_values, encode_values


class Color(enum.Enum):
    RED = "r"


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=20),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(timezones=st.sampled_from([None, dt.timezone.utc])),
    st.dates(),
    st.times(),
    st.uuids(),
    st.binary(max_size=10),
)


@given(st.lists(VALUES, max_size=5), st.booleans(), st.booleans())
def test_state_round_trips_through_a_signed_token(
    values: list[object], back: bool, inc: bool
) -> None:
    """encode -> sign -> verify -> decode gives back equal values of the same types."""
    codec = CursorCodec([b"k" * 32])
    binding = cursor_binding(["x"])
    state = CursorState(tuple(values), back, inc)
    token = codec.encode(state.to_payload(), binding=binding)
    decoded = CursorState.from_payload(codec.decode(token, binding=binding), len(values))
    assert decoded == state
    assert [type(v) for v in decoded.values] == [type(v) for v in values]


def test_enums_are_carried_by_name() -> None:
    """An Enum member is stored by name (what SQLAlchemy's Enum type binds)."""
    assert encode_values([Color.RED]) == [["e", "RED"]]
    assert decode_values([["e", "RED"]]) == ("RED",)


def test_unsupported_values_cannot_be_encoded() -> None:
    """A type with no stable JSON form is a programming error."""
    with pytest.raises(TypeError):
        encode_values([object()])


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"k": [1]},
        {"k": [1], "b": False, "i": False, "x": 1},
        {"k": 1, "b": False, "i": False},
        {"k": [1, 2], "b": False, "i": False},
        {"k": [1], "b": "no", "i": False},
        {"k": [1], "b": False, "i": 0},
        {"k": [["dt", "not a date"]], "b": False, "i": False},
        {"k": [["zz", "1"]], "b": False, "i": False},
        {"k": [["n", 5]], "b": False, "i": False},
        {"k": [{"a": 1}], "b": False, "i": False},
    ],
)
def test_malformed_payloads_are_validation_errors(payload: object) -> None:
    """Anything but the exact shape is refused on field `cursor`."""
    with pytest.raises(ValidationFailed) as info:
        CursorState.from_payload(payload, 1)
    assert [d.field for d in info.value.details] == ["cursor"]


def test_valid_payload_twin() -> None:
    """The well-formed twin of the cases above decodes."""
    state = CursorState.from_payload({"k": [["n", "1.5"]], "b": True, "i": False}, 1)
    assert state == CursorState((Decimal("1.5"),), True, False)
    assert CursorState.from_payload(
        {"k": [["u", str(uuid.UUID(int=1))]], "b": False, "i": True}, 1
    ).inclusive
