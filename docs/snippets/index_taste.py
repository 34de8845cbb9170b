from backendkit.auth import JWTKey, TokenService
from backendkit.errors import ValidationFailed
from backendkit.fields import Email
from backendkit.responses import error_response, render_json, success
from backendkit.validation import ApiModel, parse_json, validate


class SignUp(ApiModel):  # camelCase on the wire, snake_case in Python
    email: Email
    display_name: str


# Input: a size-capped JSON parse, then validation into a typed model.
body = b'{"email": "Ada@Example.com", "displayName": "Ada"}'
signup = validate(SignUp, parse_json(body))
assert signup.email == "ada@example.com"

# Output: the same envelope from Flask, FastAPI, Django or your adapter.
assert render_json(success({"displayName": signup.display_name}, "Welcome")) == (
    b'{"success":true,"data":{"displayName":"Ada"},"message":"Welcome"}'
)

# Errors: one catalogue, field-level details, the input never echoed back.
try:
    validate(SignUp, {"email": "not-an-email", "displayName": "Ada"})
except ValidationFailed as exc:
    response = error_response(exc, request_id="req-1")
assert response.status == 400
assert response.body == (
    b'{"success":false,"error":{"code":"VALIDATION_ERROR",'
    b'"message":"Input should be a valid email address",'
    b'"details":[{"field":"email",'
    b'"message":"Input should be a valid email address"}],'
    b'"requestId":"req-1"}}'
)

# Auth: short-lived access tokens and single-use, rotating refresh tokens.
tokens = TokenService(JWTKey.generate("ES256"), issuer="https://auth.example.com")
pair = tokens.issue_pair("user-42", claims={"roles": ["admin"]})
assert tokens.verify_access(pair.access_token)["roles"] == ["admin"]
