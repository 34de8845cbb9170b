from dataclasses import dataclass

from backendkit.auth import PasswordHasher
from backendkit.errors import InvalidToken, Unauthenticated


@dataclass
class User:
    email: str
    password_hash: str


hasher = PasswordHasher()  # bcrypt cost 12; calibrate() picks one for your hardware


def register(users: dict[str, User], email: str, password: str, hasher: PasswordHasher) -> User:
    # Over 72 bytes (after NFKC normalization) raises ValidationFailed (VALIDATION_ERROR).
    user = User(email, hasher.hash(password))
    users[email] = user
    return user


def login(users: dict[str, User], email: str, password: str, hasher: PasswordHasher) -> User:
    user = users.get(email)
    if user is None:
        hasher.dummy_verify(password)  # same bcrypt work: no hint that the email is unknown
        raise Unauthenticated("Invalid email or password")
    valid, new_hash = hasher.verify_and_update(password, user.password_hash)
    if not valid:
        raise Unauthenticated("Invalid email or password")
    if new_hash is not None:  # old cost, $2a$/$2y$ or unnormalized legacy hash
        user.password_hash = new_hash
    return user


async def alogin(users: dict[str, User], email: str, password: str, hasher: PasswordHasher) -> User:
    # The async twins run bcrypt in a bounded thread pool: the event loop keeps serving.
    user = users.get(email)
    if user is None:
        await hasher.adummy_verify(password)
        raise Unauthenticated("Invalid email or password")
    valid, new_hash = await hasher.averify_and_update(password, user.password_hash)
    if not valid:
        raise Unauthenticated("Invalid email or password")
    if new_hash is not None:
        user.password_hash = new_hash
    return user


assert not issubclass(Unauthenticated, InvalidToken)  # a 401 with code UNAUTHENTICATED
