"""``get_many``'s plan, without I/O: the ids checked, typed and de-duplicated, the statements
to send (one on PostgreSQL, one per chunk elsewhere), and the rows put back in the order
asked with the ids nothing was found for.

Both repositories run the same plan; only the ``Execute`` steps differ (see ``_steps``).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeAlias

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic.errors import PydanticSchemaGenerationError
from sqlalchemy import ColumnElement

from backendkit.errors import ErrorDetail, NotFound, ValidationFailed
from backendkit.repository._columns import declared_python_type
from backendkit.repository._statements import Statements

__all__ = [
    "DEFAULT_IDS_PER_STATEMENT",
    "MISSING_POLICIES",
    "NAMED_AT_MOST",
    "ManyPlan",
    "Missing",
    "ids_per_statement",
    "missing_error",
    "plan_many",
]

#: What ``get_many`` does about ids with no row: raise ``NotFound``, or leave them out.
Missing: TypeAlias = Literal["raise", "omit"]
MISSING_POLICIES: frozenset[str] = frozenset(("raise", "omit"))

#: Ids per ``IN`` statement where a long list is chunked (every database but PostgreSQL).
#: Below SQLite's limit of 32,766 host parameters (3.32 and later), with room for a
#: composite key of three columns; and well below the point where MySQL's range optimizer
#: runs out of its memory budget (``range_optimizer_max_mem_size``, 8 MB: some tens of
#: thousands of values) and falls back to a full table scan. The statement itself stays a
#: few hundred kilobytes, far from ``max_allowed_packet``.
DEFAULT_IDS_PER_STATEMENT = 10_000

#: How many ids (missing or invalid) an error names one by one; the rest are counted.
NAMED_AT_MOST = 10

# An id is repeated in a message only when it is a number, a UUID or a string of this
# shape: any other text is the client's own and is never echoed (markup, a secret).
_SHOWABLE_TEXT = re.compile(r"[A-Za-z0-9_.:@+-]{1,64}")
_FIELD = "ids"
_TYPE_WORDS: Mapping[type[Any], str] = {
    int: "integer",
    str: "string",
    uuid.UUID: "UUID",
    Decimal: "number",
    float: "number",
    dt.datetime: "date-time",
    dt.date: "date",
}


def ids_per_statement(dialect: str, key_width: int, wanted: int) -> int | None:
    """Ids per statement: ``None`` on PostgreSQL (one array for all), else ``wanted``,
    lowered on SQLite to fit its host parameters (one per key column of each id)."""
    if dialect == "postgresql":
        return None
    if dialect == "sqlite":
        wanted = min(wanted, _sqlite_parameters() // key_width)
    return max(1, wanted)


def _sqlite_parameters() -> int:
    # Imported here: a SQLite engine has loaded the module already, other databases never
    # need it. SQLite before 3.32 accepts 999 host parameters per statement, later 32,766.
    import sqlite3

    return 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


@dataclass(frozen=True, slots=True)
class ManyPlan:
    """The distinct ids asked (typed), where each first appeared, and each statement's
    parameters."""

    ids: tuple[Any, ...]
    positions: tuple[int, ...]
    batches: tuple[dict[str, Any], ...]

    def match(
        self, found: Iterable[Any], identity_of: Callable[[Any], Any]
    ) -> tuple[list[Any], list[int]]:
        """The rows in the order of ``ids`` (each row once), and the indexes of the ids
        with no row."""
        by_id: dict[Any, Any] = {}
        for obj in found:
            by_id.setdefault(identity_of(obj), obj)
        chosen = {i: by_id[ident] for i, ident in enumerate(self.ids) if ident in by_id}
        absent = [i for i in range(len(self.ids)) if i not in chosen]
        if absent and len(by_id) > len(self.ids) - len(absent):
            # Rows that equal no id asked: the database compared as its collation does
            # (case-insensitive, trailing spaces ignored: MySQL's defaults, SQLite's NOCASE).
            # They answer the remaining ids compared the same way.
            asked = set(self.ids)
            folded: dict[Any, Any] = {}
            for key, obj in by_id.items():
                if key not in asked:
                    folded.setdefault(_fold(key), obj)
            for i in absent:
                if _fold(self.ids[i]) in folded:
                    chosen[i] = folded[_fold(self.ids[i])]
            absent = [i for i in absent if i not in chosen]
        rows: list[Any] = []
        seen: set[int] = set()
        for i in range(len(self.ids)):
            obj = chosen.get(i)
            if obj is not None and id(obj) not in seen:
                seen.add(id(obj))
                rows.append(obj)
        return rows, absent


def plan_many(statements: Statements[Any], idents: Iterable[Any], chunk_size: int) -> ManyPlan:
    """Check, type and de-duplicate ``idents``, and split them into statements.

    Raises:
        ValidationFailed: ``idents`` is not a list of ids, or some id is of the wrong type
            (field ``ids[i]``, or ``ids[i][j]`` for a part of a composite key).
    """
    if isinstance(idents, (str, bytes, bytearray, Mapping)) or not isinstance(idents, Iterable):
        raise ValidationFailed(
            "Invalid ids", details=[ErrorDetail(_FIELD, "must be a list of ids")]
        )
    raw = list(idents)
    columns = statements.spec.primary_key
    typed = _validated(raw, columns)
    first: dict[Any, int] = {}
    for position, ident in enumerate(typed):
        first.setdefault(ident, position)
    ids = tuple(first)
    size = ids_per_statement(statements.dialect, len(columns), chunk_size)
    chunks = [ids] if size is None else [ids[at : at + size] for at in range(0, len(ids), size)]
    batches = tuple(statements.identity_params(chunk) for chunk in chunks if chunk)
    return ManyPlan(ids, tuple(first.values()), batches)


def missing_error(name: str, plan: ManyPlan, absent: Sequence[int]) -> NotFound:
    """``NotFound`` naming (up to ``NAMED_AT_MOST``) the ids with no row, by position."""
    details = []
    for i in absent[:NAMED_AT_MOST]:
        shown = _shown(plan.ids[i])
        message = f"{name} {shown} not found" if shown else f"{name} not found"
        details.append(ErrorDetail(f"{_FIELD}[{plan.positions[i]}]", message))
    if len(absent) > NAMED_AT_MOST:
        more = len(absent) - NAMED_AT_MOST
        details.append(ErrorDetail(_FIELD, f"{more} more ids not found"))
    return NotFound(
        f"{name} not found for {len(absent)} of the {len(plan.ids)} ids asked", details=details
    )


# -- checking ids --------------------------------------------------------------------
_ADAPTERS: dict[tuple[type[Any] | None, ...], TypeAdapter[Any] | None] = {}


def _adapter(types: tuple[type[Any] | None, ...]) -> TypeAdapter[Any] | None:
    if types not in _ADAPTERS:
        parts = [Any if kind is None else kind for kind in types]
        item: Any = parts[0] if len(parts) == 1 else tuple[tuple(parts)]  # type: ignore[misc]
        try:
            _ADAPTERS[types] = TypeAdapter(list[item])
        except PydanticSchemaGenerationError:
            _ADAPTERS[types] = None  # a type pydantic cannot check: values pass as given
    return _ADAPTERS[types]


def _validated(raw: list[Any], columns: Sequence[ColumnElement[Any]]) -> list[Any]:
    types = tuple(declared_python_type(column) for column in columns)
    problems: dict[int, ErrorDetail] = {}
    composite = len(types) > 1
    for position, ident in enumerate(raw):
        if composite and not isinstance(ident, (tuple, list)):
            continue  # pydantic names it: not a list of the key's values
        parts = ident if composite else (ident,)
        for index, (part, kind) in enumerate(zip(parts, types, strict=False)):
            message = _precheck(part, kind)
            if message:
                field = _part_field(position, index if composite else None)
                problems.setdefault(position, ErrorDetail(field, message))
                break
    adapter = _adapter(types)
    typed = raw
    if adapter is not None:
        try:
            typed = adapter.validate_python(raw)
        except PydanticValidationError as error:
            for entry in error.errors(include_url=False, include_input=False):
                position = int(entry["loc"][0])
                problems.setdefault(position, _problem(entry, types))
    if problems:
        ordered = [problems[position] for position in sorted(problems)]
        details = ordered[:NAMED_AT_MOST]
        if len(ordered) > NAMED_AT_MOST:
            more = len(ordered) - NAMED_AT_MOST
            details.append(ErrorDetail(_FIELD, f"{more} more ids are invalid"))
        raise ValidationFailed("Invalid ids", details=details)
    if composite:
        return [tuple(ident) for ident in typed]
    return list(typed)


def _precheck(part: Any, kind: type[Any] | None) -> str | None:
    # A list or a mapping is no key value, whatever the column type (and cannot be hashed).
    if not isinstance(part, Hashable):
        return f"must be a valid {_word(kind)}"
    # pydantic's lax mode reads True as 1; an id is never a boolean unless the key is one.
    if isinstance(part, bool) and kind is not None and kind is not bool:
        return f"must be a valid {_word(kind)}"
    # PostgreSQL text cannot hold NUL: refused here, like a filter value, not by the driver.
    if isinstance(part, str) and "\x00" in part:
        return "must not contain NUL characters"
    return None


def _problem(entry: Any, types: tuple[type[Any] | None, ...]) -> ErrorDetail:
    loc = entry["loc"]
    position = int(loc[0])
    if len(types) == 1:
        return ErrorDetail(_part_field(position, None), f"must be a valid {_word(types[0])}")
    if len(loc) > 1 and entry["type"] != "missing":
        index = int(loc[1])
        return ErrorDetail(_part_field(position, index), f"must be a valid {_word(types[index])}")
    return ErrorDetail(_part_field(position, None), f"must be a list of {len(types)} values")


def _part_field(position: int, index: int | None) -> str:
    return f"{_FIELD}[{position}]" if index is None else f"{_FIELD}[{position}][{index}]"


def _word(kind: type[Any] | None) -> str:
    return _TYPE_WORDS.get(kind, "value") if kind is not None else "value"


# -- matching and showing ids --------------------------------------------------------
def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold().rstrip(" ")
    if isinstance(value, tuple):
        return tuple(_fold(part) for part in value)
    return value


def _shown(value: Any) -> str | None:
    if isinstance(value, tuple):
        parts = [_shown(part) for part in value]
        if any(part is None for part in parts):
            return None
        return "(" + ", ".join(str(part) for part in parts) + ")"
    if isinstance(value, (int, uuid.UUID, Decimal)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and _SHOWABLE_TEXT.fullmatch(value):
        return value
    return None
