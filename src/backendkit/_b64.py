"""Unpadded, canonical base64url (RFC 4648 §5), shared by cursors and JWT segments.

Standard decoders are lenient: they accept ``+`` and ``/``, padding, whitespace, and they
ignore the unused low bits of the last character. Each leniency lets several different texts
decode to the same bytes, so a token whose text was changed could still verify. The decoder
here accepts exactly one text per byte string: the one :func:`b64url_encode` produces.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = [
    "b64url_decode_canonical",
    "b64url_encode",
]

# ASCII-only class: ``re`` matches these ranges literally, never Unicode digits or letters.
_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    """Encode ``data`` as base64url without ``=`` padding.

    Example:
        >>> b64url_encode(b"\\xfb\\xff")
        '-_8'
    """
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode_canonical(text: str) -> bytes:
    """Decode unpadded base64url, accepting only the canonical form.

    The text must use only ``A-Z a-z 0-9 - _``, carry no padding, have a length that is not
    1 modulo 4, and encode back to exactly itself (which rejects non-zero unused bits in the
    last character).

    Raises:
        ValueError: the text is not the canonical encoding of any byte string.

    Example:
        >>> b64url_decode_canonical("-_8")
        b'\\xfb\\xff'
        >>> b64url_decode_canonical("-_9")
        Traceback (most recent call last):
        ...
        ValueError: not canonical base64url
    """
    if not isinstance(text, str) or len(text) % 4 == 1 or _ALPHABET.fullmatch(text) is None:
        raise ValueError("not canonical base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - the checks above exclude it
        raise ValueError("not canonical base64url") from None
    if b64url_encode(data) != text:
        raise ValueError("not canonical base64url")
    return data
