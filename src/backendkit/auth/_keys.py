"""Signing keys, each bound to one algorithm, and the JWS primitives that use them.

A token header names an algorithm and a key id; neither gets to choose *how* the token is
verified. Every [`JWTKey`][backendkit.auth.JWTKey] is bound at construction to exactly one
algorithm (RFC 8725 §3.1), and a token is verified only by the key its ``kid`` selects, only
if the header's ``alg`` equals that key's algorithm. An RSA public key therefore can never be
used as an HMAC secret, and an HMAC key never verifies an RSA-signed token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

from backendkit._extras import require
from backendkit.errors import ConfigurationError

require("jwt", "auth")

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.exceptions import InvalidKeyError, PyJWKError

from backendkit._b64 import b64url_encode
from backendkit.auth._algorithms import (
    HMAC_ALGORITHMS,
    HMAC_MIN_BYTES,
    RSA_ALGORITHMS,
    check_family,
    is_valid_kid,
    jwk_thumbprint,
    public_of,
    pyjwt_algorithm,
)

__all__ = ["JWTKey", "jws_sign", "jws_verify"]


def jws_sign(key: JWTKey, signing_input: bytes) -> bytes:
    """The JWS signature of ``signing_input`` by ``key``'s algorithm and private material.

    Key material never leaves this module: the compact form is built in ``_jwt``.
    """
    return pyjwt_algorithm(key.algorithm).sign(signing_input, key._signing)


def jws_verify(key: JWTKey, signing_input: bytes, signature: bytes) -> bool:
    """True when ``signature`` over ``signing_input`` verifies with ``key``."""
    try:
        return bool(pyjwt_algorithm(key.algorithm).verify(signing_input, key._verifying, signature))
    except Exception:  # pragma: no cover - defensive: pyjwt returns False for bad signatures
        return False


class JWTKey:
    """One key, bound to one algorithm, with its key id.

    Build keys with the class methods ([`hmac`][backendkit.auth.JWTKey.hmac],
    [`from_pem`][backendkit.auth.JWTKey.from_pem], [`from_jwk`][backendkit.auth.JWTKey.from_jwk],
    [`generate`][backendkit.auth.JWTKey.generate]); each one checks that the material belongs
    to the algorithm's family and is long enough, and raises
    [`ConfigurationError`][backendkit.errors.ConfigurationError] otherwise. A key built from
    public material only verifies; a private key or HMAC secret also signs.

    Attributes:
        kid: the key id written into (and looked up from) the token header.
        algorithm: the one algorithm this key signs and verifies with.

    Example:
        >>> key = JWTKey.hmac(b"0123456789abcdef0123456789abcdef", kid="2024-01")
        >>> (key.kid, key.algorithm, key.can_sign)
        ('2024-01', 'HS256', True)
    """

    __slots__ = ("_signing", "_verifying", "algorithm", "kid")

    kid: str
    algorithm: str
    _signing: Any  # private key or HMAC secret; None for a verification-only key
    _verifying: Any  # public key or HMAC secret

    def __init__(self) -> None:
        raise TypeError("build keys with JWTKey.hmac, from_pem, from_key, from_jwk or generate")

    @classmethod
    def _make(cls, kid: str, algorithm: str, signing: Any, verifying: Any) -> JWTKey:
        if not is_valid_kid(kid):
            raise ConfigurationError(
                "a key id must be 1-128 characters of A-Z a-z 0-9 . _ - (no paths or quotes)"
            )
        pyjwt_algorithm(algorithm)
        key = object.__new__(cls)
        # Immutable after construction (see __setattr__).
        object.__setattr__(key, "kid", kid)
        object.__setattr__(key, "algorithm", algorithm)
        object.__setattr__(key, "_signing", signing)
        object.__setattr__(key, "_verifying", verifying)
        return key

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("JWTKey is immutable")

    def __repr__(self) -> str:
        # Never shows key material.
        return f"JWTKey(kid={self.kid!r}, algorithm={self.algorithm!r}, can_sign={self.can_sign})"

    @property
    def can_sign(self) -> bool:
        """True when this key holds private material (or an HMAC secret)."""
        return self._signing is not None

    @property
    def is_symmetric(self) -> bool:
        """True for HMAC keys, which are secret and never published."""
        return self.algorithm in HMAC_ALGORITHMS

    @classmethod
    def hmac(
        cls, secret: bytes | str, *, algorithm: str = "HS256", kid: str | None = None
    ) -> JWTKey:
        """An HMAC key (``HS256``, ``HS384`` or ``HS512``).

        The secret must be at least as long as the hash output (32, 48 or 64 bytes) and must
        not be a PEM, SSH or JWK document: using a public key as an HMAC secret is the classic
        algorithm-confusion attack, so it is refused outright.

        Args:
            secret: the shared secret (a ``str`` is UTF-8 encoded).
            algorithm: ``HS256`` (default), ``HS384`` or ``HS512``.
            kid: the key id; by default a fingerprint derived from the secret with HMAC,
                which reveals nothing about the secret.

        Raises:
            ConfigurationError: wrong algorithm family, short secret, or key-shaped secret.
        """
        if algorithm not in HMAC_ALGORITHMS:
            raise ConfigurationError(f"{algorithm!r} is not an HMAC algorithm (HS256/384/512)")
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        minimum = HMAC_MIN_BYTES[algorithm]
        if len(raw) < minimum:
            raise ConfigurationError(f"an {algorithm} secret must be at least {minimum} bytes")
        try:
            prepared = pyjwt_algorithm(algorithm).prepare_key(raw)
        except InvalidKeyError as exc:
            raise ConfigurationError(
                "the HMAC secret looks like a public key or JWK; refusing it"
            ) from exc
        if kid is None:
            kid = b64url_encode(hmac.new(raw, b"backendkit:kid", hashlib.sha256).digest()[:12])
        return cls._make(kid, algorithm, prepared, prepared)

    @classmethod
    def from_pem(
        cls,
        pem: bytes | str,
        *,
        algorithm: str,
        kid: str | None = None,
        password: bytes | None = None,
    ) -> JWTKey:
        """An asymmetric key from PEM text: a private key signs and verifies, a public one verifies.

        Args:
            pem: PEM-encoded private key (PKCS#8 or traditional) or public key.
            algorithm: ``RS256``, ``PS256``, ``ES256`` or ``EdDSA``.
            kid: the key id; by default the RFC 7638 thumbprint of the public key.
            password: password of an encrypted private key.

        Raises:
            ConfigurationError: unreadable PEM, wrong family, or an RSA key under 2048 bits.
        """
        if algorithm in HMAC_ALGORITHMS:
            raise ConfigurationError("PEM keys are asymmetric; use JWTKey.hmac for HS* algorithms")
        pyjwt_algorithm(algorithm)
        data = pem.encode() if isinstance(pem, str) else bytes(pem)
        key: Any
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError):
            try:
                key = serialization.load_pem_public_key(data)
            except (ValueError, TypeError) as exc:
                raise ConfigurationError("could not read the PEM key") from exc
        return cls.from_key(key, algorithm=algorithm, kid=kid)

    @classmethod
    def from_key(cls, key: Any, *, algorithm: str, kid: str | None = None) -> JWTKey:
        """An asymmetric key from a ``cryptography`` key object (private or public).

        Raises:
            ConfigurationError: the key does not belong to the algorithm's family.
        """
        if algorithm in HMAC_ALGORITHMS:
            raise ConfigurationError("use JWTKey.hmac for HS* algorithms")
        alg = pyjwt_algorithm(algorithm)
        check_family(algorithm, key)
        public = public_of(key)
        if kid is None:
            kid = jwk_thumbprint(alg.to_jwk(public, as_dict=True))
        signing = key if public is not key else None
        return cls._make(kid, algorithm, signing, public)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any] | str, *, algorithm: str | None = None) -> JWTKey:
        """A key from a JWK (RFC 7517), e.g. one entry of another issuer's JWKS.

        The algorithm comes from ``algorithm`` or else the JWK's ``alg`` member; one of them
        is required (inferring it from the key type would let the document choose). The key
        id is the JWK's ``kid``, or the thumbprint.

        Raises:
            ConfigurationError: unreadable JWK, no algorithm, or a mismatched family.
        """
        data = json.loads(jwk) if isinstance(jwk, str) else dict(jwk)
        if not isinstance(data, dict):
            raise ConfigurationError("a JWK must be a JSON object")
        name = algorithm or data.get("alg")
        if not isinstance(name, str):
            raise ConfigurationError("a JWK needs an algorithm (its 'alg' member or algorithm=)")
        if data.get("alg") not in (None, name):
            raise ConfigurationError("the JWK's 'alg' member disagrees with algorithm=")
        alg = pyjwt_algorithm(name)
        kid = data.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise ConfigurationError("a JWK 'kid' must be a string")
        try:
            material = alg.from_jwk(data)
        except (InvalidKeyError, PyJWKError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"could not read the JWK as a {name} key") from exc
        if name in HMAC_ALGORITHMS:
            return cls.hmac(material, algorithm=name, kid=kid)
        return cls.from_key(material, algorithm=name, kid=kid)

    @classmethod
    def generate(cls, algorithm: str = "HS256", *, kid: str | None = None) -> JWTKey:
        """A fresh random key: 64-byte HMAC secret, RSA-2048, P-256 or Ed25519.

        Handy for tests and for a first deployment; persist the private key
        (see [`private_pem`][backendkit.auth.JWTKey.private_pem]) or every restart
        invalidates every token.
        """
        if algorithm in HMAC_ALGORITHMS:
            return cls.hmac(secrets.token_bytes(64), algorithm=algorithm, kid=kid)
        pyjwt_algorithm(algorithm)
        key: Any
        if algorithm in RSA_ALGORITHMS:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif algorithm == "ES256":
            key = ec.generate_private_key(ec.SECP256R1())
        else:
            key = ed25519.Ed25519PrivateKey.generate()
        return cls.from_key(key, algorithm=algorithm, kid=kid)

    def public_jwk(self) -> dict[str, Any] | None:
        """The public JWK (with ``kid``, ``alg`` and ``use``), or ``None`` for HMAC keys."""
        if self.is_symmetric:
            return None
        jwk: dict[str, Any] = pyjwt_algorithm(self.algorithm).to_jwk(self._verifying, as_dict=True)
        jwk.update({"kid": self.kid, "alg": self.algorithm, "use": "sig"})
        return jwk

    def public_pem(self) -> bytes:
        """The public key as PEM (SubjectPublicKeyInfo).

        Raises:
            ConfigurationError: this is an HMAC key, which has no public half.
        """
        if self.is_symmetric:
            raise ConfigurationError("an HMAC key has no public half")
        pem: bytes = self._verifying.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem

    def private_pem(self, password: bytes | None = None) -> bytes:
        """The private key as PKCS#8 PEM, encrypted when ``password`` is given.

        Raises:
            ConfigurationError: an HMAC key, or a verification-only key.
        """
        if self.is_symmetric or self._signing is None:
            raise ConfigurationError("only an asymmetric private key can be exported as PEM")
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        pem: bytes = self._signing.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        return pem
