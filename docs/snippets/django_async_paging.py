"""views.py: an async view that pages a queryset (self-checking when run on its own)."""

from __future__ import annotations

import django
from django.conf import settings

if not settings.configured:  # run on its own: the auth app on an in-memory database
    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        USE_TZ=True,
    )
    django.setup()

# --8<-- [start:view]
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse

from backendkit.adapters.django import apaginate_queryset, page_response
from backendkit.listing import page_params


async def list_users(request: HttpRequest) -> HttpResponse:
    """GET /api/users?page=2&perPage=20&sort=-joined"""
    page = await apaginate_queryset(
        User.objects.filter(is_active=True),
        page_params(request.GET),
        sort=request.GET.get("sort"),
        sort_fields={"username": "username", "joined": "date_joined"},
        default_sort="username",
    )
    return page_response(page.map(lambda user: {"id": user.pk, "username": user.username}))


# --8<-- [end:view]

if __name__ == "__snippet__":
    import datetime as dt
    import json

    from asgiref.sync import async_to_sync
    from django.core.management import call_command
    from django.test import RequestFactory

    call_command("migrate", verbosity=0)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    User.objects.bulk_create(
        [User(username=f"u{i}", date_joined=start + dt.timedelta(days=i)) for i in range(5)]
    )
    User.objects.filter(username="u4").update(is_active=False)
    query = {"page": "2", "perPage": "2", "sort": "-joined"}
    response = async_to_sync(list_users)(RequestFactory().get("/api/users", query))
    body = json.loads(response.content)
    assert [user["username"] for user in body["data"]] == ["u1", "u0"]
    assert body["pagination"]["total"] == 4
