from backendkit.auth import JWTKey, TokenService
from backendkit.errors import InvalidToken
from backendkit.testing import FakeClock

clock = FakeClock()  # in production: leave clock out (the system clock)
tokens = TokenService(
    JWTKey.generate("ES256"),  # in production: JWTKey.from_pem(<your PEM>, algorithm="ES256")
    issuer="https://auth.example.com",
    audience="api.example.com",
    access_ttl=15 * 60,
    refresh_ttl=14 * 24 * 3600,
    clock=clock,
)

# Login: a new session with an access token and a refresh token.
pair = tokens.issue_pair("user-42", claims={"roles": ["admin"]})
body = pair.to_dict()  # {"accessToken": ..., "refreshToken": ..., "tokenType": "Bearer", ...}

# Every request: verify the bearer token (stateless by default).
claims = tokens.verify_access(pair.access_token)
assert (claims.sub, claims["roles"]) == ("user-42", ["admin"])

# The access token expires; the client refreshes and gets a new pair.
clock.advance(15 * 60)
try:
    tokens.verify_access(pair.access_token)
    raise AssertionError("expired")
except InvalidToken as exc:  # 401 INVALID_TOKEN, rendered by your error handler
    error = exc
assert (error.status, error.code) == (401, "INVALID_TOKEN")
pair = tokens.refresh(pair.refresh_token)
assert tokens.verify_access(pair.access_token).sub == "user-42"

# Logout: the session ends and its refresh token stops working.
tokens.revoke(pair.refresh_token)
try:
    tokens.refresh(pair.refresh_token)
    raise AssertionError("a revoked session cannot refresh")
except InvalidToken:
    pass
