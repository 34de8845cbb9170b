"""Accept an identity provider's access tokens beside the app's own (FastAPI here)."""

from fastapi import FastAPI

from backendkit.adapters.fastapi import CurrentUser, install
from backendkit.auth import ClaimsMapping, OIDCProvider, OIDCVerifier
from backendkit.settings import Settings
from backendkit.web import LinkedUser, Principal, WebKit

keycloak = OIDCVerifier(
    # Keys come from the issuer's discovery document, cached for 10 minutes.
    OIDCProvider("https://login.example.com/realms/main", algorithms=["RS256"]),
    audience="https://api.example.com",  # what the provider writes in "aud" for this API
    # Only these provider roles and scopes mean something here; the rest grant nothing.
    mapping=ClaimsMapping(
        roles={"api-admin": "admin"},
        role_claims="realm_access.roles",
        scopes=["users:read"],
    ),
)

# The app's own table linking (issuer, subject) pairs to local user ids.
LINKS: dict[tuple[str, str], str] = {}
USERS: dict[str, dict[str, str]] = {"1": {"id": "1", "role": "admin"}}


def load_user(principal: Principal) -> LinkedUser | dict[str, str] | None:
    """The kit's user_loader: a provider's user is linked by (issuer, subject), never by
    its bare subject; one seen for the first time gets a local user with role "user"."""
    if principal.method != "provider":
        return USERS.get(principal.user_id)
    key = (principal.issuer or "", principal.subject or "")
    if key not in LINKS:
        local_id = str(len(USERS) + 1)
        USERS[local_id] = {"id": local_id, "role": "user"}
        LINKS[key] = local_id
    local_id = LINKS[key]
    return LinkedUser(local_id, USERS[local_id])


kit = WebKit.from_settings(
    Settings(env="development"),  # Settings.from_env() in a real app
    providers=[keycloak],
    user_loader=load_user,
)
app = FastAPI()
install(app, kit)


@app.get("/api/v1/users/me")
async def me(user: CurrentUser) -> dict[str, str]:
    return {"id": user.user_id, "via": user.method, "issuer": user.issuer or "this app"}
