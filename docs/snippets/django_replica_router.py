"""routers.py: Django reads from a replica, writes and what must see them from the primary.

Self-checking when run on its own: two SQLite databases stand in for primary and replica,
and the checks look at where Django sends each query (``QuerySet.db``), not at replication.
"""

from __future__ import annotations

import django
from django.conf import settings

# --8<-- [start:settings]
# settings.py
PRIMARY = {"ENGINE": "django.db.backends.postgresql", "HOST": "db-primary", "NAME": "app"}
DATABASES = {
    "default": PRIMARY,
    # Tests use the primary for both (one test database, no replication needed).
    "replica": {**PRIMARY, "HOST": "db-replica", "TEST": {"MIRROR": "default"}},
}
DATABASE_ROUTERS = ["myproject.routers.PrimaryReplicaRouter"]
MIDDLEWARE = [
    "backendkit.adapters.django.BackendKitMiddleware",
    "myproject.routers.read_your_writes",
    # ...
]
# --8<-- [end:settings]

if not settings.configured:  # run on its own
    settings.configure(
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
            "replica": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        },
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        DATABASE_ROUTERS=["__snippet__.PrimaryReplicaRouter"],
    )
    django.setup()

# --8<-- [start:router]
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse

# Whether this request has written: its reads then go to the primary (read your writes).
_wrote: ContextVar[bool] = ContextVar("wrote_to_primary", default=False)


class PrimaryReplicaRouter:
    """Reads from "replica"; writes, reads in a transaction and reads after a write of
    the same request from "default" (the primary)."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        if _wrote.get() or connections["default"].in_atomic_block:
            return "default"
        return "replica"

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        _wrote.set(True)
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same data on both

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "default"  # the replica gets its schema by replication


def read_your_writes(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Middleware: each request starts without writes (a worker thread serves many)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        token = _wrote.set(False)
        try:
            return get_response(request)
        finally:
            _wrote.reset(token)

    return middleware


# --8<-- [end:router]

if __name__ == "__snippet__":
    from django.contrib.auth.models import User
    from django.db import router, transaction
    from django.test import RequestFactory

    def view(request: HttpRequest) -> HttpResponse:
        before = User.objects.all().db
        router.db_for_write(User)  # what User.objects.create(...) asks first
        return HttpResponse(f"{before} {User.objects.all().db}")

    handler = read_your_writes(view)
    assert handler(RequestFactory().get("/")).content == b"replica default"
    assert handler(RequestFactory().get("/")).content == b"replica default"  # a new request
    with transaction.atomic():
        assert User.objects.all().db == "default"
    assert User.objects.all().db == "replica"
