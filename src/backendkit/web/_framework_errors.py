"""A framework's own errors as the catalogue's: its HTTP errors (route misses, wrong
methods, ``abort(409)``) and its validation errors of located request values.

Example:
    >>> error = framework_error(404, "Not Found")  # the stock phrase: the catalogue's words
    >>> error.code, error.message
    ('NOT_FOUND', 'The requested resource was not found')
    >>> error = request_validation_error(
    ...     [{"type": "int_parsing", "loc": ("path", "note_id"), "msg": "Not an integer"}]
    ... )
    >>> error.code, error.details[0].field
    ('VALIDATION_ERROR', 'noteId')
"""

from __future__ import annotations

import http
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic.alias_generators import to_camel

from backendkit.errors import AppError, BadRequest
from backendkit.validation._details import error_details, validation_failed
from backendkit.web._errors import error_for_status

__all__ = ["framework_error", "request_validation_error"]

_PHRASES = {status.value: status.phrase for status in http.HTTPStatus}
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def framework_error(
    status: int,
    detail: object = None,
    *,
    stock: str | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
) -> AppError:
    """[`error_for_status`][backendkit.web.error_for_status] for a framework's HTTP error.

    ``detail`` is the message when it is text the app wrote, not the framework's ``stock``
    wording for the status (by default the HTTP reason phrase): that gives way to the
    catalogue's message. The framework's headers travel (``Allow``, ``WWW-Authenticate``),
    except ``Content-Type``: the error's body has its own.
    """
    stock = _PHRASES.get(status) if stock is None else stock
    message = detail if isinstance(detail, str) and detail != stock else None
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    kept = {name: value for name, value in pairs if name.lower() != "content-type"}
    return error_for_status(status, message=message, headers=kept)


def request_validation_error(errors: Iterable[Mapping[str, Any]]) -> AppError:
    """The error for pydantic-style ``errors`` whose location starts with where the value
    came from (``("query", "per_page")``, ``("body", "email")``, as FastAPI reports them).

    A body that is not JSON at all is ``400 BAD_REQUEST``; otherwise ``400
    VALIDATION_ERROR`` with the fields named as on the wire: the source goes, and path and
    query parameter names are camelCase like body fields (``perPage``; aliases stay).
    """
    located = [dict(error) for error in errors]
    if any(error.get("type") == "json_invalid" for error in located):
        return BadRequest("The request body is not valid JSON")
    for error in located:
        error["loc"] = _wire_loc(tuple(error.get("loc", ())))
    # The inputs stay in: error_details uses them to spot messages that would echo them.
    return validation_failed(error_details(located))


def _wire_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    if not loc or loc[0] not in _SOURCES:
        return loc
    rest = loc[1:]
    if loc[0] in ("query", "path") and rest and isinstance(rest[0], str) and "_" in rest[0]:
        return (to_camel(rest[0]), *rest[1:])
    return rest
