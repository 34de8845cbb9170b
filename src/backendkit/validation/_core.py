"""The parsing and validation steps (see the package docstring)."""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from itertools import chain, compress, repeat
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, create_model, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError, from_json

from backendkit.errors import BadRequest, ConfigurationError, ErrorDetail, PayloadTooLarge
from backendkit.validation._details import error_details, field_title, validation_failed

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "ApiModel",
    "error_details",
    "parse_json",
    "path_validator",
    "validate",
    "validate_query",
]

M = TypeVar("M", bound=BaseModel)

#: Default body cap of [`parse_json`][backendkit.validation.parse_json] (1 MiB, as in Settings).
DEFAULT_MAX_BYTES = 1_048_576
#: Default nesting cap: 64 levels of objects and arrays.
DEFAULT_MAX_DEPTH = 64
# pydantic-core refuses input nested deeper than about 200 levels on its own.
_PARSER_DEPTH_LIMIT = 200
_CONTAINERS = (dict, list)


_NUL = "\x00"
_NUL_MESSAGE = "Input should not contain NUL characters"


def _has_nul(value: Any) -> bool:
    """True when ``value`` holds a string with U+0000, at any depth.

    Nested ``ApiModel`` instances are skipped: they checked their own fields, and their
    errors name the nested path (``address.street``). A plain pydantic model did not.
    """
    if isinstance(value, str):
        return _NUL in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(map(_has_nul, value))
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, BaseModel) and not isinstance(value, ApiModel):
        return any(map(_has_nul, value.__dict__.values()))
    return False


class ApiModel(BaseModel):
    """Base for request and response models: camelCase on the wire, snake_case in Python.

    - Fields are read from their camelCase alias (``firstName``) or their Python name
      (``first_name``), and written out by alias.
    - Unknown fields are refused (``extra="forbid"``) so a typo is an error, not a silent
      no-op.
    - Pydantic's usual (lax) coercion stays on, so ``"20"`` from a query string is an int.
    - Float fields refuse ``inf`` and ``nan``.
    - No string may contain a NUL character (U+0000), in any field, list, dict or nested
      model: PostgreSQL cannot store one, and no legitimate text needs it. The error names
      the field and never repeats the value; every other character is accepted.

    Example:
        >>> class NewUser(ApiModel):
        ...     first_name: str
        >>> NewUser.model_validate({"firstName": "Ada"}).model_dump()
        {'firstName': 'Ada'}
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        allow_inf_nan=False,
        field_title_generator=field_title,
    )

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        # After the field's own validation, on the value the model will hold: the error's
        # location is the field (by alias), like every other validation error.
        if _has_nul(value):
            raise PydanticCustomError("string_nul", _NUL_MESSAGE)
        return value


def parse_json(
    body: bytes | bytearray | memoryview | str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Any:
    """Parse a JSON request body safely.

    Args:
        body: the raw body; ``str`` is measured by its UTF-8 length.
        max_bytes: largest accepted body in bytes.
        max_depth: deepest accepted nesting of objects and arrays (1 to 200).

    Returns:
        The parsed value (dict, list, str, int, float, bool or None).

    Raises:
        PayloadTooLarge: the body is longer than ``max_bytes`` (checked before anything else).
        BadRequest: empty, not UTF-8, not JSON, or nested deeper than ``max_depth``.

    Example:
        >>> parse_json(b'{"name": "Ada"}')
        {'name': 'Ada'}
        >>> parse_json(b"[" * 100_000)
        Traceback (most recent call last):
        ...
        backendkit.errors.BadRequest: The request body is nested too deeply
    """
    if not 1 <= max_depth <= _PARSER_DEPTH_LIMIT:
        raise ValueError(f"max_depth must be between 1 and {_PARSER_DEPTH_LIMIT}")
    data = _as_bytes(body, max_bytes)
    if not data.strip(b" \t\r\n"):
        raise BadRequest("The request body is empty")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The request body is not valid UTF-8") from None
    try:
        value = from_json(data, allow_inf_nan=False)
    except ValueError as exc:
        reason = str(exc)
        if reason.startswith("recursion limit exceeded"):
            raise BadRequest("The request body is nested too deeply") from None
        # pydantic-core's reasons are fixed phrases plus a position; they never quote input.
        raise BadRequest(
            "The request body is not valid JSON", details=[ErrorDetail(None, reason)]
        ) from None
    # Counting brackets is a cheap upper bound on the depth; walk only when it could be over.
    if data.count(b"[") + data.count(b"{") > max_depth and _too_deep(value, max_depth):
        raise BadRequest("The request body is nested too deeply")
    return value


def _as_bytes(body: bytes | bytearray | memoryview | str, max_bytes: int) -> bytes:
    """Return ``body`` as bytes, refusing it before any copy when it is over the cap."""
    if isinstance(body, str):
        # Every character is at least one byte: a long text is refused before encoding it.
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"The request body is larger than {max_bytes} bytes")
        try:
            data = body.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates
            raise BadRequest("The request body is not valid UTF-8") from None
    else:
        size = body.nbytes if isinstance(body, memoryview) else len(body)
        if size > max_bytes:
            raise PayloadTooLarge(f"The request body is larger than {max_bytes} bytes")
        data = bytes(body)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The request body is larger than {max_bytes} bytes")
    return data


def _too_deep(value: Any, max_depth: int) -> bool:
    """True when containers nest deeper than ``max_depth``.

    Breadth-first, one level at a time, with the per-item work in C iterators: no
    recursion, and on a 1 MiB body it costs less than the parse itself.
    """
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            return True
        # parse_json's own output: exactly dict and list, never subclasses.
        children = list(
            chain.from_iterable(map(dict.values, [n for n in level if type(n) is dict]))
        )
        children.extend(chain.from_iterable([n for n in level if type(n) is list]))
        level = list(compress(children, map(isinstance, children, repeat(_CONTAINERS))))
    return False


def validate(model: type[M], data: Any, *, context: dict[str, Any] | None = None) -> M:
    """Validate ``data`` into ``model`` or raise a client-safe ``ValidationFailed``.

    Every failing field is listed. The error's message is the single detail's message when
    there is one detail, else a general one. The pydantic error is not chained (its text
    holds the submitted values, which must not reach logs either).

    Raises:
        ValidationFailed: with one [`ErrorDetail`][backendkit.errors.ErrorDetail] per problem.

    Example:
        >>> class Login(ApiModel):
        ...     email: str
        >>> validate(Login, {})
        Traceback (most recent call last):
        ...
        backendkit.errors.ValidationFailed: Email is required
    """
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise validation_failed(error_details(exc)) from None


def validate_query(model: type[M], query: Any) -> M:
    """Validate query-string parameters into ``model``.

    ``query`` may be a plain mapping (values a string or a list of strings), a multi-dict
    with ``getlist`` (werkzeug, Django, Starlette) or an iterable of ``(key, value)`` pairs.
    Fields typed as a list/tuple/set receive every value; any other field must be given
    once: a repeated scalar parameter is a validation error rather than a silent pick of
    the first or last value (layers that pick differently are how parameter pollution
    works).

    Raises:
        ValidationFailed: invalid or repeated parameters.

    Example:
        >>> class Search(ApiModel):
        ...     tag: list[str] = []
        ...     per_page: int = 20
        >>> validate_query(Search, [("tag", "a"), ("tag", "b"), ("perPage", "5")])
        Search(tag=['a', 'b'], per_page=5)
    """
    multi = _sequence_keys(model)
    scalar = _field_keys(model) - multi
    data: dict[str, Any] = {}
    repeated: list[ErrorDetail] = []
    for key, values in _multi_items(query).items():
        if key in multi:
            data[key] = values
        elif len(values) == 1:
            data[key] = values[0]
        elif key in scalar:
            repeated.append(ErrorDetail(key, "Only one value is allowed"))
        else:
            data[key] = values[-1]  # an unknown key: the model's ``extra`` setting decides
    if not repeated:
        return validate(model, data)
    try:
        model.model_validate(data)
    except ValidationError as exc:
        dropped = {d.field for d in repeated}
        repeated += [d for d in error_details(exc) if d.field not in dropped]
    raise validation_failed(repeated)


def _multi_items(query: Any) -> dict[str, list[str]]:
    items: dict[str, list[str]] = {}
    if hasattr(query, "getlist") and hasattr(query, "keys"):
        for key in query.keys():  # noqa: SIM118 - multi-dicts iterate differently
            items[key] = list(query.getlist(key))
    elif isinstance(query, Mapping):
        for key, value in query.items():
            items[key] = list(value) if isinstance(value, list | tuple) else [value]
    else:
        for key, value in query:
            items.setdefault(key, []).append(value)
    return items


@functools.lru_cache(maxsize=256)
def _field_keys(model: type[BaseModel]) -> frozenset[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(name)
        if isinstance(field.alias, str):
            keys.add(field.alias)
    return frozenset(keys)


@functools.lru_cache(maxsize=256)
def _sequence_keys(model: type[BaseModel]) -> frozenset[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        if _is_sequence(field.annotation):
            keys.add(name)
            if isinstance(field.alias, str):
                keys.add(field.alias)
    return frozenset(keys)


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_sequence(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return any(_is_sequence(arg) for arg in get_args(annotation))
    if isinstance(origin, type):
        return issubclass(origin, Sequence | AbstractSet) and not issubclass(origin, str | bytes)
    return False


def path_validator(types: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A function validating URL path parameters by name, as the Flask and Django adapters use.

    The returned function takes the captured values (strings, keyed by parameter name)
    and returns them converted. A value that does not validate raises
    [`ValidationFailed`][backendkit.errors.ValidationFailed] naming the parameter in camelCase
    (``note_id`` -> ``noteId``), the same detail FastAPI's typed path parameters give.

    Raises:
        ConfigurationError: (from the returned function) a declared parameter is not among
            the captured values: the route's URL pattern does not name it.

    Example:
        >>> check = path_validator({"note_id": int})
        >>> check({"note_id": "7"})
        {'note_id': 7}
        >>> check({"note_id": "abc"})
        Traceback (most recent call last):
        ...
        backendkit.errors.ValidationFailed: Input should be a valid integer, unable to parse string as an integer
    """  # noqa: E501
    fields: dict[str, Any] = {name: (kind, ...) for name, kind in types.items()}
    model = create_model("PathParams", __base__=ApiModel, **fields)
    aliases = {name: field.alias or name for name, field in model.model_fields.items()}

    def check(values: Mapping[str, Any]) -> dict[str, Any]:
        try:
            # Keyed by alias, so a failing parameter is named in camelCase.
            captured = {alias: values[name] for name, alias in aliases.items()}
        except KeyError as exc:
            raise ConfigurationError(f"path_params: no {exc} in the URL pattern") from None
        params = validate(model, captured)
        return {name: getattr(params, name) for name in aliases}

    return check
