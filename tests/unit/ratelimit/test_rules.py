"""Rules parse limits with `limits`, validate names and strategies, and compare by value."""

from __future__ import annotations

import pytest
from limits import RateLimitItemPerMinute, parse

from backendkit.ratelimit import Limit, Rule


def test_parses_several_limits_in_order() -> None:
    """A `limits` string with several limits gives them in the order written."""
    rule = Rule("api", "10/second;100/minute, 1000 per day")
    assert [(limit.amount, limit.window) for limit in rule.limits] == [
        (10, 1),
        (100, 60),
        (1000, 86400),
    ]
    assert rule.strategy == "sliding-window-counter"


def test_accepts_items_and_mixed_iterables() -> None:
    """`limits` items and lists mixing strings and items are accepted."""
    item = RateLimitItemPerMinute(5, 2)
    assert Rule("a", item).limits == (Limit(item),)
    mixed = Rule("b", ["1/second", item])
    assert [(lim.amount, lim.window) for lim in mixed.limits] == [(1, 1), (5, 120)]


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window", "sliding-window-counter"])
def test_every_strategy_is_accepted(strategy: str) -> None:
    """Each of the three strategies can be chosen."""
    assert Rule("s", "1/second", strategy=strategy).strategy == strategy  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["", "has space", "colon:name", "{brace}", 'quote"', "x" * 201, "tab\t"]
)
def test_rejects_bad_names(name: str) -> None:
    """Names that could break keys or header fields are refused."""
    with pytest.raises(ValueError, match="invalid rule name"):
        Rule(name, "1/second")


@pytest.mark.parametrize("name", ["login", "auth.login", "/api/v1/users", "a-b_c.d", "x" * 200])
def test_accepts_good_names(name: str) -> None:
    """Valid twin: letters, digits and _ . - / are fine."""
    assert Rule(name, "1/second").name == name


@pytest.mark.parametrize("text", ["", "five per minute", "5/fortnight", "5/minute;;"])
def test_rejects_unparsable_limits(text: str) -> None:
    """A string `limits` cannot parse is refused with the syntax in the message."""
    with pytest.raises(ValueError, match="invalid rate limit"):
        Rule("r", text)


def test_rejects_bad_entries_and_empty_lists() -> None:
    """Non-limit entries and empty lists are refused; the valid twin is accepted."""
    with pytest.raises(ValueError, match="not a limit"):
        Rule("r", [5])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="no limits"):
        Rule("r", [])
    assert Rule("r", ["5/minute"]).limits[0].amount == 5


def test_rejects_duplicates_zero_amounts_and_unknown_strategies() -> None:
    """Duplicate limits, amount 0 and unknown strategies are refused."""
    with pytest.raises(ValueError, match="same limit twice"):
        Rule("r", "5/minute;5 per 1 minute")
    with pytest.raises(ValueError, match="at least 1"):
        Rule("r", "0/minute")
    with pytest.raises(ValueError, match="unknown strategy"):
        Rule("r", "5/minute", strategy="token-bucket")  # type: ignore[arg-type]


def test_rejects_limits_too_large_for_exact_arithmetic() -> None:
    """A limit whose amount x window would lose precision in Lua doubles is refused."""
    with pytest.raises(ValueError, match="too large"):
        Rule("r", "1000000/year")
    assert Rule("r", "10000/year").limits[0].amount == 10000


def test_limit_text_field_and_equality() -> None:
    """A Limit prints like `limits`, names its storage field and compares by value."""
    limit = Limit(parse("5/2 minutes"))
    assert str(limit) == "5 per 2 minute"
    assert repr(limit) == "Limit(5 per 2 minute)"
    assert limit.field == "5/120"
    assert limit == Limit(parse("5 per 120 seconds"))
    assert limit != Limit(parse("6/2 minutes"))
    assert limit.__eq__("5/120") is NotImplemented
    assert len({limit, Limit(parse("5/120 seconds"))}) == 1


def test_rule_equality_and_repr() -> None:
    """Rules compare by name, limits and strategy; the repr shows all three."""
    a = Rule("r", "5/minute")
    assert a == Rule("r", "5 per minute")
    assert a != Rule("r", "5/minute", strategy="fixed-window")
    assert a != Rule("other", "5/minute")
    assert a.__eq__("r") is NotImplemented
    assert hash(a) == hash(Rule("r", "5/minute"))
    assert repr(a) == "Rule('r', '5/60s', strategy='sliding-window-counter')"


def test_retention_covers_the_previous_window_for_the_sliding_counter() -> None:
    """The sliding counter keeps state for two of its longest windows, the others one."""
    assert Rule("r", "1/second;5/minute").retention_ms == 120_000
    assert Rule("r", "1/second;5/minute", strategy="fixed-window").retention_ms == 60_000
    assert Rule("r", "1/second;5/minute", strategy="moving-window").retention_ms == 60_000
