"""Bodies that do not travel in one piece: a chunked request body read whole under WSGI, and a
streamed response body produced after the request call has returned.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from typing import Any

from backendkit.logging import bind_request_context, clear_request_context
from backendkit.web._body import read_body
from backendkit.web._cycle import RequestCycle
from backendkit.web._errors import error_for_status

__all__ = ["astream_in_request", "chunked_body", "stream_in_request"]

_LENGTH_REQUIRED = (
    "Length Required: this server cannot read a chunked request body; "
    "send it with a Content-Length header"
)


def chunked_body(
    environ: MutableMapping[str, Any], read: Callable[[int], bytes], *, limit: int
) -> bytes | None:
    """A chunked request body (no ``CONTENT_LENGTH``) read whole under ``limit``; ``None``
    for any other request. ``environ`` then states the length read.

    A WSGI server that de-chunked the body says so (``wsgi.input_terminated``: gunicorn,
    mod_wsgi): it is read from ``wsgi.input``, whose end is the body's. Without
    ``wsgi.input`` (ASGI, where the server has the body already) ``read`` reads it.

    Raises:
        AppError: ``411`` from a WSGI server that cannot hand the body over (reading its
            stream to the end would wait for the client, or read the framing).
        PayloadTooLarge: more than ``limit`` bytes.
    """
    encoding = str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
    if environ.get("CONTENT_LENGTH") or "chunked" not in encoding:
        return None
    stream = environ.get("wsgi.input")
    if stream is not None and not environ.get("wsgi.input_terminated"):
        raise error_for_status(411, message=_LENGTH_REQUIRED)
    body = read_body(stream.read if stream is not None else read, limit=limit)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def stream_in_request(chunks: Iterator[bytes], cycle: RequestCycle) -> Iterator[bytes]:
    """``chunks`` produced in the current log context (copied now), the cycle finished at
    their end. The current context is cleared: the thread goes back to the server, and the
    next request must not inherit it."""
    context = contextvars.copy_context()
    clear_request_context()
    return _stream(chunks, context, cycle)


def astream_in_request(chunks: AsyncIterator[bytes], cycle: RequestCycle) -> AsyncIterator[bytes]:
    """Async twin of ``stream_in_request``: one ASGI
    request is one task, so the stream binds the request's values again."""
    clear_request_context()
    return _astream(chunks, cycle)


def _stream(
    chunks: Iterator[bytes], context: contextvars.Context, cycle: RequestCycle
) -> Iterator[bytes]:
    try:
        while True:
            try:
                chunk = context.run(next, chunks)
            except StopIteration:
                return
            yield chunk
    finally:
        context.run(cycle.finish)


async def _astream(chunks: AsyncIterator[bytes], cycle: RequestCycle) -> AsyncIterator[bytes]:
    bind_request_context(request_id=cycle.request_id, method=cycle.method, path=cycle.path)
    if cycle.user_id is not None:
        bind_request_context(user_id=cycle.user_id)
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        cycle.finish()
