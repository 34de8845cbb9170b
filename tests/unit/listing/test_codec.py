"""Cursors round-trip; any change, truncation, foreign key or other binding is refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import B64URL_ALPHABET, json_objects

from backendkit._b64 import b64url_encode
from backendkit.errors import ConfigurationError, ErrorDetail, ValidationFailed
from backendkit.listing import MAX_CURSOR_LENGTH, CursorCodec, cursor_binding
from backendkit.settings import Settings

KEY = b"k" * 32
OLD_KEY = b"o" * 32
BINDING = cursor_binding(["-createdAt", "id"], {"role": "admin"}, scope="users")
CODEC = CursorCodec([KEY])
TOKEN = CODEC.encode({"after": [1700000000, 42], "dir": "next"}, binding=BINDING)
URL_SAFE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _refused(token: Any, codec: CursorCodec = CODEC, binding: str = BINDING) -> None:
    with pytest.raises(ValidationFailed) as caught:
        codec.decode(token, binding=binding)
    assert caught.value.message == "The cursor is invalid"
    assert caught.value.details == (ErrorDetail("cursor", "The cursor is invalid"),)
    assert caught.value.__cause__ is None


def _sign(body: bytes, key: bytes = KEY, binding: str = BINDING) -> str:
    """Make a correctly signed token around any payload bytes (what a leaked key allows)."""
    text = b64url_encode(body)
    tag = hmac.new(
        key,
        b"backendkit.cursor.v1\x00" + binding.encode() + b"\x00" + text.encode(),
        hashlib.sha256,
    ).digest()
    return text + "." + b64url_encode(tag)


def test_round_trip_and_url_safe_token() -> None:
    """A token decodes to its payload and uses only URL-safe characters and one dot."""
    assert CODEC.decode(TOKEN, binding=BINDING) == {"after": [1700000000, 42], "dir": "next"}
    assert URL_SAFE.fullmatch(TOKEN)


@given(json_objects)
@settings(max_examples=100)
def test_any_json_object_round_trips(payload: dict[str, Any]) -> None:
    """Every JSON object payload comes back equal."""
    try:
        token = CODEC.encode(payload, binding=BINDING)
    except ValueError:  # too large for a cursor; encode refuses rather than truncating
        return
    assert URL_SAFE.fullmatch(token)
    assert CODEC.decode(token, binding=BINDING) == payload


def test_values_come_back_in_their_json_form() -> None:
    """Datetimes become ISO strings and tuples lists, as the docs say."""
    moment = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    token = CODEC.encode({"at": moment, "key": (1, "a")}, binding=BINDING)
    assert CODEC.decode(token, binding=BINDING) == {"at": "2024-01-02T03:04:05Z", "key": [1, "a"]}


@given(st.data())
@settings(max_examples=400)
def test_any_single_character_change_is_refused(data: st.DataObject) -> None:
    """Replacing any one character with any other is refused."""
    pos = data.draw(st.integers(0, len(TOKEN) - 1))
    alphabet = B64URL_ALPHABET + ".=+/ %\u00e9"
    char = data.draw(st.sampled_from(alphabet).filter(lambda c: c != TOKEN[pos]))
    _refused(TOKEN[:pos] + char + TOKEN[pos + 1 :])


def test_every_truncation_and_extension_is_refused() -> None:
    """Every proper prefix, every suffix-drop from the front, and appended text are refused."""
    for cut in range(len(TOKEN)):
        _refused(TOKEN[:cut])
    for cut in range(1, len(TOKEN)):
        _refused(TOKEN[cut:])
    for extra in ("A", "=", ".", ".A", "\n", " "):
        _refused(TOKEN + extra)
    assert CODEC.decode(TOKEN, binding=BINDING)


def test_non_canonical_spellings_are_refused() -> None:
    """Padding, the standard alphabet or stray tag bits make a different text: refused."""
    body, tag = TOKEN.split(".")
    _refused(body + "=." + tag)
    _refused(body + "." + tag + "=")
    last = B64URL_ALPHABET.index(tag[-1])  # 32-byte tag: 43 chars, 2 unused bits
    for low in (1, 2, 3):
        _refused(body + "." + tag[:-1] + B64URL_ALPHABET[last ^ low])
    std = TOKEN.replace("-", "+").replace("_", "/")
    if std != TOKEN:
        _refused(std)


def test_other_binding_is_refused() -> None:
    """A cursor made for one sort/filter cannot be used with another."""
    other = cursor_binding(["-createdAt", "id"], {"role": "user"}, scope="users")
    _refused(TOKEN, binding=other)
    _refused(TOKEN, binding=cursor_binding(["-createdAt", "id"], {"role": "admin"}, scope="orders"))
    assert CODEC.decode(TOKEN, binding=BINDING)


def test_foreign_key_is_refused_and_rotation_keeps_old_cursors_valid() -> None:
    """A codec with other keys refuses; [new, old] accepts old tokens and signs with new."""
    old_token = CursorCodec([OLD_KEY]).encode({"a": 1}, binding=BINDING)
    _refused(old_token)  # CODEC knows only KEY
    rotated = CursorCodec([KEY, OLD_KEY])
    assert rotated.decode(old_token, binding=BINDING) == {"a": 1}
    new_token = rotated.encode({"a": 2}, binding=BINDING)
    assert CODEC.decode(new_token, binding=BINDING) == {"a": 2}  # signed with the first key
    _refused(new_token, codec=CursorCodec([OLD_KEY]))


def test_over_long_token_is_refused_before_decoding() -> None:
    """A token over 4096 characters is refused; junk of that size too, without parsing."""
    _refused("A" * (MAX_CURSOR_LENGTH + 1))
    _refused(TOKEN + "A" * (MAX_CURSOR_LENGTH - len(TOKEN) + 1))
    assert CODEC.decode(TOKEN, binding=BINDING)


@pytest.mark.parametrize("token", ["", ".", "abc", ".abc", "abc.", "a.b.c", None, 12, b"x.y"])
def test_shapeless_tokens_are_refused(token: Any) -> None:
    """No dot, empty parts, extra dots or a non-string are all the same generic error."""
    _refused(token)
    assert CODEC.decode(TOKEN, binding=BINDING)


def test_signed_but_malformed_payloads_are_refused() -> None:
    """Even with a valid tag, a payload that is not a JSON object is refused."""
    for body in (b"[1, 2]", b"not json", b"\xff", b"[" * 40 + b"]" * 40, b'"x"'):
        _refused(_sign(body))
    assert CODEC.decode(_sign(b'{"ok": true}'), binding=BINDING) == {"ok": True}


def test_encode_refuses_payloads_it_could_not_decode() -> None:
    """Too large, too deep, not a mapping, or not JSON-able: a programming error at encode."""
    with pytest.raises(ValueError, match="too large"):
        CODEC.encode({"x": "a" * MAX_CURSOR_LENGTH}, binding=BINDING)
    nested: Any = 1
    for _ in range(20):
        nested = [nested]
    with pytest.raises(ValueError, match="too deeply"):
        CODEC.encode({"x": nested}, binding=BINDING)
    with pytest.raises(TypeError, match="mapping"):
        CODEC.encode([1, 2], binding=BINDING)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="serialize"):
        CODEC.encode({"x": object()}, binding=BINDING)
    assert CODEC.encode({"x": "a" * 100}, binding=BINDING)


@pytest.mark.parametrize(
    "keys",
    [[], (), b"k" * 32, [b"short"], [KEY, b"short"]],
    ids=["empty", "tuple", "bytes", "s1", "s2"],
)
def test_codec_needs_a_list_of_long_enough_keys(keys: Any) -> None:
    """No keys, a bare bytes value, or a key under 16 bytes is a configuration error."""
    with pytest.raises(ConfigurationError):
        CursorCodec(keys)
    assert CursorCodec([b"x" * 16])


def test_from_settings_uses_the_derived_cursor_keys() -> None:
    """from_settings signs with derive_keys("cursor")[0] and verifies every derived key."""
    old = Settings(env="test", secret_key=["old-secret-key-0123456789"])
    new = Settings(
        env="test", secret_key=["new-secret-key-0123456789", "old-secret-key-0123456789"]
    )
    token = CursorCodec.from_settings(old).encode({"a": 1}, binding=BINDING)
    assert CursorCodec.from_settings(new).decode(token, binding=BINDING) == {"a": 1}
    assert CursorCodec(old.derive_keys("cursor")).decode(token, binding=BINDING) == {"a": 1}
    _refused(token, codec=CursorCodec(old.derive_keys("csrf")))


def test_binding_is_stable_and_sensitive() -> None:
    """Key order does not matter; any change in sort, filters or scope does."""
    a = cursor_binding(["id"], {"x": 1, "y": [1, 2]})
    assert a == cursor_binding(["id"], {"y": [1, 2], "x": 1})
    assert a != cursor_binding(["-id"], {"x": 1, "y": [1, 2]})
    assert a != cursor_binding(["id"], {"x": 2, "y": [1, 2]})
    assert a != cursor_binding(["id"], {"x": 1, "y": [1, 2]}, scope="users")
    assert cursor_binding(["id"]) == cursor_binding(["id"], None)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", a)


@pytest.mark.parametrize("bad", [object(), float("nan"), {1: {2}}])
def test_binding_of_non_json_values_is_an_error(bad: Any) -> None:
    """Values without a stable JSON form cannot make a binding."""
    with pytest.raises((TypeError, ValueError)):
        cursor_binding(["id"], bad)
    assert cursor_binding(["id"], {"1": [2]})
