"""Test an app that accepts provider tokens, with no provider running: pinned keys."""

from backendkit.auth import JWTKey, OIDCProvider, OIDCVerifier
from backendkit.testing import TokenFactory

ISSUER = "https://login.example.com/realms/main"
AUDIENCE = "https://api.example.com"

provider_key = JWTKey.generate("RS256", kid="test-key")  # plays the provider's key
verifier = OIDCVerifier(
    OIDCProvider(ISSUER, keys=[provider_key]),  # pinned: nothing is ever fetched
    audience=AUDIENCE,
)
factory = TokenFactory()
token = factory.token({"iss": ISSUER, "aud": AUDIENCE, "sub": "1"}, key=provider_key)

claims = verifier.verify(token)  # in the app: WebKit(..., providers=[verifier])
assert (claims.iss, claims.sub) == (ISSUER, "1")
