"""The compact JWS form: strict parsing before any cryptography, and signing.

Parsing checks, in order and before a single byte is handed to a JSON parser or a
signature routine: the size cap, ASCII only, exactly three segments, each segment canonical
unpadded base64url (decoders accept ``+``/``/``, padding and non-zero unused bits, so a
changed token could otherwise still verify), a JSON-object header without duplicate
members, an ``alg`` from the service's allowlist, a well-formed ``kid``, and none of the
header members that would let a token carry or point at its own key (``jku``, ``jwk``,
``x5u``, ``x5c``) or change how it is processed (``crit``, ``b64``, ``zip``).

Every refusal raises ``Rejected(reason)``; the reason is a short fixed code for the logs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backendkit._b64 import b64url_decode_canonical, b64url_encode
from backendkit.auth._algorithms import is_valid_kid
from backendkit.auth._keys import JWTKey, jws_sign, jws_verify

__all__ = [
    "FORBIDDEN_HEADERS",
    "HeaderCheck",
    "ParsedToken",
    "Rejected",
    "check_header",
    "check_header_basics",
    "decode_payload",
    "parse_compact",
    "sign_compact",
    "verify_signature",
]

# Header members that embed or point at a key, or change processing rules we do not
# implement (RFC 7515 §4.1.11 "crit", RFC 7797 "b64", JWE "zip"/"enc").
FORBIDDEN_HEADERS = frozenset({"crit", "jku", "jwk", "x5u", "x5c", "b64", "zip", "enc"})
_ACCEPTED_TYP = frozenset({"jwt", "application/jwt"})


class Rejected(Exception):
    """A token was refused; ``reason`` is a fixed code for the security log.

    Internal: ``TokenService`` logs the reason and raises ``InvalidToken`` in its place.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A compact JWS that passed the checks before any cryptography."""

    header: dict[str, Any]
    signing_input: bytes
    payload: bytes
    signature: bytes


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers that disagree on which duplicate wins read two different tokens.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _loads_object(data: bytes, reason: str) -> dict[str, Any]:
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        raise Rejected(reason) from None
    if not isinstance(value, dict):
        raise Rejected(reason)
    return value


#: Checks a decoded header against an algorithm allowlist; raises ``Rejected``.
HeaderCheck = Callable[[dict[str, Any], frozenset[str]], None]


def parse_compact(
    token: object,
    *,
    max_bytes: int,
    algorithms: frozenset[str],
    header_check: HeaderCheck | None = None,
) -> ParsedToken:
    """Split and check a compact JWS; the payload is returned still as bytes.

    ``header_check`` replaces ``check_header`` (a provider's tokens carry other ``typ``
    values and key ids); the segment and encoding checks are the same for every token.
    """
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise Rejected("malformed") from None
    if not isinstance(token, str):
        raise Rejected("malformed")
    # The cap comes first: nothing about an oversized token is worth reading.
    if len(token) > max_bytes:
        raise Rejected("too_large")
    if not token.isascii():
        raise Rejected("malformed")
    parts = token.split(".")
    if len(parts) != 3:
        raise Rejected("malformed")
    head_text, body_text, sig_text = parts
    if not head_text or not body_text or not sig_text:
        # An empty signature is "alg: none" in disguise.
        raise Rejected("malformed")
    try:
        head = b64url_decode_canonical(head_text)
        payload = b64url_decode_canonical(body_text)
        signature = b64url_decode_canonical(sig_text)
    except ValueError:
        raise Rejected("non_canonical") from None
    header = _loads_object(head, "bad_header")
    (check_header if header_check is None else header_check)(header, algorithms)
    signing_input = token[: len(head_text) + 1 + len(body_text)].encode("ascii")
    return ParsedToken(header, signing_input, payload, signature)


def check_header_basics(header: dict[str, Any], algorithms: frozenset[str]) -> None:
    """Refuse forbidden members and an ``alg`` outside the allowlist (every header check
    starts here)."""
    if not FORBIDDEN_HEADERS.isdisjoint(header):
        raise Rejected("forbidden_header")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise Rejected("alg_not_allowed")


def check_header(header: dict[str, Any], algorithms: frozenset[str]) -> None:
    """Refuse forbidden members, an ``alg`` outside the allowlist and a malformed ``kid``."""
    check_header_basics(header, algorithms)
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYP):
        raise Rejected("bad_header")
    kid = header.get("kid")
    if kid is not None and not is_valid_kid(kid):
        raise Rejected("malformed_kid")


def verify_signature(parsed: ParsedToken, key: JWTKey) -> None:
    """Check the signature with ``key``, whose algorithm must equal the header's ``alg``."""
    if parsed.header["alg"] != key.algorithm:
        # The header may not pick a different algorithm for this key (HS/RS confusion).
        raise Rejected("alg_key_mismatch")
    if not jws_verify(key, parsed.signing_input, parsed.signature):
        raise Rejected("bad_signature")


def sign_compact(
    payload: dict[str, Any], key: JWTKey, *, header: dict[str, Any] | None = None
) -> str:
    """Serialize and sign ``payload`` with ``key`` (header: ``alg``, ``kid``, ``typ``).

    ``header`` replaces the default header (the token factory uses it to build bad tokens).
    """
    if header is None:
        header = {"alg": key.algorithm, "kid": key.kid, "typ": "JWT"}
    head = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    body = b64url_encode(json.dumps(payload, separators=(",", ":"), allow_nan=False).encode())
    signing_input = f"{head}.{body}"
    signature = jws_sign(key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def decode_payload(parsed: ParsedToken) -> dict[str, Any]:
    """The payload as a JSON object (called only after the signature verified)."""
    return _loads_object(parsed.payload, "bad_payload")
