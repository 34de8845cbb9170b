import os

from backendkit.auth import PREHASH_PREFIX, PasswordHasher

# Opt in to any-length passwords: HMAC-SHA256 first (with a pepper kept outside the
# database), then bcrypt. Existing plain bcrypt hashes keep verifying and are upgraded
# by verify_and_update on the next login.
pepper = os.environ.get("PASSWORD_PEPPER", "p" * 32)
hasher = PasswordHasher(prehash=True, pepper=pepper)

# Only for plain bcrypt hashes imported from a system whose old bcrypt silently hashed the
# first 72 bytes of longer passwords: match those bytes, as that system did, and replace
# each such hash at its next login. Without this option a longer password never matches.
importing_hasher = PasswordHasher(prehash=True, pepper=pepper, legacy_truncation=True)


def upgrade_on_login(hasher: PasswordHasher, password: str, stored: str) -> str | None:
    """The hash to keep after a login; None when the password is wrong."""
    valid, new_hash = hasher.verify_and_update(password, stored)
    if not valid:
        return None
    return new_hash or stored


def is_prehashed(stored: str) -> bool:
    return stored.startswith(PREHASH_PREFIX)
