from pydantic import Field

from backendkit.errors import ValidationFailed
from backendkit.fields import PositiveId
from backendkit.validation import ApiModel, validate, validate_query


class Address(ApiModel):
    street: str
    zip_code: str


class Item(ApiModel):
    product_id: PositiveId
    qty: int


class Order(ApiModel):
    address: Address
    items: list[Item]


# camelCase on the wire, snake_case accepted too, lax coercion ("2" -> 2).
order = validate(
    Order,
    {
        "address": {"street": "Main St", "zip_code": "12345"},
        "items": [{"productId": "7", "qty": "2"}],
    },
)
assert order.items[0].qty == 2
assert order.model_dump()["address"] == {"street": "Main St", "zipCode": "12345"}

# Paths name the field as the client sent it: address.zipCode, items[1].qty.
bad_order = {
    "address": {"street": "Main St"},
    "items": [{"productId": 1, "qty": 1}, {"productId": 0, "qty": "many"}],
}
try:
    validate(Order, bad_order)
except ValidationFailed as exc:
    details = [(d.field, d.message) for d in exc.details]
assert details == [
    ("address.zipCode", "Zip code is required"),
    ("items[1].productId", "Input should be greater than or equal to 1"),
    ("items[1].qty", "Input should be a valid integer, unable to parse string as an integer"),
]


# Query strings: list fields take every value; a repeated scalar is an error.
class Search(ApiModel):
    tag: list[str] = Field(default_factory=list)
    per_page: int = 20


search = validate_query(Search, [("tag", "a"), ("tag", "b"), ("perPage", "5")])
assert search == Search(tag=["a", "b"], per_page=5)
try:
    validate_query(Search, [("perPage", "5"), ("perPage", "50")])
except ValidationFailed as exc:
    repeated = exc.details
assert [(d.field, d.message) for d in repeated] == [("perPage", "Only one value is allowed")]
