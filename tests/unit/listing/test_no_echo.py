"""Sort and filter errors name the field and the allowed values, never the client's input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from backendkit.errors import ValidationFailed
from backendkit.listing._filters import parse_filters
from backendkit.listing._sort import parse_sort

FIELDS = ("createdAt", "name", "email")
WINDOW = 4  # a leak is any run of more than 3 input characters found in the error

HOSTILE = [
    "<script>alert(1)</script>",
    "'\"; DROP TABLE users; --",
    "name;drop",
    "x" * 10_000,
    "-<img src=x onerror=alert(1)>,name",
    "{{7*7}}${jndi:ldap://evil}",
]
texts = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(min_size=1, max_size=300),
    st.lists(st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=40)), max_size=8).map(
        ",".join
    ),
)


def refusal(parse: Any, *args: Any) -> ValidationFailed | None:
    """The ValidationFailed ``parse(*args)`` raises, or None when it accepts the input."""
    try:
        parse(*args)
    except ValidationFailed as error:
        return error
    return None


def rendered(error: ValidationFailed) -> str:
    """Everything of the error that reaches the client: message, fields, detail messages."""
    parts = [error.message or ""]
    for detail in error.details:
        parts += [detail.field or "", detail.message]
    return "\n".join(parts)


def leaks(text: str, output: str, allowed: str) -> set[str]:
    """Runs of ``WINDOW`` input characters in ``output`` that ``allowed`` does not explain."""
    return {
        text[i : i + WINDOW]
        for i in range(len(text) - WINDOW + 1)
        if text[i : i + WINDOW] in output and text[i : i + WINDOW] not in allowed
    }


def _sort_vocabulary() -> str:
    # What the parser may say whatever it is given: its fixed messages and the allowlist.
    try:
        parse_sort("@@,,name,name," + ",".join(f"f{i}" for i in range(9)), FIELDS, default=None)
    except ValidationFailed as error:
        return rendered(error) + "\n" + "\n".join(FIELDS)
    raise AssertionError("the vocabulary probe must be refused")


SORT_VOCABULARY = _sort_vocabulary()


@settings(deadline=None, max_examples=300)
@given(text=texts)
@example(text="<script>alert(1)</script>")
def test_sort_errors_never_echo_the_input(text: str) -> None:
    """A refused sort names `sort` and the allowed fields; no run of 4+ input characters
    appears in the error unless an allowed field name or the fixed wording explains it."""
    error = refusal(lambda: parse_sort(text, FIELDS, default=None))
    if error is not None:
        output = rendered(error)
        assert {detail.field for detail in error.details} == {"sort"}
        assert leaks(text, output, SORT_VOCABULARY) == set(), output


def test_an_unknown_sort_names_the_allowed_fields_not_the_input() -> None:
    """The message for `<script>` lists what may be sorted by, and nothing of the input."""
    with pytest.raises(ValidationFailed) as info:
        parse_sort("<script>alert(1)</script>", FIELDS, default=None)
    [detail] = info.value.details
    assert detail.field == "sort"
    assert detail.message == "can sort only by createdAt, email, name"
    assert "script" not in rendered(info.value)


def test_an_allowed_sort_still_parses() -> None:
    """Valid twin: allowlisted fields, with directions, parse as before."""
    assert parse_sort("-createdAt,name", FIELDS, default=None) == (
        ("createdAt", True),
        ("name", False),
    )


@dataclass(frozen=True)
class Rule:
    ops: frozenset[str]
    python_type: type[Any]


FILTERS = {"age": Rule(frozenset({"eq", "in", "gt"}), int), "name": Rule(frozenset({"eq"}), str)}


def _filter_vocabulary() -> str:
    # What the parser may say whatever value it is given: its fixed messages (probed with
    # values that share no run of characters with them) and the field names.
    said = []
    for op in ("", "[in]", "[gt]"):
        for probe in ("zz", "zz,zz", "", "\x00"):
            error = refusal(parse_filters, {f"age{op}": probe}, FILTERS)
            if error is not None:
                said.append(rendered(error))
    assert said, "the vocabulary probes must be refused"
    return "\n".join([*said, *FILTERS])


FILTER_VOCABULARY = _filter_vocabulary()


@settings(deadline=None, max_examples=300)
@given(value=texts, op=st.sampled_from(["", "[in]", "[gt]"]))
@example(value="nval", op="")  # a run of the fixed wording ("Invalid filter"), not an echo
@example(value="<script>alert(1)</script>", op="")
def test_filter_value_errors_never_echo_the_value(value: str, op: str) -> None:
    """A filter value of the wrong type is refused naming the field, never quoting it."""
    error = refusal(lambda: parse_filters({f"age{op}": value}, FILTERS))
    if error is not None:
        output = rendered(error)
        assert {detail.field for detail in error.details} == {"age"}
        assert leaks(value, output, FILTER_VOCABULARY) == set(), output


def test_a_valid_filter_still_parses() -> None:
    """Valid twin: a well-typed filter value gives its condition."""
    [condition] = parse_filters({"age[gt]": "30"}, FILTERS)
    assert (condition.field, condition.op, condition.value) == ("age", "gt", 30)


def test_unknown_filter_keys_are_not_echoed() -> None:
    """An unknown filter key is refused without repeating it back."""
    with pytest.raises(ValidationFailed) as info:
        parse_filters({"<script>alert(1)</script>": "x"}, FILTERS)
    assert "script" not in rendered(info.value)
