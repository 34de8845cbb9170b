from backendkit.auth import JWTKey, TokenService
from backendkit.errors import InvalidToken
from backendkit.testing import FakeClock, TestingPasswordHasher, TokenFactory

# In your test suite: a fake clock, a token factory for your app's service...
clock = FakeClock()
service = TokenService(JWTKey.generate("HS256"), issuer="https://auth.test", clock=clock)
factory = TokenFactory(service)

headers = factory.auth_header("user-42", claims={"roles": ["admin"]})
assert headers["Authorization"].startswith("Bearer ")

# ...tokens your app must refuse...
for bad in (
    factory.expired_access_token(),
    factory.token({"iss": "https://evil.test"}),
    factory.token({"jti": None}),
    factory.token(header={"kid": "unknown"}),
):
    try:
        service.verify_access(bad)
        raise AssertionError("should be refused")
    except InvalidToken:
        pass

# ...and a password hasher at bcrypt cost 4 (refused outside test/development).
hasher = TestingPasswordHasher(allow=True)  # or: BACKENDKIT_ENV=test
assert hasher.verify("pw", hasher.hash("pw"))
