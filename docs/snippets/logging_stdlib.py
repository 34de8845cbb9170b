import io
import json
import logging

from backendkit.logging import configure_logging, request_context

stream = io.StringIO()
configure_logging(fmt="json", stream=stream)

# A library that uses the standard library's logging goes through the same pipeline.
with request_context(request_id="r-42"):
    logging.getLogger("sqlalchemy.engine").warning(
        "slow query on %s", "users", extra={"dsn": "postgresql://app:pa55@db/app"}
    )

line = json.loads(stream.getvalue())
assert line["event"] == "slow query on users"
assert line["logger"] == "sqlalchemy.engine"
assert line["request_id"] == "r-42"
assert line["dsn"] == "postgresql://app:[REDACTED]@db/app"
