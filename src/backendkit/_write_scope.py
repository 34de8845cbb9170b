"""Read-your-writes: what one request (or one ``read_your_writes()`` block) has written.

A replica lags its primary, so a request that wrote must read the primary afterwards, or it
may not see its own write. The repository's routing session records here each write and
each read it sent to a replica, and asks here before sending a read to the replica; the
cache asks here before it stores a loaded value (``replica_safe``). It lives outside both
packages, on the standard library and the log context alone, so the cache needs no
SQLAlchemy to ask.

The scope is a mutable object in a context variable, so every session of the request sees
the same one, including sessions in tasks and threads started with a copy of the context:

* ``read_your_writes()`` opens one explicitly (a view, a background job, a test);
* without it, the first write or replica read of a request opens one for that request,
  keyed by the request id that every adapter's request cycle binds to the log context at
  the start of a request and clears at its end. A scope left behind in a worker thread's
  context therefore never applies to the thread's next request. This implicit scope lives
  in the context where it was opened: a write in a worker thread (FastAPI runs sync
  dependencies there) is not seen by the request's other tasks. Open ``read_your_writes()``
  around the request where that matters.
* Outside both (a script with no request), only the session that wrote reads the primary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from backendkit.logging import current_request_id

__all__ = ["has_written", "read_your_writes", "record_replica_read", "record_write", "replica_safe"]


@dataclass(slots=True)
class _Scope:
    request_id: str | None  # None: opened by read_your_writes()
    wrote: bool = False
    replica_read: bool = False


_scope: ContextVar[_Scope | None] = ContextVar("backendkit_read_your_writes", default=None)


def _current() -> _Scope | None:
    scope = _scope.get()
    if scope is None or scope.request_id is None:
        return scope
    return scope if scope.request_id == current_request_id() else None


def _opened() -> _Scope | None:
    scope = _current()
    if scope is None:
        request_id = current_request_id()
        if request_id is None:
            return None
        scope = _Scope(request_id)
        _scope.set(scope)
    return scope


@contextmanager
def read_your_writes() -> Iterator[None]:
    """Scope read-your-writes to this block: after a write anywhere in it (any session of
    a routed session factory), its reads go to the primary. Usable in sync and async code.

    Requests are scoped on their own (by request id); open this for work outside a request,
    or around a request whose writes happen in worker threads or child tasks.

    Example:
        ```python
        with read_your_writes():
            with UnitOfWork(sessions) as uow:
                UserRepository(uow.session).create({"email": "ann@example.com"})
            with sessions() as session:  # reads the primary: this block wrote
                UserRepository(session).get_many(ids)
        ```
    """
    token = _scope.set(_Scope(None))
    try:
        yield
    finally:
        _scope.reset(token)


def record_write() -> None:
    """A write was sent to the primary in the current scope."""
    scope = _opened()
    if scope is not None:
        scope.wrote = True


def record_replica_read() -> None:
    """A read was sent to the replica in the current scope."""
    scope = _opened()
    if scope is not None:
        scope.replica_read = True


def has_written() -> bool:
    """Whether the current scope has written (its reads then go to the primary)."""
    scope = _current()
    return scope is not None and scope.wrote


def replica_safe(_value: object = None) -> bool:
    """``False`` when the current scope both wrote and read from a replica: a value it
    loaded may predate its own write. The cache checks it before every store, so such a
    value is returned but never stored; it can also serve as any store's condition:

    ```python
    @cached(cache, ttl=60, condition=replica_safe)
    def get_user(user_id: int) -> UserOut: ...
    ```

    Reads after a write go to the primary; a replica read can still predate a write of the
    same scope (it ran first, or concurrently in another task), and then every store of
    the scope is skipped.
    """
    scope = _current()
    return scope is None or not (scope.wrote and scope.replica_read)
