"""One command straight on a pooled connection: what ``execute_command`` does, minus its
per-call machinery, for the connectors' ``command``.

redis-py's ``Redis.execute_command`` wraps every command in a retry policy (with zero
retries here, it only disconnects the connection on an error), a closure, observability
hooks and a maintenance-notification check; for a plain client that costs about as much
CPU as sending the command and parsing the reply. The asyncio client's send also starts a
task per command (``asyncio.wait_for``) when a socket timeout is set. A connection
already disconnects itself when a send or read fails, so the short path is: take a
connection from the pool, send (under a deadline), read, apply the command's response
callback, give the connection back.

It is taken only while nothing can tell the difference: a plain ``redis.Redis`` (a
standalone or sentinel-master client, not a cluster client, not a single-connection
client) whose ``execute_command`` nobody wrapped -- not on the instance (the tracing hook
does that) and not on the class (instrumentation libraries do that). Otherwise the
command goes through ``execute_command`` as usual.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis
import redis.asyncio
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

# asyncio.timeout (Python 3.11+): a deadline on the running task, no task of its own.
_deadline: Any = getattr(asyncio, "timeout", None)

__all__ = ["arun_command", "direct", "run_command"]

_SYNC_EXECUTE = redis.Redis.__dict__["execute_command"]
_ASYNC_EXECUTE = redis.asyncio.Redis.__dict__["execute_command"]


def direct(client: Any) -> bool:
    """True when a command of ``client`` may skip ``execute_command`` (see the module)."""
    kind = type(client)
    if kind is redis.Redis:
        original = _SYNC_EXECUTE
    elif kind is redis.asyncio.Redis:
        original = _ASYNC_EXECUTE
    else:
        return False
    return (
        kind.__dict__["execute_command"] is original
        and "execute_command" not in client.__dict__
        and client.connection is None
    )


def run_command(client: Any, args: tuple[Any, ...]) -> Any:
    """Send ``args`` on a connection of ``client``'s pool and return the parsed reply."""
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        conn.send_command(*args)
        response = conn.read_response()
    except ResponseError:
        raise
    except BaseException:
        # As execute_command does: the connection may be mid-reply, never reuse it.
        conn.disconnect()
        raise
    finally:
        pool.release(conn)
    callback = client.response_callbacks.get(args[0])
    return response if callback is None else callback(response)


async def arun_command(client: Any, args: tuple[Any, ...]) -> Any:
    """Async twin of `run_command`."""
    pool = client.connection_pool
    conn = await pool.get_connection()
    try:
        await _send(conn, args)
        response = await conn.read_response()
    except ResponseError:
        raise
    except BaseException:
        await conn.disconnect(nowait=True)
        raise
    finally:
        await pool.release(conn)
    callback = client.response_callbacks.get(args[0])
    return response if callback is None else callback(response)


async def _send(conn: Any, args: tuple[Any, ...]) -> None:
    timeout = conn.socket_timeout
    if not timeout or _deadline is None:  # Python 3.10: redis-py's own bounded send
        await conn.send_command(*args)
        return
    # redis-py bounds a send with asyncio.wait_for, which starts a task per command; a
    # deadline on the running task bounds it alike at a fraction of the cost. The
    # connection is this call's alone until it is released, so its timeout can step
    # aside meanwhile (a timed-out send disconnects it, as redis-py's would).
    conn.socket_timeout = None
    try:
        async with _deadline(timeout):
            await conn.send_command(*args)
    except asyncio.TimeoutError:
        raise RedisTimeoutError("Timeout writing to socket") from None
    finally:
        conn.socket_timeout = timeout
