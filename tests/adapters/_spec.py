"""The one app every adapter serves in the conformance suite, as a declarative list of routes.

Each framework's app (``_apps.py`` for FastAPI and Flask, ``_django_app.py`` for Django and
DRF) is generated from `SPEC`: a route says where it lives, which method it answers and
what it does (body model, authentication, roles, limits, path and query parameters, and a
behaviour), and each generator wires that up in its framework's own idiom. What a route
answers is computed by `answer`, shared by every framework, so the apps differ only in
how they read the request and write the response.

| path | method | does |
| --- | --- | --- |
| `/ok`, `/api/ok` | GET | 200 `{"ok": true}` |
| `/app-error` | GET | raises `Conflict("Widget already exists")` |
| `/boom` | GET | raises `RuntimeError(SECRET)` |
| `/echo` | POST | body read through the core into `EchoIn`, echoed |
| `/me` | GET | requires authentication, answers `{"id": <user id>}` |
| `/whoami` | POST | the same for an unsafe method (the CSRF check of cookie auth) |
| `/admin` | GET | requires role `admin` |
| `/limited` | GET | limit `"2/minute"` by client address |
| `/guarded` | GET | limit `"5/minute"` by address, `failure_policy="fail_closed"` |
| `/limited-twice` | GET | `"3/minute"` by address, then rule `second` `"2/hour"` on bucket `pair` |
| `/limited-loose` | GET | `"2/minute"` by address, then rule `loose` `"50/hour"` on bucket `pair` |
| `/items` | GET | page params from the query: `{"page":.., "perPage":..}` |
| `/ctx` | GET | waits on `probe.barrier` if set; `{"requestId": <log context id>}` |
| `/things/{thing_id}` | GET | path parameter `thing_id` (an int from 1): `{"thingId": ..}` |
| `/search` | GET | query `maxCount` (an int from 1, default 10): `{"maxCount": ..}` |
| `/etag` | GET | `ETAG_DATA` with a strong ETag and `Cache-Control: max-age=60`; 304 on a match |
| `/stream` | GET | a streamed JSON body, written chunk by chunk: `{"requestId": ..}` |
| `/api/health` | GET | health check of `probe.healthy`: 200, or 503 with `Retry-After` |
| `/native` | GET | the framework's own input validation fails (see `native` below) |

Each harness uses ``max_body_bytes=1024`` and a fresh in-memory limiter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field

from backendkit.errors import Conflict
from backendkit.logging import current_request_id
from backendkit.validation import ApiModel

MAX_BODY = 1024
SECRET = "secret internals at /srv/app.py"
#: What `/etag` answers (its ETag is computed from this in every framework).
ETAG_DATA = {"version": 3}
ETAG_CACHE_MAX_AGE = 60
ETAG_CACHE_CONTROL = f"max-age={ETAG_CACHE_MAX_AGE}"
#: The chunks `/stream` writes around the request id.
STREAM_CHUNKS = (b'{"requestId": "', b'"}')

Does = Literal[
    "ok",
    "conflict",
    "boom",
    "echo",
    "me",
    "admin",
    "limited",
    "items",
    "ctx",
    "thing",
    "search",
    "etag",
    "stream",
    "health",
    "native",
]


class EchoIn(ApiModel):
    """The body `POST /echo` validates."""

    name: str
    count: int = 1


PositiveInt = Annotated[int, Field(ge=1)]


class SearchQuery(ApiModel):
    """The query `GET /search` validates (``maxCount`` on the wire)."""

    max_count: PositiveInt = 10


@dataclass(frozen=True)
class Limit:
    """One rate-limit rule of a route.

    ``key="ip"`` is the framework's own route limit (decorator, dependency or throttle);
    ``key="pair"`` is a rule on the literal bucket ``"pair"`` the view charges itself
    (``charge_limit``), after the first rule.
    """

    limits: str
    key: Literal["ip", "pair"] = "ip"
    name: str | None = None
    failure_policy: Literal["fail_closed"] | None = None


@dataclass(frozen=True)
class Route:
    """One route of the shared app."""

    path: str  # "/things/{thing_id}": FastAPI's syntax; the generators translate it
    does: Does
    method: Literal["GET", "POST"] = "GET"
    auth: bool = False
    roles: tuple[str, ...] = ()
    limits: tuple[Limit, ...] = ()
    body: type[ApiModel] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)  # path parameter -> type
    query: type[ApiModel] | None = None
    pages: bool = False

    @property
    def name(self) -> str:
        """A Python identifier for the route (view and endpoint names)."""
        cleaned = "".join(c if c.isalnum() else "_" for c in self.path.strip("/"))
        return f"{self.method.lower()}_{cleaned or 'root'}"

    def flask_path(self) -> str:
        """``/things/<thing_id>``."""
        return self.path.replace("{", "<").replace("}", ">")

    def django_path(self) -> str:
        """``things/<thing_id>`` (the default ``str`` converter: ``path_params`` types it)."""
        return self.flask_path().lstrip("/")


SPEC: tuple[Route, ...] = (
    Route("/ok", "ok"),
    Route("/api/ok", "ok"),
    Route("/app-error", "conflict"),
    Route("/boom", "boom"),
    Route("/echo", "echo", method="POST", body=EchoIn),
    Route("/me", "me", auth=True),
    Route("/whoami", "me", method="POST", auth=True),
    Route("/admin", "admin", auth=True, roles=("admin",)),
    Route("/limited", "limited", limits=(Limit("2/minute"),)),
    Route("/guarded", "limited", limits=(Limit("5/minute", failure_policy="fail_closed"),)),
    Route(
        "/limited-twice",
        "limited",
        limits=(Limit("3/minute"), Limit("2/hour", key="pair", name="second")),
    ),
    Route(
        "/limited-loose",
        "limited",
        limits=(Limit("2/minute"), Limit("50/hour", key="pair", name="loose")),
    ),
    Route("/items", "items", pages=True),
    Route("/ctx", "ctx"),
    Route("/things/{thing_id}", "thing", params={"thing_id": PositiveInt}),
    Route("/search", "search", query=SearchQuery),
    Route("/etag", "etag"),
    Route("/stream", "stream"),
    Route("/api/health", "health"),
    Route("/native", "native"),
)


def health_checks(probe: Any) -> dict[str, Any]:
    """The probes of the health route: one, answering as ``probe.healthy`` says.

    (One health route per app: Flask's ``add_health_route`` mounts a single endpoint.)
    """
    return {"probe": lambda: probe.healthy}


def answer(
    route: Route,
    *,
    user_id: str | None = None,
    body: ApiModel | None = None,
    params: Mapping[str, Any] | None = None,
    query: ApiModel | None = None,
    page: Any = None,
) -> Any:
    """The data a route answers, from what the framework read; raises for the error routes.

    Shared by every generated app, so two frameworks can only differ in how they read
    the request and write the response.
    """
    if route.does == "conflict":
        raise Conflict("Widget already exists")
    if route.does == "boom":
        raise RuntimeError(SECRET)
    if route.does == "echo":
        assert body is not None
        return body.model_dump(by_alias=True)
    if route.does == "me":
        return {"id": user_id}
    if route.does == "admin":
        return {"admin": True}
    if route.does == "limited":
        return {"limited": True}
    if route.does == "items":
        return {"page": page.page, "perPage": page.per_page}
    if route.does == "ctx":
        return {"requestId": current_request_id()}
    if route.does == "thing":
        assert params is not None
        return {"thingId": params["thing_id"]}
    if route.does == "search":
        assert query is not None
        return query.model_dump(by_alias=True)
    if route.does == "etag":
        return ETAG_DATA
    return {"ok": True}


def stream_chunks() -> Any:
    """The chunks of `/stream`: the request id is read while the body is being sent."""
    yield STREAM_CHUNKS[0]
    yield (current_request_id() or "").encode()
    yield STREAM_CHUNKS[1]
