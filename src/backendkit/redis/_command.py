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

The pool's own ``get_connection`` and ``release`` cost about as much again: they record
connection counts for redis-py's observability, dispatch a release event and, to find a
connection that the server closed meanwhile, try a zero-timeout read (an exception on every
call). On redis-py's plain ``ConnectionPool`` a command takes an idle connection from the
pool's list and gives it back itself, as the pool does under its lock, and asks the socket
whether anything is waiting with one ``select`` (or ``poll``) instead (an async
connection's reader already knows). A connection with something waiting -- the server
closed it, or bytes nobody read -- is reconnected as the pool would; a new or disconnected
one connects. The pool's counts of connections in use stay exact; its observability
counters see neither the checkout nor the return. Any other pool (a sentinel or blocking
pool, one with client-side caching) is driven through its own methods.
"""

from __future__ import annotations

import asyncio
import os
import select
from typing import Any

import redis
import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

# asyncio.timeout (Python 3.11+): a deadline on the running task, no task of its own.
_deadline: Any = getattr(asyncio, "timeout", None)

__all__ = ["arun_command", "direct", "run_command"]

_SYNC_EXECUTE = redis.Redis.__dict__["execute_command"]
_ASYNC_EXECUTE = redis.asyncio.Redis.__dict__["execute_command"]
_pid = os.getpid
#: The largest send left without a deadline: well under asyncio's default high water mark
#: of a transport's write buffer (64 KiB), so it can never make the drain wait.
_UNBOUNDED_SEND = 16 * 1024


def _waiting(sock: Any) -> bool:
    """Whether anything waits on the idle ``sock``: bytes, the server's close, an error.

    ``select`` is the cheapest check but refuses descriptors from ``FD_SETSIZE`` (1024)
    on, which a busy process's sockets can reach: those are polled.
    """
    fd = sock.fileno()
    if fd < _FD_SETSIZE or _poll is None:
        return bool(_select((fd,), (), (), 0)[0])
    poller = _poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


_select = select.select
_poll: Any = getattr(select, "poll", None)
_FD_SETSIZE = 1024


def _lean_pool(pool_class: Any, connection_class: Any, pool_names: str, conn_names: str) -> Any:
    """``pool_class`` when its instances (and their connections) have the attributes the
    short checkout uses; otherwise None, and every pool is driven through its methods."""
    pool, conn = pool_class(), connection_class()
    names = ("_available_connections", "_in_use_connections", "_lock", *pool_names.split())
    if all(hasattr(pool, n) for n in names) and all(hasattr(conn, n) for n in conn_names.split()):
        return pool_class
    return None  # pragma: no cover - a redis-py that renamed its pool's internals


_SYNC_POOL = _lean_pool(redis.ConnectionPool, redis.Connection, "cache pid", "_sock")
_ASYNC_POOL = _lean_pool(
    redis.asyncio.ConnectionPool, redis.asyncio.Connection, "ensure_connection", "is_connected"
)


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
    # A forked child's pool resets itself in get_connection (its sockets are the parent's).
    lean = type(pool) is _SYNC_POOL and pool.cache is None and pool.pid == _pid()
    conn = _take(pool) if lean else None
    if conn is None:
        # No idle connection: the pool makes one (within its size), connects it and takes
        # it back itself, so its own counts of a new connection stay balanced.
        conn, lean = pool.get_connection(), False
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
        if lean:
            _give_back(pool, conn)
        else:
            pool.release(conn)
    callback = client.response_callbacks.get(args[0])
    return response if callback is None else callback(response)


def _take(pool: Any) -> Any:
    """An idle connection of ``pool``, connected and with nothing waiting to be read;
    None when the pool has none idle."""
    with pool._lock:
        available = pool._available_connections
        if not available:
            return None
        conn = available.pop()
        pool._in_use_connections.add(conn)
    try:
        sock = conn._sock
        if sock is not None and not _waiting(sock):
            return conn
        if sock is not None:
            conn.disconnect()  # closed by the server, or holding bytes nobody asked for
        conn.connect()
    except BaseException:
        _give_back(pool, conn)
        raise
    return conn


def _give_back(pool: Any, conn: Any) -> None:
    with pool._lock:
        try:
            pool._in_use_connections.remove(conn)
        except KeyError:  # the pool was reset meanwhile: the connection is not its own
            return
        pool._available_connections.append(conn)


async def arun_command(client: Any, args: tuple[Any, ...]) -> Any:
    """Async twin of `run_command`."""
    pool = client.connection_pool
    lean = type(pool) is _ASYNC_POOL
    conn = await _atake(pool) if lean else None
    if conn is None:
        conn, lean = await pool.get_connection(), False
    try:
        await _send(conn, args)
        response = await conn.read_response()
    except ResponseError:
        raise
    except BaseException:
        await conn.disconnect(nowait=True)
        raise
    finally:
        if lean:
            _agive_back(pool, conn)
        else:
            await pool.release(conn)
    callback = client.response_callbacks.get(args[0])
    return response if callback is None else callback(response)


async def _atake(pool: Any) -> Any:
    """Async twin of `_take`: no await between taking and marking it, so no lock."""
    available = pool._available_connections
    if not available:
        return None
    conn = available.pop()
    pool._in_use_connections.add(conn)
    try:
        try:
            ready = conn.is_connected and not await conn.can_read()
        except (RedisConnectionError, RedisTimeoutError, OSError):
            ready = False  # can_read dropped the connection: reconnect it as the pool does
        if not ready:
            await pool.ensure_connection(conn)  # connect, or reconnect one with bytes waiting
    except BaseException:
        _agive_back(pool, conn)
        raise
    return conn


def _agive_back(pool: Any, conn: Any) -> None:
    in_use = pool._in_use_connections
    if conn in in_use:
        in_use.remove(conn)
        pool._available_connections.append(conn)


async def _send(conn: Any, args: tuple[Any, ...]) -> None:
    timeout = conn.socket_timeout
    if not timeout or _deadline is None:  # Python 3.10: redis-py's own bounded send
        await conn.send_command(*args)
        return
    # redis-py bounds a send with asyncio.wait_for, which starts a task per command. The
    # connection is this call's alone until it is released, so its timeout can step aside
    # meanwhile (a timed-out send disconnects it, as redis-py's would).
    packed = conn.pack_command(*args)
    conn.socket_timeout = None
    try:
        if conn.is_connected and sum(map(len, packed)) <= _UNBOUNDED_SEND:
            # Nothing to wait for: the transport takes a small command whole (its buffer is
            # empty, since the previous reply was read), and only a buffer over its high
            # water mark makes the drain wait.
            await conn.send_packed_command(packed)
            return
        # A deadline on the running task bounds a larger send, or one that has to connect
        # first, at a fraction of wait_for's cost.
        async with _deadline(timeout):
            await conn.send_packed_command(packed)
    except asyncio.TimeoutError:
        raise RedisTimeoutError("Timeout writing to socket") from None
    finally:
        conn.socket_timeout = timeout
