from backendkit.logging import get_logger, request_context
from backendkit.testing import capture_logs


def charge(card_token: str) -> None:
    get_logger("billing").info("card_charged", card_token=card_token, amount=42)


def test_charge_logs_without_the_token() -> None:
    with capture_logs() as logs, request_context(request_id="t-1"):
        charge("tok_live_abc")
    assert logs == [
        {
            "event": "card_charged",
            "card_token": "[REDACTED]",
            "amount": 42,
            "request_id": "t-1",
            "log_level": "info",
        }
    ]


test_charge_logs_without_the_token()
