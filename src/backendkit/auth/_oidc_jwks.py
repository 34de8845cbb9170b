"""Reading a provider's JWKS: which keys are usable, and the one algorithm each is bound to.

A key's algorithm is the JWK's ``alg`` (which must be in ``algorithms``), else the one
algorithm of ``algorithms`` that fits its key type; a key whose type fits several (RSA
with both ``RS256`` and ``PS256`` allowed) and that names none is skipped and logged, since
only the token could pick, and the token never does. Private keys, symmetric keys and keys
not meant for signatures (``use``/``key_ops``) are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backendkit.auth._keys import JWTKey
from backendkit.errors import ConfigurationError
from backendkit.logging import get_logger

__all__ = ["is_provider_kid", "parse_jwks"]

_MAX_KEYS = 64
_MAX_KID = 256
_FAMILIES = {
    ("RSA", None): frozenset({"RS256", "PS256"}),
    ("EC", "P-256"): frozenset({"ES256"}),
    ("OKP", "Ed25519"): frozenset({"EdDSA"}),
    ("OKP", "Ed448"): frozenset({"EdDSA"}),
}
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_log = get_logger("backendkit.auth")


def is_provider_kid(kid: object) -> bool:
    """True for a key id a provider may use: printable ASCII, 1-256 characters.

    Wider than our own key ids (Cognito's end in ``=``); a provider's ``kid`` is only
    ever a dictionary key here, never part of a path or a query.
    """
    return isinstance(kid, str) and 0 < len(kid) <= _MAX_KID and kid.isascii() and kid.isprintable()


def _family(jwk: Mapping[str, Any]) -> frozenset[str]:
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if not isinstance(kty, str) or not isinstance(crv, str | None):
        return frozenset()
    return _FAMILIES.get((kty, None if kty == "RSA" else crv), frozenset())


def _jwk_algorithm(jwk: Mapping[str, Any], algorithms: frozenset[str]) -> str | None:
    fits = _family(jwk) & algorithms
    named = jwk.get("alg")
    if named is not None:
        return named if isinstance(named, str) and named in fits else None
    return next(iter(fits)) if len(fits) == 1 else None


def _signing_key(jwk: Any) -> bool:
    if not isinstance(jwk, dict) or not _PRIVATE_MEMBERS.isdisjoint(jwk):
        return False
    ops = jwk.get("key_ops")
    if jwk.get("use", "sig") != "sig":
        return False
    return ops is None or (isinstance(ops, list) and "verify" in ops)


def parse_jwks(document: Mapping[str, Any], algorithms: frozenset[str]) -> dict[str, JWTKey]:
    """The usable verification keys of a JWKS document, by ``kid``.

    A key without a ``kid`` is listed under ``""`` (used only for tokens without one, and
    only while it is the provider's single key). Unusable entries are skipped, and the
    reason logged.
    """
    entries = document.get("keys")
    if not isinstance(entries, list):
        return {}
    keys: dict[str, JWTKey] = {}
    for jwk in entries[:_MAX_KEYS]:
        if not _signing_key(jwk):
            continue
        kid = jwk.get("kid", "")
        if not isinstance(kid, str) or (kid and not is_provider_kid(kid)):
            continue
        algorithm = _jwk_algorithm(jwk, algorithms)
        if algorithm is None:
            _log.warning("oidc_key_skipped", kid=kid, reason="algorithm_not_decided")
            continue
        material = {name: value for name, value in jwk.items() if name != "kid"}
        try:
            keys.setdefault(kid, JWTKey.from_jwk(material, algorithm=algorithm))
        except ConfigurationError:
            _log.warning("oidc_key_skipped", kid=kid, reason="unreadable")
    return keys
