import dataclasses
from datetime import date, datetime, timezone
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel

from backendkit.cache import Cache, Outcome
from backendkit.testing import capture_logs


@dataclasses.dataclass(frozen=True)
class Line:
    sku: str
    qty: int
    price: Decimal


class Order(BaseModel):
    id: UUID
    placed: datetime
    lines: list[Line]
    tags: set[str]


cache = Cache("memory://")


@cache.cached(ttl=60)
def orders_by_day(day: date) -> dict[str, tuple[Order, ...]]:
    order = Order(
        id=UUID(int=1),
        placed=datetime(2024, 5, 6, 7, 8, tzinfo=timezone.utc),
        lines=[Line("A-1", 2, Decimal("9.90"))],
        tags={"gift"},
    )
    return {day.isoformat(): (order,)}


orders_by_day(date(2024, 5, 6))
cached = orders_by_day(date(2024, 5, 6))  # decoded into the declared return type
(order,) = cached["2024-05-06"]
assert isinstance(order, Order)
assert isinstance(order.lines[0], Line)
assert isinstance(order.lines[0].price, Decimal)
assert order.tags == {"gift"}


# A function that returns something other than its annotation still returns it, but
# the value is not stored (and a warning says why): a cache never guesses types.
@cache.cached(ttl=60)
def wrong() -> dict[str, int]:
    return {"a": "not an int"}  # type: ignore[dict-item]


with capture_logs() as logs:
    wrong()
    assert wrong.call_detailed().outcome is Outcome.LOADED
assert logs[0]["event"] == "cache_encode_failed"
