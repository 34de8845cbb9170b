from backendkit.logging import get_logger
from backendkit.testing import capture_logs

log = get_logger(__name__)


def reject_login(user_id: int) -> None:
    log.warning("login_failed", user_id=user_id, reason="bad_password")


with capture_logs() as logs:
    reject_login(7)
assert logs[0]["event"] == "login_failed"
assert logs[0]["reason"] == "bad_password"
