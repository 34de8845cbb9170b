"""Canonical unpadded base64url: one text per byte string, everything else refused."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import B64URL_ALPHABET, b64url_texts

from backendkit._b64 import b64url_decode_canonical, b64url_encode

RFC4648_VECTORS = [
    (b"", ""),
    (b"f", "Zg"),
    (b"fo", "Zm8"),
    (b"foo", "Zm9v"),
    (b"foob", "Zm9vYg"),
    (b"fooba", "Zm9vYmE"),
    (b"foobar", "Zm9vYmFy"),
    (b"\xfb\xff", "-_8"),
]


@pytest.mark.parametrize(("data", "text"), RFC4648_VECTORS)
def test_encode_matches_rfc4648_vectors_without_padding(data: bytes, text: str) -> None:
    """Encoding gives the RFC 4648 test vectors, url-safe alphabet, no padding."""
    assert b64url_encode(data) == text
    assert b64url_decode_canonical(text) == data


@pytest.mark.parametrize(
    ("bad", "valid_twin"),
    [
        ("Zg==", "Zg"),  # padding
        ("Zm9v=", "Zm9v"),
        ("+_8", "-_8"),  # standard alphabet
        ("-/8", "-_8"),
        ("Zm9 v", "Zm9v"),  # whitespace
        ("Zm9v\n", "Zm9v"),  # trailing newline ($ would match before it)
        (" Zm9v", "Zm9v"),
        ("Zm9vY", "Zm9vYg"),  # length % 4 == 1
        ("Z", "Zg"),
        ("Zh", "Zg"),  # non-zero unused bits: decodes like "Zg" with a lenient decoder
        ("Zm9", "Zm8"),
        ("Zm9vYh", "Zm9vYg"),
        ("Zm9vYmF", "Zm9vYmE"),
        ("Zm9v\u0661", "Zm9vYQ"),  # ARABIC-INDIC DIGIT ONE is a Unicode digit, not base64
        ("Zm9v\uff21", "Zm9vYQ"),  # FULLWIDTH LATIN A
        ("Zm.9v", "Zm9v"),
    ],
)
def test_rejects_non_canonical_text_and_accepts_its_valid_twin(bad: str, valid_twin: str) -> None:
    """Padding, other alphabets, whitespace, bad lengths and stray bits are refused."""
    with pytest.raises(ValueError, match="not canonical"):
        b64url_decode_canonical(bad)
    assert b64url_encode(b64url_decode_canonical(valid_twin)) == valid_twin


def test_rejects_bytes_input() -> None:
    """Only ``str`` is decoded; bytes are refused with ValueError, not a TypeError."""
    with pytest.raises(ValueError, match="not canonical"):
        b64url_decode_canonical(b"Zm9v")  # type: ignore[arg-type]
    assert b64url_decode_canonical("Zm9v") == b"foo"


def test_lenient_stdlib_decoder_would_accept_what_we_refuse() -> None:
    """The stdlib maps "Zh" and "Zg" to the same byte: the reason for the canonical check."""
    assert base64.urlsafe_b64decode("Zh==") == base64.urlsafe_b64decode("Zg==") == b"f"
    with pytest.raises(ValueError, match="not canonical"):
        b64url_decode_canonical("Zh")


@given(st.binary(max_size=200))
def test_round_trip(data: bytes) -> None:
    """Every byte string survives encode then canonical decode."""
    text = b64url_encode(data)
    assert "=" not in text
    assert b64url_decode_canonical(text) == data


@given(st.text(alphabet=B64URL_ALPHABET + "=+/ \n.\u0661", max_size=40))
def test_accepts_only_texts_that_encode_back_to_themselves(text: str) -> None:
    """For any text: decoding succeeds exactly when the text is the canonical encoding."""
    try:
        data = b64url_decode_canonical(text)
    except ValueError:
        # Refused: it must not be canonical for any byte string.
        stripped = text.rstrip("=")
        if stripped == text and all(c in B64URL_ALPHABET for c in text) and len(text) % 4 != 1:
            padded = text + "=" * (-len(text) % 4)
            assert b64url_encode(base64.urlsafe_b64decode(padded)) != text
    else:
        assert b64url_encode(data) == text


@given(b64url_texts, st.data())
def test_any_single_character_change_gives_different_bytes_or_an_error(
    text: str, data: st.DataObject
) -> None:
    """Changing one character never decodes to the same bytes (no silent aliasing)."""
    if not text:
        return
    original = b64url_decode_canonical(text)
    pos = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.sampled_from(B64URL_ALPHABET).filter(lambda c: c != text[pos]))
    changed = text[:pos] + replacement + text[pos + 1 :]
    try:
        decoded = b64url_decode_canonical(changed)
    except ValueError:
        return
    assert decoded != original


@given(st.binary(min_size=1, max_size=64))
def test_every_unused_bit_variant_of_the_last_character_is_refused(data: bytes) -> None:
    """All texts differing from the canonical one only in the unused low bits are refused."""
    text = b64url_encode(data)
    unused_bits = {0: 0, 2: 4, 3: 2}[len(text) % 4]
    last = B64URL_ALPHABET.index(text[-1])
    for low in range(1, 2**unused_bits):
        variant = text[:-1] + B64URL_ALPHABET[last | low]
        with pytest.raises(ValueError, match="not canonical"):
            b64url_decode_canonical(variant)
