"""Pydantic models of the envelopes, for OpenAPI documents.

They describe the shapes the builders in ``_envelopes`` write, with camelCase aliases and
schema titles named like validation errors name fields. ``Envelope[User]`` and its kin are
concrete subclasses with clean schema names (``UserEnvelope``, not ``Envelope_User_``).
"""

from __future__ import annotations

import threading
import types
from collections.abc import Mapping
from typing import Any, Generic, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic.alias_generators import to_camel

from backendkit.errors import ErrorDetail
from backendkit.validation._details import field_title

__all__ = [
    "CursorInfo",
    "CursorPageEnvelope",
    "Envelope",
    "ErrorEnvelope",
    "ErrorInfo",
    "FieldError",
    "PageEnvelope",
    "PageInfo",
    "ProblemDetails",
]

T = TypeVar("T")


class _WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        field_title_generator=field_title,
        # In responses every field with a default is still always present.
        json_schema_serialization_defaults_required=True,
    )


def _type_name(tp: Any) -> str:
    """A schema-friendly name for a type argument: ``list[User]`` -> ``UserList``."""
    if tp is None or tp is type(None):
        return "Empty"
    if tp is Any:
        return "Any"
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Union or origin is types.UnionType:
        names = [_type_name(arg) for arg in args if arg is not type(None)]
        prefix = "Optional" if type(None) in args else ""
        return prefix + "Or".join(names)
    if origin is Literal:
        return "Literal"
    if isinstance(origin, type) and issubclass(origin, Mapping):
        return (_type_name(args[1]) if len(args) == 2 and args[1] is not Any else "") + "Dict"
    if isinstance(origin, type) and issubclass(origin, list | tuple | set | frozenset):
        return (_type_name(args[0]) if args and args[0] is not Any else "") + "List"
    name = getattr(tp, "__name__", None) or repr(tp)
    cleaned = "".join(part[:1].upper() + part[1:] for part in _split_words(name))
    return cleaned or "Any"


def _split_words(name: str) -> list[str]:
    return "".join(ch if ch.isalnum() else " " for ch in name).split()


# Concrete classes made for each parametrization, keyed by pydantic's parametrized class.
_NAMED: dict[type[BaseModel], type[BaseModel]] = {}
_NAMED_LOCK = threading.Lock()


class _NamedGeneric(_WireModel):
    """Makes ``Envelope[User]`` a concrete subclass named ``UserEnvelope``.

    Pydantic names the schema of a parametrized model after its origin and arguments
    (``Envelope_User_`` in OpenAPI). A plain subclass is named after itself, so each fully
    parametrized form is turned into one, cached, named ``<Arg><Origin>``.
    """

    def __class_getitem__(cls, typevar_values: Any) -> Any:
        parametrized = super().__class_getitem__(typevar_values)
        if not isinstance(parametrized, type):  # pragma: no cover - recursive generics
            return parametrized
        metadata = parametrized.__pydantic_generic_metadata__
        if metadata["parameters"] or not metadata["args"]:
            return parametrized  # still generic: Envelope[T]
        with _NAMED_LOCK:  # one class per parametrization, even when threads race
            named = _NAMED.get(parametrized)
            if named is None:
                origin = metadata["origin"] or cls
                named = create_model(
                    _type_name(metadata["args"][0]) + origin.__name__,
                    __base__=parametrized,
                    __module__=origin.__module__,
                    __doc__=origin.__doc__,
                )
                _NAMED[parametrized] = named
        return named


def _is_none(value: Any) -> bool:
    return value is None


class FieldError(_WireModel):
    """One field-level problem: ``{"field": "items[2].qty", "message": "..."}``."""

    field: str | None
    message: str

    @classmethod
    def from_detail(cls, detail: ErrorDetail) -> FieldError:
        """Convert an [`ErrorDetail`][backendkit.errors.ErrorDetail]."""
        return cls(field=detail.field, message=detail.message)


class ErrorInfo(_WireModel):
    """The ``error`` object of an error envelope."""

    code: str
    message: str
    details: list[FieldError] = []
    request_id: str | None = None


class ErrorEnvelope(_WireModel):
    """``{"success": false, "error": {...}}``."""

    success: Literal[False] = False
    error: ErrorInfo


class Envelope(_NamedGeneric, Generic[T]):
    """``{"success": true, "data": ..., "message": ...}``; ``Envelope[User]`` is ``UserEnvelope``."""  # noqa: E501

    success: Literal[True] = True
    data: T
    message: str | None = None


class PageInfo(_WireModel):
    """The ``pagination`` object of an offset page; ``hasNext`` appears only without a count."""

    page: int
    per_page: int
    total: int | None
    total_pages: int | None
    has_next: bool | None = Field(None, exclude_if=_is_none)

    @model_validator(mode="after")
    def _has_next_only_without_count(self) -> PageInfo:
        # The counted form is exactly page/perPage/total/totalPages (the wire format).
        if self.total is not None:
            self.has_next = None
        return self


class PageEnvelope(_NamedGeneric, Generic[T]):
    """``{"success": true, "data": [...], "pagination": {...}}``; named ``UserPageEnvelope``."""

    success: Literal[True] = True
    data: list[T]
    pagination: PageInfo


class CursorInfo(_WireModel):
    """The ``pagination`` object of a cursor page."""

    per_page: int
    next_cursor: str | None
    prev_cursor: str | None
    has_next: bool
    has_prev: bool


class CursorPageEnvelope(_NamedGeneric, Generic[T]):
    """A cursor page envelope; ``CursorPageEnvelope[User]`` is ``UserCursorPageEnvelope``."""

    success: Literal[True] = True
    data: list[T]
    pagination: CursorInfo


class ProblemDetails(_WireModel):
    """RFC 9457 problem details with backendkit's extension members."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = Field(None, exclude_if=_is_none)
    code: str
    details: list[FieldError] = []
    request_id: str | None = None
