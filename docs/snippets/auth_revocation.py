from collections.abc import Callable

from backendkit.auth import JWTKey, TokenService
from backendkit.errors import InvalidToken
from backendkit.testing import FakeClock, capture_logs


def refused(call: Callable[..., object], *args: object, **kwargs: object) -> bool:
    try:
        call(*args, **kwargs)
    except InvalidToken:
        return True
    return False


clock = FakeClock()
tokens = TokenService(JWTKey.generate("HS256"), refresh_grace=5, clock=clock)

# Rotation: each refresh token is single-use.
login = tokens.issue_pair("user-42")
second = tokens.refresh(login.refresh_token)

# Two tabs refreshing with the same token at once get the same pair (grace window).
clock.advance(2)
assert tokens.refresh(login.refresh_token) == second

# After the window, the old token coming back means it was stolen (or replayed):
# the whole session is revoked, for the thief and for the user.
clock.advance(10)
with capture_logs() as logs:
    assert refused(tokens.refresh, login.refresh_token)
assert logs[0]["event"] == "refresh_token_reuse"
assert refused(tokens.refresh, second.refresh_token)

# Log out everywhere (after a password change, say): every session of the user ends.
phone, laptop = tokens.issue_pair("user-42"), tokens.issue_pair("user-42")
tokens.revoke_user("user-42")
assert refused(tokens.refresh, phone.refresh_token)
assert refused(tokens.refresh, laptop.refresh_token)

# Access tokens are verified statelessly unless you ask for the revocation check.
assert tokens.verify_access(phone.access_token).sub == "user-42"
assert refused(tokens.verify_access, phone.access_token, check_revoked=True)
