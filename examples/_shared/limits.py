"""The key of the per-account login limit, the same in the three apps."""

from __future__ import annotations

import hashlib

__all__ = ["account_key"]


def account_key(address: str, email: str) -> str:
    """Rate-limit key of one (client address, email) pair; the email stays out of Redis."""
    digest = hashlib.sha256(f"{address}\n{email}".encode()).hexdigest()[:32]
    return f"account:{digest}"
