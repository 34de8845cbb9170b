import json

from backendkit.errors import RateLimited
from backendkit.responses import error_response

response = error_response(RateLimited(retry_after=30), request_id="req-1", problem=True)
assert response.status == 429
assert response.media_type == "application/problem+json"
assert response.headers == {"Retry-After": "30"}
assert json.loads(response.body) == {
    "type": "about:blank",
    "title": "Too Many Requests",
    "status": 429,
    "detail": "Too many requests, please try again later",
    "code": "RATE_LIMITED",
    "details": [],
    "requestId": "req-1",
}
