import io
import json

from backendkit.logging import (
    accept_request_id,
    configure_logging,
    get_logger,
    request_context,
    security_event,
)

stream = io.StringIO()  # defaults to sys.stderr; a buffer here so we can look at it
configure_logging(fmt="json", level="INFO", stream=stream)
log = get_logger("app.users")

# An adapter does this once per request: accept a safe X-Request-ID or make a new one.
request_id = accept_request_id("checkout-7f3a")
with request_context(request_id=request_id, method="POST", path="/api/v1/auth/login"):
    log.info("login_attempt", email="ada@example.com", password="hunter2")  # noqa: S106
    security_event("login_failed", reason="bad_password")

first, second = (json.loads(line) for line in stream.getvalue().splitlines())
assert first["event"] == "login_attempt"
assert first["request_id"] == "checkout-7f3a"
assert first["password"] == "[REDACTED]"  # noqa: S105 - masked before rendering
assert second["security"] is True
assert second["level"] == "warning"

# A header that is too long or carries unsafe characters is replaced by a fresh id.
assert accept_request_id("bad id\nX-Injected: 1") != "bad id\nX-Injected: 1"
