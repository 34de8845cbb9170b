from backendkit.cache import Cache, Outcome

cache = Cache("memory://")


@cache.cached(ttl=300, namespace="catalog")
def product(product_id: int) -> dict[str, int]:
    return {"id": product_id}


@cache.cached(ttl=300, namespace="catalog")
def category(slug: str) -> list[int]:
    return [1, 2, 3]


product(1), product(2), category("shoes")

# One entry: a DEL of a key computed from the arguments.
assert product.invalidate(1) is True
assert product.call_detailed(2).outcome is Outcome.HIT

# A whole namespace, every function in it, in O(1): the namespace gets a new
# generation (one SET; no KEYS, no SCAN). Old entries are misses and expire on their own.
cache.invalidate_namespace("catalog")  # or product.invalidate_all()
assert product.call_detailed(2).outcome is Outcome.LOADED
assert category.call_detailed("shoes").outcome is Outcome.LOADED
