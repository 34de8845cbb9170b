from backendkit.auth import JWTKey, KeyRing, TokenService

# Asymmetric keys: sign with the private key here, publish the public keys as a JWKS.
signing = JWTKey.generate("EdDSA", kid="2025-06")
pem = signing.private_pem()  # store it as a secret; load it at start-up:
signing = JWTKey.from_pem(pem, algorithm="EdDSA", kid="2025-06")

tokens = TokenService(KeyRing([signing]))
jwks = tokens.jwks()  # serve at /.well-known/jwks.json
assert jwks["keys"][0]["kid"] == "2025-06"
assert "d" not in jwks["keys"][0]  # never the private part

# Another service verifies with the public key only (from the JWKS or a public PEM).
verifier_key = JWTKey.from_jwk(jwks["keys"][0])
assert not verifier_key.can_sign
verifier = TokenService([JWTKey.generate("HS256"), verifier_key], algorithms=["HS256", "EdDSA"])
token = tokens.issue_access("user-42")
assert verifier.verify_access(token).sub == "user-42"

# HMAC keys are bound to HS256/384/512 and must be at least as long as the hash.
shared = JWTKey.hmac(b"a-32-byte-or-longer-random-secret!", kid="hs-1")
assert shared.algorithm == "HS256"
assert shared.public_jwk() is None  # HMAC keys are never published
