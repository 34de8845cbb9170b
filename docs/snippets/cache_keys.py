from backendkit.cache import Cache

cache = Cache("memory://", key_prefix="myapp:")


@cache.cached(ttl=60)
def search(term: str, page: int = 1, tags: frozenset[str] = frozenset()) -> list[int]:
    return [page]


# Arguments are bound to parameter names with defaults applied, then normalized:
# these four calls are one entry.
keys = {
    search.key("shoes"),
    search.key("shoes", 1),
    search.key(term="shoes", page=1),
    search.key("shoes", tags=frozenset()),
}
assert len(keys) == 1
# <prefix>{<namespace>}:v<version>:f:<module>:<qualname>:<hash of the arguments>
key = keys.pop()
assert key.startswith("myapp:{")
assert ":v1:f:" in key


# A template (or a callable) names the entry yourself; ignore= leaves arguments out.
@cache.cached(ttl=60, namespace="users", key="user:{user_id}", version=2)
def get_user(user_id: int, db: object = None) -> dict[str, int]:
    return {"id": user_id}


assert get_user.key(7) == "myapp:{users}:v2:k:user:7"


@cache.cached(ttl=60, ignore=("db",))
def get_order(order_id: int, db: object = None) -> dict[str, int]:
    return {"id": order_id}


assert get_order.key(1, db=object()) == get_order.key(1, db=object())

# An argument with no JSON form is refused instead of being keyed by its repr.
try:
    search.key(object())  # type: ignore[arg-type]
except TypeError as exc:
    refused = str(exc)
else:
    raise AssertionError("expected a TypeError")
assert "no JSON form" in refused
