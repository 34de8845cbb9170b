"""A repository's configuration: its model, allowlists, statement builder and helpers.

The operations themselves are in ``_reads`` and ``_writes``; ``_base`` puts them together.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Hashable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, Generic, TypeAlias, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy import ColumnElement, inspect
from sqlalchemy.orm import ColumnProperty, Mapper
from sqlalchemy.orm.interfaces import ORMOption

from backendkit.clock import Clock, system_clock
from backendkit.errors import ConfigurationError, ErrorDetail, NotFound, ValidationFailed
from backendkit.listing import CursorCodec
from backendkit.listing._filters import Condition, parse_filters
from backendkit.listing._paging import DEFAULT_ESTIMATE_THRESHOLD, DEFAULT_MAX_OFFSET
from backendkit.listing._sort import parse_sort
from backendkit.repository._columns import camel, primary_key
from backendkit.repository._filters import FilterField
from backendkit.repository._many import DEFAULT_IDS_PER_STATEMENT
from backendkit.repository._sorting import SortField, SortKey, resolve_sort
from backendkit.repository._statements import RepositorySpec, Statements
from backendkit.repository._steps import Execute, Flow

__all__ = ["Data", "RepositoryCore"]

ModelT = TypeVar("ModelT")

#: What create/update accept: a mapping of attribute names, or a pydantic model
#: (only the fields that were set are used).
Data: TypeAlias = "Mapping[str, Any] | BaseModel"

_DEFAULT_CHUNK_SIZE = 500
_MAX_SORT_TEXT = 200


class RepositoryCore(Generic[ModelT]):
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
        get_many_chunk_size: Ids per ``IN`` statement in ``get_many`` (PostgreSQL sends
            them all in one array; SQLite's parameter limit may lower it).
    """

    model: ClassVar[type[Any]]
    filter_fields: ClassVar[Mapping[str, Any]] = {}
    sort_fields: ClassVar[Mapping[str, Any]] = {}
    default_sort: ClassVar[str | None] = None
    max_offset: ClassVar[int | None] = DEFAULT_MAX_OFFSET
    estimate_threshold: ClassVar[int] = DEFAULT_ESTIMATE_THRESHOLD
    load_options: ClassVar[Sequence[ORMOption]] = ()
    chunk_size: ClassVar[int] = _DEFAULT_CHUNK_SIZE
    get_many_chunk_size: ClassVar[int] = DEFAULT_IDS_PER_STATEMENT

    _spec_cache: ClassVar[RepositorySpec[Any] | None] = None
    _statements_cache: ClassVar[dict[str, Statements[Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._spec_cache = None
        cls._statements_cache = {}
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
        self.statements: Statements[ModelT] = self._statements_for(dialect)

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
            cls._statements_cache = {}
        return cls._spec_cache

    @classmethod
    def _statements_for(cls, dialect: str) -> Statements[ModelT]:
        # One builder per class and dialect, so its caches outlive each request's repository.
        spec = cls._spec()
        found = cls._statements_cache.get(dialect)
        if found is None:
            found = cls._statements_cache[dialect] = Statements(spec, dialect)
        return found

    def _unique(self, options: Sequence[ORMOption]) -> bool:
        # Joined eager loads of collections repeat rows; only then are results de-duplicated.
        return bool(options) or self._spec().eager

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

        def build() -> tuple[SortKey, ...]:
            parsed = parse_sort(sort, spec.sorts, default=spec.default_sort)
            return resolve_sort(parsed, spec.sorts, spec.primary_key)

        if sort is not None and len(sort) > _MAX_SORT_TEXT:
            return build()  # refused there; not worth a cache entry
        return self.statements._memo(("sort", sort), build)

    def _select(
        self,
        where: Sequence[ColumnElement[bool]],
        filters: Mapping[str, Any] | None,
        include_deleted: bool,
    ) -> tuple[Any, tuple[Condition, ...], Hashable]:
        """The base query, the parsed filters, and a cache key when the base is a fixed one."""
        conditions = self.parse_filters(filters)
        if not where and not conditions:
            key = ("plain", include_deleted)
            build = partial(self.statements.base, include_deleted=include_deleted)
            return self.statements._memo(("base", key), build), conditions, key
        base = self.statements.base(where, conditions, include_deleted=include_deleted)
        return base, conditions, None

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.now(), dt.timezone.utc)

    # -- shared by reads and writes --------------------------------------------------
    def _flow_get(
        self, ident: Any, options: Sequence[ORMOption], include_deleted: bool
    ) -> Flow[ModelT | None]:
        stmt = self.statements.base(include_deleted=include_deleted).where(
            self.statements.identity(ident)
        )
        found = yield Execute(
            self.statements.with_options(stmt, options), unique=self._unique(options)
        )
        return found[0] if found else None

    def _flow_require(
        self, ident: Any, options: Sequence[ORMOption], include_deleted: bool
    ) -> Flow[ModelT]:
        obj = yield from self._flow_get(ident, options, include_deleted)
        if obj is None:
            raise NotFound(f"{self._name} not found")
        return obj

    def _identity_of(self, obj: Any) -> Any:
        names = self._spec().primary_key_names
        if len(names) == 1:
            return getattr(obj, names[0])
        return tuple(getattr(obj, name) for name in names)

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


def _relationship_names(model: type[Any]) -> frozenset[str]:
    mapper: Mapper[Any] = inspect(model)
    return frozenset(rel.key for rel in mapper.relationships)


def _model_from_generic(cls: type[Any]) -> type[Any] | None:
    for base in getattr(cls, "__orig_bases__", ()):
        origin = typing.get_origin(base)
        if isinstance(origin, type) and issubclass(origin, RepositoryCore):
            for arg in typing.get_args(base):
                if isinstance(arg, type):
                    return arg
    return None


def _as_sort_field(value: Any) -> SortField:
    return value if isinstance(value, SortField) else SortField(value)


def _as_filter_field(value: Any) -> FilterField:
    return value if isinstance(value, FilterField) else FilterField(value)


def _build_spec(cls: type[RepositoryCore[Any]]) -> RepositorySpec[Any]:
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
        eager=bool(cls.load_options) or any(rel.lazy == "joined" for rel in mapper.relationships),
    )
