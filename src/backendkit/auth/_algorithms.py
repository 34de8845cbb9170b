"""The JWS algorithms a key may be bound to, their key families, and key ids.

Every check that decides whether key material fits an algorithm lives here, next to the
allowlist itself: the HMAC minimum lengths (RFC 7518 §3.2), the RSA minimum size, the
curve or key type each asymmetric algorithm requires, and the shape of an acceptable
``kid``. [`JWTKey`][backendkit.auth.JWTKey] applies them when a key is built.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from backendkit._extras import require
from backendkit.errors import ConfigurationError

require("jwt", "auth")

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import Algorithm, get_default_algorithms

from backendkit._b64 import b64url_encode

__all__ = [
    "HMAC_ALGORITHMS",
    "HMAC_MIN_BYTES",
    "RSA_ALGORITHMS",
    "SUPPORTED_ALGORITHMS",
    "check_family",
    "is_valid_kid",
    "jwk_thumbprint",
    "public_of",
    "pyjwt_algorithm",
]

#: The algorithms a key may be bound to. ``none`` is never among them.
SUPPORTED_ALGORITHMS: tuple[str, ...] = (
    "EdDSA",
    "ES256",
    "HS256",
    "HS384",
    "HS512",
    "PS256",
    "RS256",
)

#: The HMAC algorithms: their keys are shared secrets, never published.
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
#: The RSA algorithms (PKCS#1 v1.5 and PSS).
RSA_ALGORITHMS = frozenset({"RS256", "PS256"})
#: RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_RSA_MIN_BITS = 2048
# Key ids we accept: short, URL-safe, and free of path or query syntax ("/", "'", ";").
_KID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")

_ALGORITHMS: dict[str, Algorithm] = {
    name: alg for name, alg in get_default_algorithms().items() if name in SUPPORTED_ALGORITHMS
}


def is_valid_kid(kid: object) -> bool:
    """True for a key id we accept (from a caller or from a token header)."""
    return isinstance(kid, str) and _KID_PATTERN.fullmatch(kid) is not None


def pyjwt_algorithm(name: str) -> Algorithm:
    """The pyjwt implementation of a supported algorithm.

    Raises:
        ConfigurationError: ``name`` is not in ``SUPPORTED_ALGORITHMS``.
    """
    if name not in _ALGORITHMS:
        raise ConfigurationError(
            f"unsupported JWT algorithm {name!r}; choose one of {', '.join(SUPPORTED_ALGORITHMS)}"
        )
    return _ALGORITHMS[name]


def check_family(algorithm: str, key: Any) -> None:
    """Refuse a key object that does not belong to the algorithm's family."""
    if algorithm in RSA_ALGORITHMS:
        ok = isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey)
        if ok and key.key_size < _RSA_MIN_BITS:
            raise ConfigurationError(f"RSA keys must have at least {_RSA_MIN_BITS} bits")
    elif algorithm == "ES256":
        ok = isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and (
            isinstance(key.curve, ec.SECP256R1)
        )
    else:  # EdDSA
        ok = isinstance(
            key,
            ed25519.Ed25519PrivateKey
            | ed25519.Ed25519PublicKey
            | ed448.Ed448PrivateKey
            | ed448.Ed448PublicKey,
        )
    if not ok:
        raise ConfigurationError(f"the key does not belong to the {algorithm} family")


def public_of(key: Any) -> Any:
    """The public half of a ``cryptography`` private key; a public key as it is."""
    return key.public_key() if hasattr(key, "public_key") else key


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint: SHA-256 of the required members in lexical order."""
    members = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
    required = members[str(jwk["kty"])]
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())
