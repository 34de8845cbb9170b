"""Hypothesis strategies shared by the whole test suite (the attrs layout: one place).

Import what you need: ``from tests.strategies import json_values, json_bodies``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "B64URL_ALPHABET",
    "arbitrary_bodies",
    "b64url_texts",
    "deeply_nested",
    "json_bodies",
    "json_objects",
    "json_scalars",
    "json_texts",
    "json_values",
    "mutated_json_bodies",
]

#: The 64 characters of unpadded base64url.
B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

#: Text that survives a UTF-8 round trip (no lone surrogates), including non-ASCII.
json_texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)

#: JSON scalars: null, booleans, 64-bit-ish integers, finite floats and strings.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    json_texts,
)

#: Any JSON value (bounded size), nested objects and arrays included.
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(json_texts, children, max_size=5),
    ),
    max_leaves=25,
)

#: JSON objects with string keys (what a request body usually is).
json_objects = st.dictionaries(json_texts, json_values, max_size=6)


@st.composite
def json_bodies(draw: st.DrawFn, values: st.SearchStrategy[Any] = json_values) -> bytes:
    """A valid JSON document as UTF-8 bytes, with or without spaces."""
    value = draw(values)
    compact = draw(st.booleans())
    text = json.dumps(
        value,
        ensure_ascii=draw(st.booleans()),
        separators=(",", ":") if compact else (", ", ": "),
    )
    return text.encode("utf-8")


@st.composite
def mutated_json_bodies(draw: st.DrawFn) -> bytes:
    """A valid JSON body with a few bytes replaced, inserted, deleted or cut off."""
    data = bytearray(draw(json_bodies()))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "replace" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data.insert(pos, draw(st.integers(0, 255)))
        elif op == "delete" and data:
            del data[pos]
        else:
            del data[pos:]
    return bytes(data)


#: Any bytes at all, valid JSON or (mostly) not.
arbitrary_bodies = st.one_of(
    st.binary(max_size=200),
    json_bodies(),
    mutated_json_bodies(),
    st.text(max_size=50).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


def deeply_nested(levels: int, *, kind: str = "array") -> bytes:
    """``levels`` nested arrays (``[[[...]]]``) or objects (``{"a":{"a":...}}``), closed."""
    if kind == "array":
        return b"[" * levels + b"]" * levels
    return b'{"a":' * levels + b"1" + b"}" * levels


#: Canonical unpadded base64url texts (the encoding of some bytes).
b64url_texts = st.binary(max_size=64).map(
    lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
)
