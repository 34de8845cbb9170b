from backendkit.errors import NotFound
from backendkit.listing import CursorPage, Page
from backendkit.responses import error_response, failure, paginated, render_json, success

# Success: data and message (message is null when not given).
body = render_json(success({"id": 1, "firstName": "Ada"}, "User retrieved successfully"))
assert body == (
    b'{"success":true,"data":{"id":1,"firstName":"Ada"},"message":"User retrieved successfully"}'
)

# Error: code, message, details (always a list) and the request id.
assert failure(NotFound("User not found"), "req-1") == {
    "success": False,
    "error": {
        "code": "NOT_FOUND",
        "message": "User not found",
        "details": [],
        "requestId": "req-1",
    },
}

# A counted page, a page without a count, and a cursor page.
counted = Page(items=[{"id": 1}], page=1, per_page=20, total=100, has_next=True)
assert paginated(counted)["pagination"] == {"page": 1, "perPage": 20, "total": 100, "totalPages": 5}

uncounted = Page(items=[{"id": 1}], page=1, per_page=20, total=None, has_next=True)
assert paginated(uncounted)["pagination"] == {
    "page": 1,
    "perPage": 20,
    "total": None,
    "totalPages": None,
    "hasNext": True,
}

cursor_page = CursorPage(
    items=[{"id": 1}],
    per_page=20,
    next_cursor="abc.def",
    prev_cursor=None,
    has_next=True,
    has_prev=False,
)
assert paginated(cursor_page)["pagination"] == {
    "perPage": 20,
    "nextCursor": "abc.def",
    "prevCursor": None,
    "hasNext": True,
    "hasPrev": False,
}

# Any exception becomes a response an adapter can copy; internals never reach the body.
response = error_response(KeyError("users.password_hash"), request_id="req-2")
assert response.status == 500
assert b"password_hash" not in response.body
assert response.media_type == "application/json"
