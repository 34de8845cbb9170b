"""Redaction of secrets in log events (the implementation behind ``backendkit.logging``).

A value is masked when its key *looks* sensitive: the key, lower-cased with everything
but letters and digits removed, contains one of :data:`SENSITIVE_KEY_PARTS`. So
``password``, ``access_token``, ``refreshToken``, ``Set-Cookie``, ``X-API-Key`` and
``client_secret`` are all masked, at any depth of dicts, lists, tuples and sets, and in
``(name, value)`` pairs such as ASGI/WSGI header lists. Credentials embedded in URLs
(``redis://:pw@host``) are masked in every string. Masking is deliberately greedy: a
harmless ``token_type`` is masked too, because a missed secret costs far more than a
hidden harmless value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "SENSITIVE_KEY_PARTS", "is_sensitive_key", "redact", "redact_value"]

#: What a masked value is replaced with.
REDACTED = "[REDACTED]"

#: Substrings of a normalized key (lower-case, letters and digits only) that mark it secret.
SENSITIVE_KEY_PARTS: tuple[str, ...] = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "authorization",
    "cookie",
    "apikey",
    "privatekey",
    "credential",
    "sessionid",
    "signature",
)

# Deeper than this, values are replaced wholesale: bounds the work on huge or cyclic input.
_MAX_DEPTH = 32
_NON_ALNUM = re.compile(r"[^a-z0-9]")
# scheme://user:password@host -> scheme://user:[REDACTED]@host
# The password part stops only at whitespace or "@": an unencoded "/" in a password must
# not end the match early and leak the rest (over-masking a port or path is acceptable).
_URL_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)[^\s@]+@")


def is_sensitive_key(key: object) -> bool:
    """Return whether a key (str or bytes) names a secret.

    Example:
        >>> is_sensitive_key("refreshToken"), is_sensitive_key("Set-Cookie")
        (True, True)
        >>> is_sensitive_key("user_id")
        False
    """
    if isinstance(key, bytes | bytearray):
        key = bytes(key).decode("latin-1")
    elif not isinstance(key, str):
        return False
    verdict = _verdicts.get(key)
    if verdict is not None:
        return verdict
    verdict = _sensitive(key)
    if len(key) <= _MAX_CACHED_KEY and len(_verdicts) < _MAX_CACHED_KEYS:
        _verdicts[key] = verdict
    return verdict


def _sensitive(key: str) -> bool:
    normalized = _NON_ALNUM.sub("", key.lower())
    return any(part in normalized for part in SENSITIVE_KEY_PARTS)


# Every log event runs each of its keys through the check, and the keys of a service are a
# small, fixed set: caching the answer removes most of the redaction cost per event. A
# plain dict (a lookup, no call) rather than functools.lru_cache: this runs ~10 times per
# log line. The bounds on key length and entries keep hostile keys (header names) from
# growing it; once full, new keys are checked every time, which is correct, only slower.
_MAX_CACHED_KEY = 64
_MAX_CACHED_KEYS = 4096
_verdicts: dict[str, bool] = {}


def _redact_string(value: str) -> str:
    if "://" not in value:
        return value
    return _URL_CREDENTIALS.sub(lambda m: m.group("head") + REDACTED + "@", value)


def redact_value(value: Any, _depth: int = 0) -> Any:
    """Return ``value`` with every secret inside it masked (the input is not modified)."""
    if _depth > _MAX_DEPTH:
        return REDACTED
    if isinstance(value, str):
        return _redact_string(value)
    if isinstance(value, Mapping):
        return {
            k: REDACTED if is_sensitive_key(k) else redact_value(v, _depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        # A (name, value) pair such as a header: mask the value when the name is secret.
        if len(value) == 2 and isinstance(value[0], str | bytes) and is_sensitive_key(value[0]):
            items = [value[0], REDACTED]
        else:
            items = [redact_value(item, _depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, set | frozenset):
        return [redact_value(item, _depth + 1) for item in value]
    return value


def redact(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``mapping`` with secret values masked at any depth.

    Example:
        >>> redact({"user": "ann", "headers": {"Authorization": "Bearer abc"}})
        {'user': 'ann', 'headers': {'Authorization': '[REDACTED]'}}
    """
    result: dict[str, Any] = redact_value(dict(mapping))
    return result


# Values that can hold no secret of their own: most fields of most events are these.
_PLAIN_TYPES = frozenset({int, float, bool, type(None)})


def redact_processor(_logger: Any, _method: str, event_dict: Any) -> Any:
    """structlog processor: mask secrets anywhere in the event dict.

    Works on the event dict in place (structlog builds a fresh one per event); values
    that are containers are replaced by redacted copies, never modified.
    """
    for key, value in event_dict.items():
        # Assigning to an existing key does not change the dict's size, so it is safe
        # while iterating; this loop runs for every log line, hence no copy up front.
        verdict = _verdicts.get(key)
        if verdict is None:
            verdict = is_sensitive_key(key)
        if verdict:
            event_dict[key] = REDACTED
        elif type(value) is str:
            if "://" in value:
                event_dict[key] = _redact_string(value)
        elif type(value) not in _PLAIN_TYPES:
            event_dict[key] = redact_value(value, 1)
    return event_dict
