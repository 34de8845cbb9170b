"""nested_details: one detail per message of a nested error tree, paths as pydantic's, no echo."""

from __future__ import annotations

import doctest
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backendkit.errors import ErrorDetail
from backendkit.validation import _nested as _nested_details
from backendkit.validation._nested import INVALID_VALUE, nested_details


class _Coded(str):
    """A message carrying a ``code``, as DRF's ErrorDetail does."""

    code: str

    def __new__(cls, text: str, code: str) -> _Coded:
        message = super().__new__(cls, text)
        message.code = code
        return message


def test_docstring_examples() -> None:
    """The examples in the module's docstrings run and print what they claim."""
    assert doctest.testmod(_nested_details).failed == 0


def test_paths_are_written_with_dots_and_indexes() -> None:
    """Mappings give dotted names, list entries and integer keys give ``[i]``."""
    tree = {
        "address": {"street": ["Required."]},
        "items": [{}, {"qty": ["Too big.", "Odd."]}],
        "tags": {3: ["Too long."]},
    }
    assert nested_details(tree) == [
        ErrorDetail("address.street", "Required."),
        ErrorDetail("items[1].qty", "Too big."),
        ErrorDetail("items[1].qty", "Odd."),
        ErrorDetail("tags[3]", "Too long."),
    ]


def test_a_bare_message_has_no_field() -> None:
    """A message at the root (a string, or a list of them) names no field."""
    assert nested_details("Broken.") == [ErrorDetail(None, "Broken.")]
    assert nested_details(["A.", "B."]) == [ErrorDetail(None, "A."), ErrorDetail(None, "B.")]


def test_unnamed_keys_belong_to_the_enclosing_object() -> None:
    """Non-field keys add nothing to the path; the same key elsewhere is a field."""
    tree = {"errors": ["Mismatch."], "user": {"errors": ["Bad."]}}
    assert nested_details(tree, unnamed={"errors"}) == [
        ErrorDetail(None, "Mismatch."),
        ErrorDetail("user", "Bad."),
    ]
    assert nested_details(tree)[0] == ErrorDetail("errors", "Mismatch.")


def test_fixed_codes_replace_their_messages() -> None:
    """A message whose code is listed gets the fixed text; another code keeps its own."""
    tree = {"role": [_Coded('"root" is not a valid choice.', "invalid_choice")]}
    fixed = {"invalid_choice": "Not a valid choice."}
    assert nested_details(tree, fixed=fixed) == [ErrorDetail("role", "Not a valid choice.")]
    kept = {"role": [_Coded("Choose one.", "required")]}
    assert nested_details(kept, fixed=fixed) == [ErrorDetail("role", "Choose one.")]


def test_a_message_quoting_the_value_sent_there_is_replaced() -> None:
    """The submitted scalar at the message's path, found in the message: generic text."""
    tree = {"items": [{"qty": ["'lots' is not a number."]}]}
    data = {"items": [{"qty": "lots"}]}
    assert nested_details(tree, data) == [ErrorDetail("items[0].qty", INVALID_VALUE)]


def test_a_message_not_quoting_the_value_is_kept() -> None:
    """Valid twin: a message without the submitted text, or with no data to compare, stays."""
    tree = {"items": [{"qty": ["A number is required."]}]}
    assert nested_details(tree, {"items": [{"qty": "lots"}]})[0].message == "A number is required."
    quoting = {"qty": ["'lots' is not a number."]}
    assert nested_details(quoting)[0].message == "'lots' is not a number."


@pytest.mark.parametrize("value", [None, True, {"a": 1}, [1], ""])
def test_values_that_are_not_scalars_are_not_compared(value: Any) -> None:
    """None, booleans, containers and empty text never count as quoted."""
    tree = {"flag": ["True is not allowed: None, [1] or {'a': 1}."]}
    assert nested_details(tree, {"flag": value})[0].message == tree["flag"][0]


def test_a_path_missing_from_the_data_is_not_compared() -> None:
    """A message at a path the data does not have keeps its text."""
    tree = {"items": [{}, {"qty": ["'x' is bad."]}]}
    assert nested_details(tree, {"items": ["x"]})[0].message == "'x' is bad."


@settings(deadline=None)
@given(secret=st.text(min_size=1).filter(lambda s: s.strip() != ""))
def test_no_detail_ever_holds_the_submitted_text(secret: str) -> None:
    """Whatever the client sent, a message quoting it is never returned."""
    tree = {"name": [f"Value {secret!s} is invalid."], "list": [{"x": [f"Bad {secret}"]}]}
    data = {"name": secret, "list": [{"x": secret}]}
    for detail in nested_details(tree, data):
        assert secret not in detail.message or secret in INVALID_VALUE
