"""The keys of the limits the three apps compute themselves, the same in each."""

from __future__ import annotations

import hashlib

__all__ = ["account_key", "password_change_key"]


def account_key(address: str, email: str) -> str:
    """Rate-limit key of one (client address, email) pair; the email stays out of Redis."""
    digest = hashlib.sha256(f"{address}\n{email}".encode()).hexdigest()[:32]
    return f"account:{digest}"


def password_change_key(user_id: str) -> str:
    """Rate-limit key of the password changes of one account (whoever asks)."""
    return f"password:{user_id}"
