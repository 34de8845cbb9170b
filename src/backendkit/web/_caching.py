"""Opt-in HTTP caching for GET routes: strong ETags, ``If-None-Match`` and ``Cache-Control``.

Example:
    >>> tag = etag_for(b'{"success":true}')
    >>> etag_matches(tag, tag), etag_matches('W/' + tag, tag), etag_matches("*", tag)
    (True, True, True)
    >>> cache_control(max_age=60, public=True)
    'public, max-age=60'
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["cache_control", "conditional", "etag_for", "etag_matches"]

_CACHEABLE_METHODS = frozenset({"GET", "HEAD"})


def etag_for(body: bytes) -> str:
    """Return a strong ETag for ``body`` (quoted base64url of a SHA-256 prefix).

    The tag depends only on the bytes, so every worker computes the same one.
    """
    # 18 bytes encode to 24 base64url characters with no padding.
    digest = hashlib.sha256(body).digest()[:18]
    return '"' + base64.urlsafe_b64encode(digest).decode("ascii") + '"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith(("W/", "w/")) else tag


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """True when an ``If-None-Match`` header matches ``etag``.

    Uses the weak comparison RFC 9110 prescribes for ``If-None-Match``: ``W/`` prefixes are
    ignored; ``*`` matches any current representation.
    """
    if not if_none_match:
        return False
    wanted = _opaque(etag)
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or (candidate and _opaque(candidate) == wanted):
            return True
    return False


def cache_control(
    *,
    max_age: int | None = None,
    s_maxage: int | None = None,
    public: bool = False,
    private: bool = False,
    no_cache: bool = False,
    no_store: bool = False,
    must_revalidate: bool = False,
    immutable: bool = False,
    stale_while_revalidate: int | None = None,
) -> str:
    """Build a ``Cache-Control`` value.

    Raises:
        ValueError: contradictory directives (``public`` with ``private``, a negative age).
    """
    if public and private:
        raise ValueError("a response cannot be both public and private")
    parts: list[str] = []
    for flag, name in (
        (public, "public"),
        (private, "private"),
        (no_cache, "no-cache"),
        (no_store, "no-store"),
        (must_revalidate, "must-revalidate"),
        (immutable, "immutable"),
    ):
        if flag:
            parts.append(name)
    for value, name in (
        (max_age, "max-age"),
        (s_maxage, "s-maxage"),
        (stale_while_revalidate, "stale-while-revalidate"),
    ):
        if value is not None:
            if value < 0:
                raise ValueError(f"{name} must not be negative")
            parts.append(f"{name}={int(value)}")
    return ", ".join(parts)


def conditional(
    method: str, if_none_match: str | None, status: int, body: bytes
) -> tuple[int, dict[str, str], bytes]:
    """Apply ETag validation to a finished response.

    For a successful ``GET``/``HEAD`` (status 200) the ETag of ``body`` is added; when the
    request's ``If-None-Match`` matches it the result is ``304`` with no body (and so no
    envelope). Other responses pass through unchanged.

    Returns:
        ``(status, extra_headers, body)``.
    """
    if method.upper() not in _CACHEABLE_METHODS or status != 200:
        return status, {}, body
    tag = etag_for(body)
    if etag_matches(if_none_match, tag):
        return 304, {"ETag": tag}, b""
    return status, {"ETag": tag}, body
