"""Reading JSON bodies and validating them into models, with errors a client may see.

Two steps, kept apart so adapters can use either:

1. [`parse_json`][backendkit.validation.parse_json] turns raw bytes into Python data. It
   checks the size first (``PAYLOAD_TOO_LARGE``), then UTF-8, then parses with
   pydantic-core (Rust, with its own depth limit); anything unreadable is ``BAD_REQUEST``.
2. [`validate`][backendkit.validation.validate] turns data into a model or raises
   [`ValidationFailed`][backendkit.errors.ValidationFailed] whose details name every failing
   field (``address.street``, ``items[2].qty``) with a message that never repeats the value.

[`validate_query`][backendkit.validation.validate_query] does the second step for a query
string, [`path_validator`][backendkit.validation.path_validator] for URL path parameters,
and [`error_details`][backendkit.validation.error_details] turns a pydantic error raised
elsewhere (a framework's own validation) into the same details. Models derive from
[`ApiModel`][backendkit.validation.ApiModel]: camelCase on the wire, unknown fields refused.

Parsing decisions (RFC 8259 leaves some of them to the implementation):

- ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON and are refused. A number literal too
  large for a float (``1e400``) becomes ``inf`` exactly as in the standard library;
  [`ApiModel`][backendkit.validation.ApiModel] float fields refuse non-finite values.
- Integers longer than 4300 digits are refused (the same bound CPython puts on ``int(str)``).
- Duplicate object keys: the last one wins, as in the standard library and most parsers.
- A UTF-8 byte-order mark is refused (RFC 8259 forbids sending one); so are lone surrogate
  escapes such as ``"\\ud800"``, which no UTF-8 encoder could write back out.
- Nesting is capped (64 levels by default): pydantic-core already stops at about 200
  levels with an error of its own, and the lower cap is checked on the parsed value level
  by level, never with recursion.
"""

from backendkit.validation._core import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    ApiModel,
    error_details,
    parse_json,
    path_validator,
    validate,
    validate_query,
)

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
