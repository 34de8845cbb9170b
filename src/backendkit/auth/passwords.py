"""Password hashing with bcrypt (the names also exported by `backendkit.auth`).

See the passwords guide; everything here is re-exported from
[`backendkit.auth`][backendkit.auth].
"""

from __future__ import annotations

from backendkit.auth import (
    BCRYPT_MAX_BYTES,
    PREHASH_PREFIX,
    PasswordHasher,
    VerifyResult,
    calibrate,
)

__all__ = ["BCRYPT_MAX_BYTES", "PREHASH_PREFIX", "PasswordHasher", "VerifyResult", "calibrate"]
