"""A password reset with one-time tokens: request, confirm, and what a used token gets."""

from backendkit.auth import (
    PASSWORD_RESET,
    InvalidOneTimeToken,
    MemoryOneTimeTokenStore,
    OneTimeTokens,
    PasswordHasher,
)
from backendkit.ratelimit import RateLimiter
from backendkit.settings import Settings
from backendkit.testing import TestingPasswordHasher

settings = Settings(env="test", secret_key=["change-me-to-a-long-random-secret-key"])
users = {"ann@example.com": {"id": "7", "password_hash": ""}}


class Mailer:
    """Your sender: put the token in a link and mail it (or queue the mail)."""

    def __init__(self) -> None:
        self.outbox: list[str] = []

    def send(self, email: str, purpose: str, token: str) -> None:
        self.outbox.append(f"https://app.example/reset?token={token}")


mailer = Mailer()
tokens = OneTimeTokens.from_settings(
    settings,
    MemoryOneTimeTokenStore(),  # production: RedisOneTimeTokenStore or SQLOneTimeTokenStore
    sender=mailer,
    limiter=RateLimiter("memory://"),  # 10/minute per address, 5/15 minutes per email
)
hasher: PasswordHasher = TestingPasswordHasher(settings)


def request_reset(email: str, client_ip: str) -> None:
    """POST /password-reset: answers 202 whatever the email."""
    user = users.get(email)
    tokens.issue(
        PASSWORD_RESET, email, user_id=None if user is None else user["id"], address=client_ip
    )


def confirm_reset(token: str, new_password: str) -> None:
    """POST /password-reset/confirm: InvalidOneTimeToken (400) for a bad token."""
    user_id = tokens.consume(PASSWORD_RESET, token).user_id
    user = next(u for u in users.values() if u["id"] == user_id)
    user["password_hash"] = hasher.hash(new_password)
    # Any other reset link still in a mailbox stops working with the new password.
    tokens.invalidate(user_id, PASSWORD_RESET)
    # ...and end every session of the account: TokenService.revoke_user(user_id).


request_reset("ann@example.com", "203.0.113.7")
request_reset("nobody@example.com", "203.0.113.7")  # same answer, nothing sent
assert len(mailer.outbox) == 1
token = mailer.outbox[0].rsplit("=", 1)[1]
confirm_reset(token, "a new long passphrase")
assert hasher.verify("a new long passphrase", users["ann@example.com"]["password_hash"])
try:
    confirm_reset(token, "another passphrase")  # used already
    raise AssertionError("a used token was accepted")
except InvalidOneTimeToken as refused:
    status = refused.status
assert status == 400
