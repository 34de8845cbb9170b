"""Build tokens byte by byte, including every malformed shape the attack corpus needs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from backendkit.auth import JWTKey

Signer = Callable[[bytes], bytes]


def b64(data: bytes) -> str:
    """Unpadded base64url (the canonical form)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: Mapping[str, Any] | bytes | str) -> str:
    """A JSON object, raw bytes or text as one base64url segment."""
    if isinstance(value, Mapping):
        value = json.dumps(value, separators=(",", ":")).encode()
    elif isinstance(value, str):
        value = value.encode()
    return b64(value)


def hs256(secret: bytes) -> Signer:
    """Sign with HMAC-SHA256 and any bytes as the secret (no checks: attackers make none)."""
    return lambda msg: hmac.new(secret, msg, hashlib.sha256).digest()


def rs256(key: JWTKey) -> Signer:
    """Sign with RSASSA-PKCS1-v1_5 SHA-256 using the key's private half."""
    private = serialization.load_pem_private_key(key.private_pem(), password=None)
    return lambda msg: private.sign(msg, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg]


def forge(
    header: Mapping[str, Any] | bytes | str,
    payload: Mapping[str, Any] | bytes | str,
    signer: Signer | None,
) -> str:
    """A compact token; ``signer=None`` leaves the signature segment empty."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    signature = b64(signer(signing_input.encode())) if signer else ""
    return f"{signing_input}.{signature}"
