"""Write operations, written once as generators (see ``_steps``) for both repositories."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Integer, insert
from sqlalchemy.orm.interfaces import ORMOption

from backendkit.errors import Conflict, ErrorDetail, ValidationFailed
from backendkit.repository._columns import camel
from backendkit.repository._core import Data, RepositoryCore
from backendkit.repository._steps import Add, Delete, Execute, Flow, Flush
from backendkit.repository._upsert import (
    dedupe_rows,
    reread_statement,
    upsert_statement,
    upsert_supports_returning,
)

__all__ = ["WriteFlows"]

ModelT = TypeVar("ModelT")


class WriteFlows(RepositoryCore[ModelT]):
    """create, create_many, update, delete, upsert and upsert_many."""

    def _flow_create(self, data: Data | ModelT) -> Flow[ModelT]:
        obj = self._build(data)
        yield Add([obj])
        yield Flush()
        return obj

    def _flow_create_many(
        self, items: Iterable[Data | ModelT], chunk_size: int | None
    ) -> Flow[list[ModelT]]:
        size = chunk_size or self.chunk_size
        batch = list(items)
        if not batch:
            return []
        if any(isinstance(item, self.model) for item in batch):
            objects = [self._build(item) for item in batch]
            yield Add(objects)
            yield Flush()
            return objects
        rows = [self._as_values(item) for item in batch]
        created: list[ModelT] = []
        stmt = insert(self.model).returning(self.model, sort_by_parameter_order=True)
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            if self._rowid_ordered(chunk):
                # SQLite cannot batch an order-keeping RETURNING, so SQLAlchemy would send
                # one INSERT per row; one multi-row VALUES numbers the rows in order instead.
                values = insert(self.model).values(chunk).returning(self.model)
                result = yield Execute(values)
                pk_name = self._spec().primary_key_names[0]
                result = sorted(result, key=lambda obj: getattr(obj, pk_name))
            else:
                result = yield Execute(stmt, params=chunk)
            created.extend(result)
        return created

    def _rowid_ordered(self, chunk: Sequence[Mapping[str, Any]]) -> bool:
        spec = self._spec()
        if self.statements.dialect != "sqlite" or len(spec.primary_key) != 1:
            return False
        column = spec.primary_key[0]
        if column.type._type_affinity is not Integer or spec.primary_key_names[0] in chunk[0]:
            return False
        keys = set(chunk[0])
        return all(set(row) == keys for row in chunk)

    def _flow_update(
        self, target: ModelT | Any, data: Data, options: Sequence[ORMOption]
    ) -> Flow[ModelT]:
        spec = self._spec()
        changes = self._as_values(data)
        fixed = [name for name in changes if name in spec.primary_key_names]
        if fixed:
            raise ValidationFailed(
                "Read-only fields",
                details=[ErrorDetail(camel(name), "cannot be changed") for name in fixed],
            )
        if isinstance(target, self.model):
            obj: ModelT = target
        else:
            obj = yield from self._flow_require(target, options, False)
        if spec.version_name and spec.version_name in changes:
            expected = changes.pop(spec.version_name)
            if expected != getattr(obj, spec.version_name):
                raise Conflict(
                    "The record was changed by someone else; reload it and try again",
                    details=[ErrorDetail(camel(spec.version_name), "is out of date")],
                )
        for name, value in changes.items():
            setattr(obj, name, value)
        yield Flush()
        return obj

    def _flow_delete(self, target: ModelT | Any, hard: bool) -> Flow[None]:
        spec = self._spec()
        if isinstance(target, self.model):
            obj: Any = target
        else:
            obj = yield from self._flow_require(target, (), False)
        if spec.soft_delete_name and not hard:
            setattr(obj, spec.soft_delete_name, self._now())
        else:
            yield Delete(obj)
        yield Flush()

    def _flow_upsert(
        self,
        items: Sequence[Data],
        conflict: Sequence[str],
        update: Sequence[str] | None,
        chunk_size: int | None,
    ) -> Flow[list[ModelT]]:
        spec = self._spec()
        if not conflict:
            raise ValueError("upsert needs the conflict (unique) attribute names")
        unknown = [name for name in [*conflict, *(update or ())] if name not in spec.columns]
        if unknown:
            raise ValueError(f"not mapped columns of {self._name}: {unknown}")
        rows = [self._as_values(item) for item in items]
        missing = [name for name in conflict if any(name not in row for row in rows)]
        if missing:
            raise ValidationFailed(
                "Missing fields",
                details=[ErrorDetail(camel(name), "is required") for name in missing],
            )
        rows = dedupe_rows(rows, conflict)
        dialect = self.statements.dialect
        size = chunk_size or self.chunk_size
        result: list[ModelT] = []
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(sorted(row)), []).append(row)
        for group in groups.values():
            for start in range(0, len(group), size):
                chunk = group[start : start + size]
                stmt = upsert_statement(spec, dialect, chunk, conflict, update)
                if upsert_supports_returning(dialect):
                    found = yield Execute(stmt, options={"populate_existing": True})
                else:
                    yield Execute(stmt, "none")
                    found = yield Execute(reread_statement(spec, chunk, conflict))
                result.extend(found)
        by_key = {tuple(getattr(obj, name) for name in conflict): obj for obj in result}
        ordered = []
        for row in rows:
            key = tuple(row[name] for name in conflict)
            if key in by_key:
                ordered.append(by_key[key])
        # Keys the database normalised (case-insensitive collations) may not match exactly.
        return ordered if len(ordered) == len(result) else result
