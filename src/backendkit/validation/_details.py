"""Client-safe details of validation errors, and the field labels they share with schemas.

A pydantic error becomes an [`ErrorDetail`][backendkit.errors.ErrorDetail]: its location is
written with wire names (``address.street``, ``items[2].qty``) and its message never repeats
the submitted value. ``label`` is also the schema title rule (``per_page`` -> ``Per page``)
of every model the core defines, so a field is named the same way in an error message and in
the OpenAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, cast

from pydantic import ValidationError

from backendkit.errors import ErrorDetail, ValidationFailed

__all__ = ["error_details", "field_title", "label", "validation_failed"]

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def label(name: str) -> str:
    """``firstName`` / ``first_name`` -> ``First name``."""
    text = " ".join(_CAMEL_BOUNDARY.sub(" ", name).replace("_", " ").split()).lower()
    return text[:1].upper() + text[1:] if text else "Field"


def field_title(name: str, _info: Any) -> str:
    """Title a schema field after its Python name (a pydantic ``field_title_generator``).

    ``per_page`` -> ``Per page``, where pydantic would title the alias (``Perpage``).
    """
    return label(name)


def error_details(errors: ValidationError | Iterable[Mapping[str, Any]]) -> list[ErrorDetail]:
    """Turn a pydantic ``ValidationError`` (or its ``errors()`` list) into client-safe details.

    Any object with an ``errors()`` method is accepted too (FastAPI's
    ``RequestValidationError``); strip its location prefix (``body``, ``query``) first.

    Paths use the wire names (aliases) joined as ``address.street`` and ``items[2].qty``;
    messages are pydantic's, rewritten where pydantic would quote the input, and replaced
    by a generic one whenever the submitted text shows up in them anyway. Pass the error
    dicts *with* their ``input`` so that last check can run; the input is never copied
    into a detail. Identical details are listed once.

    Example:
        >>> error_details([{"type": "missing", "loc": ("address", "zipCode"), "msg": "Field required"}])
        [ErrorDetail(field='address.zipCode', message='Zip code is required')]
    """  # noqa: E501
    # A ValidationError, or anything else with its errors() method (FastAPI's
    # RequestValidationError), or the list itself. Only type, loc, msg, ctx and input are read.
    method = getattr(errors, "errors", None)
    items = method() if callable(method) else cast("Iterable[Mapping[str, Any]]", errors)
    details: list[ErrorDetail] = []
    seen: set[tuple[str | None, str]] = set()
    for error in items:
        key = (_format_loc(tuple(error.get("loc", ()))), _safe_message(error))
        if key not in seen:
            seen.add(key)
            details.append(ErrorDetail(*key))
    return details


def validation_failed(details: list[ErrorDetail]) -> ValidationFailed:
    """The error for ``details``: its message is the single detail's, or the general one."""
    return ValidationFailed(details[0].message if len(details) == 1 else None, details=details)


def _format_loc(loc: tuple[int | str, ...]) -> str | None:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or None


# Types whose pydantic message would quote the input or name internals.
_REWRITTEN = {
    "uuid_parsing": "Input should be a valid UUID",
    "json_invalid": "Input should be valid JSON",
    "model_type": "Input should be an object",
    "model_attributes_type": "Input should be an object",
    "dataclass_type": "Input should be an object",
    "dataclass_exact_type": "Input should be an object",
    "is_instance_of": "Input has the wrong type",
    "is_subclass_of": "Input has the wrong type",
    "get_attribute_error": "Invalid value",
    "iteration_error": "Invalid value",
    "mapping_type": "Input should be an object",
    "no_such_attribute": "Invalid value",
    "extra_forbidden": "Unknown field",
}
_GENERIC = "Invalid value"
# Types whose message is a template filled from the schema only (bounds, choices, pattern).
_SCHEMA_TEMPLATED = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "multiple_of",
        "too_short",
        "too_long",
        "string_too_short",
        "string_too_long",
        "string_pattern_mismatch",
        "bytes_too_short",
        "bytes_too_long",
        "literal_error",
        "enum",
        "decimal_max_digits",
        "decimal_max_places",
        "decimal_whole_digits",
        "url_too_long",
        "url_scheme",
    }
)


def _safe_message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    message = str(error.get("msg", _GENERIC))
    if kind == "missing":
        loc = tuple(error.get("loc", ()))
        last = loc[-1] if loc else None
        return f"{label(last)} is required" if isinstance(last, str) else "Field required"
    if kind in _REWRITTEN:
        return _REWRITTEN[kind]
    if kind == "union_tag_invalid":
        expected = (error.get("ctx") or {}).get("expected_tags")
        if expected is None:
            return "Input tag does not match any of the expected tags"
        return f"Input tag does not match any of the expected tags: {expected}"
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind == "assertion_error":
        message = message.removeprefix("Assertion failed, ")
    return _GENERIC if _echoes(kind, message, error.get("input")) else message


def _echoes(kind: str, message: str, value: Any) -> bool:
    """True when ``message`` contains the submitted text.

    Constraint messages are built from the schema (``less than 1000``), so a value that
    happens to equal a bound is not an echo; short texts occur in ordinary words.
    """
    return (
        isinstance(value, str)
        and len(value) >= 4
        and kind not in _SCHEMA_TEMPLATED
        and value in message
    )
