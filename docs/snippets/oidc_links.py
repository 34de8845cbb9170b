"""The kit of the per-framework samples: one provider beside the app's own tokens, and a
user_loader that links each provider user to a local one by (issuer, subject)."""

from backendkit.auth import OIDCProvider, OIDCVerifier
from backendkit.settings import Settings
from backendkit.web import LinkedUser, Principal, WebKit

# The app's tables: its users, and the links from (issuer, subject) to a local user id
# (in a database: a table with a unique (issuer, subject) pair).
USERS: dict[str, dict[str, str]] = {"1": {"id": "1", "role": "admin"}}
LINKS: dict[tuple[str, str], str] = {}


def load_user(principal: Principal) -> LinkedUser | dict[str, str] | None:
    """The app's own users by id; a provider's user by its link, made on first sight with
    the least role (the provider's roles grant nothing: none is mapped)."""
    if principal.method != "provider":
        return USERS.get(principal.user_id)
    key = (principal.issuer or "", principal.subject or "")
    if key not in LINKS:
        LINKS[key] = str(len(USERS) + 1)
        USERS[LINKS[key]] = {"id": LINKS[key], "role": "user"}
    return LinkedUser(LINKS[key], USERS[LINKS[key]])


def build_kit(settings: Settings, provider: OIDCProvider) -> WebKit:
    """``provider``: ``OIDCProvider(issuer)`` in production (keys from its discovery
    document), pinned keys in tests."""
    verifier = OIDCVerifier(provider, audience="https://api.example.com")
    return WebKit.from_settings(settings, providers=[verifier], user_loader=load_user)
