from backendkit.auth import JWTKey, TokenService
from backendkit.errors import InvalidToken

old = JWTKey.generate("ES256", kid="2025-01")
new = JWTKey.generate("ES256", kid="2025-07")

# Step 1: the old key signs; the new one is only published, so verifiers learn it first.
step1 = TokenService([old, new], access_ttl=900)
token_from_old = step1.issue_access("user-42")
assert {k["kid"] for k in step1.jwks()["keys"]} == {"2025-01", "2025-07"}

# Step 2: the new key signs; the old one still verifies until its tokens have expired.
step2 = TokenService([new, old], access_ttl=900)
assert step2.verify_access(token_from_old).sub == "user-42"
assert step2.issue_access("user-42") != token_from_old

# Step 3 (after the longest token lifetime): the old key leaves the ring.
step3 = TokenService([new])
try:
    step3.verify_access(token_from_old)
    raise AssertionError("the old key is gone")
except InvalidToken:
    pass
