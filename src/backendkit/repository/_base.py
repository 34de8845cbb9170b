"""What both repositories share: configuration, statement building and every operation.

Operations are generators (see ``_steps``) so their logic exists once; ``Repository`` and
``AsyncRepository`` only drive them against a ``Session`` or an ``AsyncSession``.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeAlias, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Integer, insert, inspect
from sqlalchemy.orm import ColumnProperty, Mapper
from sqlalchemy.orm.interfaces import ORMOption

from backendkit._listing import CursorState
from backendkit.clock import Clock, system_clock
from backendkit.cursor import CursorCodec, cursor_binding
from backendkit.errors import ConfigurationError, Conflict, ErrorDetail, NotFound, ValidationFailed
from backendkit.pagination import CursorPage, CursorParams, Page, PageParams
from backendkit.repository._columns import camel, primary_key
from backendkit.repository._counting import Counting, estimate_flow
from backendkit.repository._filters import Condition, FilterField, parse_filters
from backendkit.repository._sorting import (
    SortField,
    SortKey,
    canonical_sort,
    parse_sort,
    resolve_sort,
)
from backendkit.repository._statements import RepositorySpec, Statements
from backendkit.repository._steps import Add, Delete, Execute, Flow, Flush
from backendkit.repository._upsert import (
    dedupe_rows,
    reread_statement,
    upsert_statement,
    upsert_supports_returning,
)

__all__ = ["Data", "RepositoryBase"]

ModelT = TypeVar("ModelT")

#: What create/update accept: a mapping of attribute names, or a pydantic model
#: (only the fields that were set are used).
Data: TypeAlias = "Mapping[str, Any] | BaseModel"

_DEFAULT_MAX_OFFSET = 10_000
_DEFAULT_ESTIMATE_THRESHOLD = 10_000
_DEFAULT_CHUNK_SIZE = 500


class RepositoryBase(Generic[ModelT]):
    """Configuration and shared operations; subclass ``Repository`` or ``AsyncRepository``.

    Class attributes:
        model: The mapped class; inferred from ``Repository[User]`` when not set.
        filter_fields: Wire name -> [`FilterField`][backendkit.repository.FilterField] (or a
            column, allowing ``eq`` and ``in``). Nothing else can be filtered on.
        sort_fields: Wire name -> [`SortField`][backendkit.repository.SortField] (or a
            column). Nothing else can be sorted on; the primary key always breaks ties.
        default_sort: Sort used when the client gives none, e.g. ``"-createdAt"``.
        max_offset: Largest row offset page-number paging accepts (``None``: no limit).
        estimate_threshold: Below this planner estimate, ``estimated`` counts exactly.
        load_options: Loader options (``selectinload(...)``) applied to every query.
        chunk_size: Rows per statement in ``create_many`` and ``upsert_many``.
    """

    model: ClassVar[type[Any]]
    filter_fields: ClassVar[Mapping[str, Any]] = {}
    sort_fields: ClassVar[Mapping[str, Any]] = {}
    default_sort: ClassVar[str | None] = None
    max_offset: ClassVar[int | None] = _DEFAULT_MAX_OFFSET
    estimate_threshold: ClassVar[int] = _DEFAULT_ESTIMATE_THRESHOLD
    load_options: ClassVar[Sequence[ORMOption]] = ()
    chunk_size: ClassVar[int] = _DEFAULT_CHUNK_SIZE

    _spec_cache: ClassVar[RepositorySpec[Any] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._spec_cache = None
        if "model" not in cls.__dict__:
            inferred = _model_from_generic(cls)
            if inferred is not None:
                cls.model = inferred

    def __init__(
        self,
        *,
        cursor_codec: CursorCodec | None = None,
        clock: Clock = system_clock,
        dialect: str,
    ) -> None:
        self._require_model()
        self.cursor_codec = cursor_codec
        self.clock = clock
        self.statements: Statements[ModelT] = Statements(self._spec(), dialect)

    # -- configuration ----------------------------------------------------------------
    @classmethod
    def _require_model(cls) -> type[Any]:
        model: type[Any] | None = getattr(cls, "model", None)
        if model is None:
            raise ConfigurationError(
                f"{cls.__name__} needs a model: subclass Repository[Model] "
                "or set the `model` class attribute"
            )
        return model

    @classmethod
    def _spec(cls) -> RepositorySpec[ModelT]:
        if cls._spec_cache is None:
            cls._spec_cache = _build_spec(cls)
        return cls._spec_cache

    @property
    def _name(self) -> str:
        return str(self.model.__name__)

    def parse_filters(self, query: Mapping[str, Any] | None) -> tuple[Condition, ...]:
        """Parse a query mapping against ``filter_fields`` (paging keys are skipped).

        Raises:
            ValidationFailed: an unknown field, a bad operator or a wrongly typed value.
        """
        if not query:
            return ()
        return parse_filters(query, self._spec().filters)

    def sort_keys(self, sort: str | None) -> tuple[SortKey, ...]:
        """Resolve a sort such as ``"-createdAt,name"``; the primary key is appended.

        Raises:
            ValidationFailed: naming ``sort`` for a field that is not allowlisted.
        """
        spec = self._spec()
        parsed = parse_sort(sort, spec.sorts, default=spec.default_sort)
        return resolve_sort(parsed, spec.sorts, spec.primary_key)

    def _select(
        self,
        where: Sequence[ColumnElement[bool]],
        filters: Mapping[str, Any] | None,
        include_deleted: bool,
    ) -> tuple[Any, tuple[Condition, ...]]:
        conditions = self.parse_filters(filters)
        base = self.statements.base(where, conditions, include_deleted=include_deleted)
        return base, conditions

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.now(), dt.timezone.utc)

    # -- reading ----------------------------------------------------------------------
    def _flow_get(
        self, ident: Any, options: Sequence[ORMOption], include_deleted: bool
    ) -> Flow[ModelT | None]:
        stmt = self.statements.base(include_deleted=include_deleted).where(
            self.statements.identity(ident)
        )
        found = yield Execute(self.statements.with_options(stmt, options))
        return found[0] if found else None

    def _flow_require(
        self, ident: Any, options: Sequence[ORMOption], include_deleted: bool
    ) -> Flow[ModelT]:
        obj = yield from self._flow_get(ident, options, include_deleted)
        if obj is None:
            raise NotFound(f"{self._name} not found")
        return obj

    def _flow_get_many(
        self, idents: Iterable[Any], options: Sequence[ORMOption], include_deleted: bool
    ) -> Flow[list[ModelT]]:
        wanted = list(dict.fromkeys(_hashable(ident) for ident in idents))
        if not wanted:
            return []
        stmt = self.statements.base(include_deleted=include_deleted).where(
            self.statements.identities(wanted)
        )
        found: list[ModelT] = yield Execute(self.statements.with_options(stmt, options))
        by_id = {self._identity_of(obj): obj for obj in found}
        return [by_id[ident] for ident in wanted if ident in by_id]

    def _identity_of(self, obj: Any) -> Any:
        names = self._spec().primary_key_names
        if len(names) == 1:
            return getattr(obj, names[0])
        return tuple(getattr(obj, name) for name in names)

    def _flow_exists(
        self,
        where: Sequence[ColumnElement[bool]],
        filters: Mapping[str, Any] | None,
        include_deleted: bool,
    ) -> Flow[bool]:
        base, _ = self._select(where, filters, include_deleted)
        found = yield Execute(self.statements.exists(base), "scalar")
        return bool(found)

    def _flow_count(
        self,
        where: Sequence[ColumnElement[bool]],
        filters: Mapping[str, Any] | None,
        include_deleted: bool,
    ) -> Flow[int]:
        base, _ = self._select(where, filters, include_deleted)
        total = yield Execute(self.statements.count(base), "scalar")
        return int(total)

    def _flow_list(
        self,
        where: Sequence[ColumnElement[bool]],
        filters: Mapping[str, Any] | None,
        sort: str | None,
        limit: int | None,
        options: Sequence[ORMOption],
        include_deleted: bool,
    ) -> Flow[list[ModelT]]:
        base, _ = self._select(where, filters, include_deleted)
        stmt = self.statements.ordered(base, self.sort_keys(sort))
        if limit is not None:
            stmt = stmt.limit(limit)
        found: list[ModelT] = yield Execute(self.statements.with_options(stmt, options))
        return found

    def _flow_page(
        self,
        params: PageParams,
        where: Sequence[ColumnElement[bool]],
        filters: Mapping[str, Any] | None,
        sort: str | None,
        count: Counting,
        options: Sequence[ORMOption],
        include_deleted: bool,
    ) -> Flow[Page[ModelT]]:
        per_page = params.per_page
        offset = (params.page - 1) * per_page
        limit = self.max_offset
        if limit is not None and offset > limit:
            raise ValidationFailed(
                "Page out of range",
                details=[ErrorDetail("page", f"must be at most {limit // per_page + 1}")],
            )
        keys = self.sort_keys(sort)
        base, _ = self._select(where, filters, include_deleted)
        fetch = per_page if count == "exact" else per_page + 1
        stmt = self.statements.with_options(
            self.statements.offset_page(base, keys, offset, fetch), options
        )
        rows: list[ModelT] = yield Execute(stmt)
        items = rows[:per_page]
        # A short, non-empty page (or an empty first page) tells the exact total for free.
        known = (
            offset + len(items)
            if (items and len(rows) < per_page) or (offset == 0 and not rows)
            else None
        )
        if count == "none":
            return Page(items, params.page, per_page, None, len(rows) > per_page)
        if count == "exact":
            total = known
            if total is None:
                total = int((yield Execute(self.statements.count(base), "scalar")))
            return Page(items, params.page, per_page, total, offset + len(items) < total)
        if count != "estimated":
            raise ValueError(f"unknown count strategy {count!r}")
        has_next = len(rows) > per_page
        total = known
        if total is None:
            total = yield from estimate_flow(self.statements, base, self.estimate_threshold)
            if items:  # an estimate may be stale: never contradict what this page shows
                total = max(total, offset + len(items) + (1 if has_next else 0))
        return Page(items, params.page, per_page, total, has_next)

    def _binding(self, keys: Sequence[SortKey], conditions: Sequence[Condition]) -> str:
        table = getattr(self.model, "__tablename__", self._name)
        return cursor_binding(
            canonical_sort(keys), [c.canonical() for c in conditions], scope=f"repo:{table}"
        )

    def _flow_cursor(
        self,
        params: CursorParams,
        where: Sequence[ColumnElement[bool]],
        filters: Mapping[str, Any] | None,
        sort: str | None,
        options: Sequence[ORMOption],
        include_deleted: bool,
    ) -> Flow[CursorPage[ModelT]]:
        codec = self.cursor_codec
        if codec is None:
            raise ConfigurationError(
                f"{type(self).__name__} needs cursor_codec=CursorCodec(...) for list_cursor"
            )
        keys = self.sort_keys(sort)
        base, conditions = self._select(where, filters, include_deleted)
        binding = self._binding(keys, conditions)
        state: CursorState | None = None
        if params.cursor:
            state = CursorState.from_payload(
                codec.decode(params.cursor, binding=binding), len(keys)
            )
        backward = state is not None and state.backward
        walk = [key.reversed() for key in keys] if backward else list(keys)
        per_page = params.per_page
        stmt = self.statements.keyset_page(
            base,
            walk,
            None if state is None else state.values,
            per_page + 1,
            inclusive=state is not None and state.inclusive,
        )
        rows = yield Execute(self.statements.with_options(stmt, options), "rows")
        more = len(rows) > per_page
        rows = list(rows[:per_page])
        if backward:
            rows.reverse()
        items: list[ModelT] = [row[0] for row in rows]
        key_values = [tuple(row[1:]) for row in rows]

        def token(values: Sequence[Any], back: bool, inclusive: bool = False) -> str:
            payload = CursorState(tuple(values), back, inclusive).to_payload()
            return codec.encode(payload, binding=binding)

        has_next = True if backward else more
        has_prev = more if backward else state is not None
        next_cursor = prev_cursor = None
        if key_values:
            if has_next:
                next_cursor = token(key_values[-1], False)
            if has_prev:
                prev_cursor = token(key_values[0], True)
        elif state is not None:
            # Nothing beyond the cursor (rows were deleted, or the end was reached): offer
            # the way back, starting at the cursor's own row.
            if backward:
                has_prev = False
                next_cursor = token(state.values, False, True)
            else:
                has_next = False
                prev_cursor = token(state.values, True, True)
        return CursorPage(items, per_page, next_cursor, prev_cursor, has_next, has_prev)

    # -- writing ----------------------------------------------------------------------
    def _as_values(self, data: Data | ModelT) -> dict[str, Any]:
        if isinstance(data, BaseModel):
            values = data.model_dump(exclude_unset=True)
        elif isinstance(data, Mapping):
            values = dict(data)
        else:
            raise TypeError(f"expected a mapping or a pydantic model, got {type(data).__name__}")
        allowed = self._spec().columns | _relationship_names(self.model)
        unknown = [name for name in values if name not in allowed]
        if unknown:
            raise ValidationFailed(
                "Unknown fields",
                details=[ErrorDetail(camel(name), "is not a known field") for name in unknown],
            )
        return values

    def _build(self, data: Data | ModelT) -> ModelT:
        if isinstance(data, self.model):
            return cast(ModelT, data)
        obj: ModelT = self.model(**self._as_values(data))
        return obj

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


def _hashable(ident: Any) -> Any:
    return tuple(ident) if isinstance(ident, list) else ident


def _relationship_names(model: type[Any]) -> frozenset[str]:
    mapper: Mapper[Any] = inspect(model)
    return frozenset(rel.key for rel in mapper.relationships)


def _model_from_generic(cls: type[Any]) -> type[Any] | None:
    for base in getattr(cls, "__orig_bases__", ()):
        origin = typing.get_origin(base)
        if isinstance(origin, type) and issubclass(origin, RepositoryBase):
            for arg in typing.get_args(base):
                if isinstance(arg, type):
                    return arg
    return None


def _as_sort_field(value: Any) -> SortField:
    return value if isinstance(value, SortField) else SortField(value)


def _as_filter_field(value: Any) -> FilterField:
    return value if isinstance(value, FilterField) else FilterField(value)


def _build_spec(cls: type[RepositoryBase[Any]]) -> RepositorySpec[Any]:
    from backendkit.repository._mixins import SoftDeleteMixin, TimestampMixin, VersionMixin

    model = cls.model
    mapper: Mapper[Any] = inspect(model)
    pk = primary_key(model)
    pk_names = tuple(mapper.get_property_by_column(column).key for column in pk)
    columns = frozenset(prop.key for prop in mapper.attrs if isinstance(prop, ColumnProperty))
    soft = issubclass(model, SoftDeleteMixin)
    return RepositorySpec(
        model=model,
        primary_key=pk,
        primary_key_names=pk_names,
        filters={name: _as_filter_field(v) for name, v in cls.filter_fields.items()},
        sorts={name: _as_sort_field(v) for name, v in cls.sort_fields.items()},
        default_sort=cls.default_sort,
        columns=columns,
        soft_delete=model.deleted_at.expression if soft else None,
        soft_delete_name="deleted_at" if soft else None,
        version_name="version" if issubclass(model, VersionMixin) else None,
        updated_at_name="updated_at" if issubclass(model, TimestampMixin) else None,
        options=tuple(cls.load_options),
    )
