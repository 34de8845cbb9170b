from backendkit.errors import BadRequest, PayloadTooLarge, ValidationFailed
from backendkit.fields import Email, Password
from backendkit.validation import ApiModel, parse_json, validate


class Register(ApiModel):
    email: Email
    password: Password
    display_name: str | None = None


# 1. Parse: size first, then UTF-8, then JSON.
data = parse_json(b'{"email": " Ada@Example.com ", "password": "correct horse"}')
user = validate(Register, data)
assert user.email == "ada@example.com"

refused = []
for body in [
    b"x" * 2_000_000,  # over the 1 MiB default: PAYLOAD_TOO_LARGE (413)
    b'{"email": ',  # malformed: BAD_REQUEST (400)
    b"[" * 100_000,  # far too deep: BAD_REQUEST, never a RecursionError
    b'"\xff"',  # not UTF-8: BAD_REQUEST
]:
    try:
        parse_json(body)
    except (PayloadTooLarge, BadRequest) as exc:
        refused.append(exc.code)
assert refused == ["PAYLOAD_TOO_LARGE", "BAD_REQUEST", "BAD_REQUEST", "BAD_REQUEST"]

# 2. Validate: every failing field, with a path, never the submitted value.
try:
    validate(Register, {"email": "not-an-email", "password": "hunter2", "nickname": "x"})
except ValidationFailed as exc:
    details = [(d.field, d.message) for d in exc.details]
assert details == [
    ("email", "Input should be a valid email address"),
    ("password", "Password must be at least 8 bytes long"),
    ("nickname", "Unknown field"),
]
