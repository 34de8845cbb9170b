"""Paginated repositories on SQLAlchemy 2: safe filters and sorting, offset and keyset
paging, honest counts, transactions, read replicas with read-your-writes; sync and async;
SQLite, PostgreSQL and MySQL/MariaDB.

Install with ``pip install 'backendkit[sqlalchemy]'`` (plus ``[postgres]`` or ``[mysql]``
for those drivers).

Example:
    ```python
    class UserRepository(Repository[User]):
        filter_fields = {"email": FilterField(User.email, "eq", "search")}
        sort_fields = {"createdAt": User.created_at, "name": User.name}
        default_sort = "-createdAt"

    with UnitOfWork(session_factory) as uow:
        page = UserRepository(uow.session).list_page(PageParams(), filters=query)
    ```
"""

# Private aliases keep the package namespace exactly what __all__ lists.
from backendkit._extras import require as _require

_require("sqlalchemy", "sqlalchemy")

from backendkit._write_scope import read_your_writes, replica_safe
from backendkit.listing._filters import OPERATORS, RESERVED_QUERY_KEYS, Condition
from backendkit.listing._paging import COUNT_STRATEGIES, Counting
from backendkit.repository._async_repo import AsyncRepository
from backendkit.repository._base import Data, RepositoryBase
from backendkit.repository._engine import (
    build_async_engine,
    build_async_session_factory,
    build_engine,
    build_session_factory,
)
from backendkit.repository._errors import translate_errors, translate_exception
from backendkit.repository._filters import FilterField
from backendkit.repository._mixins import (
    SoftDeleteMixin,
    TimestampMixin,
    VersionMixin,
    utcnow,
)
from backendkit.repository._repo import Repository
from backendkit.repository._sorting import SortField, SortKey
from backendkit.repository._uow import AsyncUnitOfWork, UnitOfWork

__all__ = [
    "COUNT_STRATEGIES",
    "OPERATORS",
    "RESERVED_QUERY_KEYS",
    "AsyncRepository",
    "AsyncUnitOfWork",
    "Condition",
    "Counting",
    "Data",
    "FilterField",
    "Repository",
    "RepositoryBase",
    "SoftDeleteMixin",
    "SortField",
    "SortKey",
    "TimestampMixin",
    "UnitOfWork",
    "VersionMixin",
    "build_async_engine",
    "build_async_session_factory",
    "build_engine",
    "build_session_factory",
    "read_your_writes",
    "replica_safe",
    "translate_errors",
    "translate_exception",
    "utcnow",
]
