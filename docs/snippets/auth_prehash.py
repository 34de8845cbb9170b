import os

from backendkit.auth import PREHASH_PREFIX, PasswordHasher

# Opt in to any-length passwords: HMAC-SHA256 first (with a pepper kept outside the
# database), then bcrypt. Existing plain bcrypt hashes keep verifying and are upgraded
# by verify_and_update on the next login.
hasher = PasswordHasher(prehash=True, pepper=os.environ.get("PASSWORD_PEPPER", "p" * 32))


def upgrade_on_login(hasher: PasswordHasher, password: str, stored: str) -> str:
    valid, new_hash = hasher.verify_and_update(password, stored)
    assert valid
    return new_hash or stored


def is_prehashed(stored: str) -> bool:
    return stored.startswith(PREHASH_PREFIX)
