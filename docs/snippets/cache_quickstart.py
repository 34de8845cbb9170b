from datetime import datetime, timezone
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel

from backendkit.cache import Cache, Outcome


class User(BaseModel):
    id: UUID
    name: str
    balance: Decimal
    created: datetime


cache = Cache("memory://?max_entries=10000")  # or "redis://localhost:6379/0"
loads = []


@cache.cached(ttl=300, namespace="users")
def get_user(user_id: int) -> User:
    loads.append(user_id)  # stands for the database query
    return User(
        id=UUID(int=user_id),
        name="Ada",
        balance=Decimal("12.50"),
        created=datetime(2024, 1, 2, tzinfo=timezone.utc),
    )


first = get_user(1)  # a miss: runs the function, stores the result
again = get_user(user_id=1)  # a hit: same entry, positional or keyword
assert again == first
assert isinstance(again, User)
assert isinstance(again.balance, Decimal)
assert loads == [1]

result = get_user.call_detailed(1)  # the value plus where it came from
assert result.outcome is Outcome.HIT
assert not result.degraded

get_user.invalidate(1)  # after an UPDATE of user 1
assert get_user.call_detailed(1).outcome is Outcome.LOADED
assert get_user.stats.snapshot().hits == 2
