"""Connections kept for a hot path, and the requests framed once for them.

A :class:`Lane` keeps one connection for a producer's adds; an :class:`AsyncLane` one for a worker's listener. Both
never read a reply on a connection whose previous call did not complete. This module and :mod:`queuekit.polling` are
the only places that use redis-py below its client API (a connection's ``send_packed_command``, ``read_response``
and ``encoder``); tests/test_queue.py pins the redis-py versions they work with.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import threading
import time
from collections.abc import Awaitable, Sequence
from typing import Any

import redis
import redis.asyncio

from .polling import ReplyPoller
from .scripts import Call

__all__ = ["Lane", "AsyncLane", "Framed"]


def _pooled_plain(client: Any, plain: type) -> bool:
    """Whether a lane may keep a connection of its own for ``client``: a plain redis-py client of type ``plain``
    drawing from its pool (not fakeredis, a cluster, or a client already pinned to one connection)."""
    return type(client) is plain and getattr(client, "connection", None) is None


class Framed:
    """A call's head (EVALSHA, the sha, the keys and the leading arguments of a :class:`~queuekit.scripts.Call`) framed
    once in RESP; each use then frames only its own arguments (:meth:`pack`).

    redis-py packs a whole command again for every call; a producer adding jobs of one type sends the same head on
    every add, so framing it once leaves less for the client to do per add. Each argument is framed as the RESP
    bulk string redis-py sends for it, text encoded by the connection's encoder; tests/test_queue.py compares the
    bytes with redis-py's packer.
    """

    __slots__ = ("script", "_head", "_count", "_encoding", "_errors", "_encode")

    def __init__(self, conn: Any, head: Call) -> None:
        self.script = head.script  # loaded when the server answers NOSCRIPT (its sha is inside the head)
        encoder = conn.encoder
        self._encoding, self._errors, self._encode = encoder.encoding, encoder.encoding_errors, encoder.encode
        self._head = self._frame(head.command)
        self._count = len(head.command)

    def pack(self, args: Sequence[Any]) -> bytes:
        """The whole request with ``args`` after the fixed arguments, ready for ``send_packed_command``."""
        return b"*%d\r\n%s%s" % (self._count + len(args), self._head, self._frame(args))

    def _frame(self, args: Sequence[Any]) -> bytes:
        parts = []
        for arg in args:
            cls = arg.__class__
            # str and int are what queuekit sends; anything else goes through redis-py's encoder (and its checks)
            if cls is str:
                value = arg.encode(self._encoding, self._errors)
            elif cls is int:
                value = b"%d" % arg
            else:
                value = self._encode(arg)
            parts.append(b"$%d\r\n%s\r\n" % (len(value), value))
        return b"".join(parts)


class Lane:
    """One connection to ``client``'s server kept for a hot path (a producer's enqueue), used one call at a time.

    A pooled redis-py client checks a connection out of its pool and probes it before every command; a producer
    adding jobs one by one pays that on each add. A lane keeps one connection (a lock lets threads share it) and
    probes it only after it sat idle: a connection the server closed meanwhile (a restarted Redis) is replaced
    before anything is sent, so a call is never sent twice. A call interrupted before its reply was read leaves
    the connection to be replaced too, and a forked process opens its own.

    With ``poll_replies=True`` the lane awaits each reply within a burst of calls by polling its socket before it
    blocks (:class:`queuekit.polling.ReplyPoller`, :attr:`poller`): lower latency per call for more of the caller's
    CPU. Off by default; the request, the reply and every error are the same either way.

    :attr:`connects` counts the connections the lane opened (reconnections included): a new one may face a
    restarted, empty server.

    Only for a plain ``redis.Redis`` client: :meth:`for_client` returns None for the embedded server and for a
    Redis Cluster, whose own clients are used as they are. The kept connection has the pool's settings but is not
    counted against its ``max_connections``.
    """

    #: seconds of idleness after which the connection is probed before use (a server cannot be restarted faster)
    PROBE_AFTER = 0.001

    def __init__(self, client: redis.Redis, *, poll_replies: bool = False) -> None:
        self._pool = client.connection_pool
        self._lock = threading.Lock()
        self._conn: Any = None
        self._pid = os.getpid()
        self._last = 0.0  # when the last reply was read (monotonic)
        self._pending = False  # a command was sent and its reply not read yet
        #: awaits replies by polling when the lane was made with ``poll_replies=True``; None: it blocks at once
        self.poller: ReplyPoller | None = ReplyPoller() if poll_replies else None
        self.connects = 0

    @classmethod
    def for_client(cls, client: Any, *, poll_replies: bool = False) -> Lane | None:
        """A lane for ``client``, or None where the client's own calls are used as they are (see the class)."""
        return cls(client, poll_replies=poll_replies) if _pooled_plain(client, redis.Redis) else None

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Send one command and return its reply (an error reply is raised as redis-py raises it)."""
        with self._lock:
            conn = self._connection()
            return self._exchange(conn, conn.pack_command(*args))

    def script_load(self, script: str) -> Any:
        """Load a script's source (the server answered NOSCRIPT)."""
        return self.execute_command("SCRIPT", "LOAD", script)

    def frame(self, head: Call) -> Framed:
        """``head`` framed once for this lane's connections (see :class:`Framed`)."""
        with self._lock:
            return Framed(self._connection(), head)

    def execute_packed(self, packed: bytes) -> Any:
        """Send one request framed by :meth:`Framed.pack` and return its reply."""
        with self._lock:
            return self._exchange(self._connection(), [packed])

    def _exchange(self, conn: Any, packed: list[bytes]) -> Any:
        """Send a request packed for ``conn`` and read its reply (the caller holds the lock)."""
        try:
            idle = time.monotonic() - self._last
            self._pending = True
            conn.send_packed_command(packed)
            try:
                if self.poller is not None:
                    self.poller.await_reply(conn, idle)
                reply = conn.read_response()
            finally:
                self._last = time.monotonic()
            self._pending = False
        except redis.ResponseError:
            self._pending = False  # an error reply: read, the connection is in step
            raise
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            conn.disconnect()  # the next call starts on a fresh connection
            raise
        return reply

    def _connection(self) -> Any:
        conn = self._conn
        if conn is None or self._pid != os.getpid():
            # built as the pool builds its own, but outside its count: the pool never gets a kept connection back,
            # so queues sharing one client would use up its max_connections (100 by default in redis-py 8)
            conn = self._conn = self._pool.connection_class(**self._pool.connection_kwargs)
            conn.register_connect_callback(self._connected)
            self._pid = os.getpid()
            self._pending = False
        elif self._pending:
            conn.disconnect()  # the reply of an interrupted call may still arrive: never read it as ours
            self._pending = False
        elif time.monotonic() - self._last > self.PROBE_AFTER:
            # the pool's check: unread data or a closed socket means a stale connection (opens one not yet open)
            try:
                if conn.can_read(timeout=0):
                    conn.disconnect()
            except (redis.ConnectionError, OSError):
                conn.disconnect()
        return conn

    def _connected(self, conn: Any) -> None:
        self.connects += 1

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.disconnect()
            self._conn = None


async def _within(seconds: float, awaitable: Awaitable[Any]) -> Any:
    """Await ``awaitable`` for at most ``seconds`` (asyncio.TimeoutError after that); on Python 3.11+ without the
    extra task ``asyncio.wait_for`` makes there."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)


class AsyncLane:
    """The calls of a worker's listener (a claim, a blocking pop), one at a time from one task, on one connection of
    an asyncio client kept for them.

    A pooled ``redis.asyncio`` call checks a connection out of the pool and back in around every command; the
    listener, which makes one call after another, keeps one instead and skips that work on the path from an add to
    its handler.

    Contract: a call whose reply was not read in full (its deadline passed, it was cancelled, the link failed) closes
    the connection before it raises, so a reply still on its way can never be read as a later call's; the next call
    connects again. A deadline that passes raises ``redis.TimeoutError`` (redis-py's own read timeout would return
    None instead, which a blocking pop cannot tell from "nothing arrived"). An error reply is read in full and keeps
    the connection.

    The connection is kept for a plain ``redis.asyncio.Redis`` only; with the embedded server, a Redis Cluster or a
    client pinned to one connection, the calls go through the client as they are.
    """

    #: redis-py's own read timeout: none (its timeout returns None, indistinguishable from an empty pop); the lane
    #: enforces the deadline itself
    _NO_READ_TIMEOUT = math.inf

    def __init__(self, client: Any) -> None:
        self._client = client
        plain = _pooled_plain(client, redis.asyncio.Redis)
        self._conn: Any = client.connection_pool.make_connection() if plain else None

    async def call(self, *args: Any, timeout: float | None = None) -> Any:
        """Send one command and return its reply; ``timeout``: seconds to wait for the reply on the kept connection
        (default: the client's socket timeout). An error reply is raised as redis-py raises it."""
        conn = self._conn
        if conn is None:
            return await self._client.execute_command(*args)
        complete = False
        try:
            await conn.send_command(*args)
            if timeout is None:
                reply = await conn.read_response()
            else:
                try:
                    reply = await _within(timeout, conn.read_response(timeout=self._NO_READ_TIMEOUT))
                except asyncio.TimeoutError:
                    raise redis.TimeoutError(f"no reply to {args[0]} within {timeout:.1f} s") from None
            complete = True
        except redis.ResponseError:
            complete = True  # an error reply: read in full, the connection is in step
            raise
        finally:
            if not complete:
                await conn.disconnect(nowait=True)
        return reply

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        """:meth:`call` without a deadline of its own (for :func:`queuekit.scripts.run_async`)."""
        return await self.call(*args)

    async def script_load(self, script: str) -> Any:
        """Load a script's source (the server answered NOSCRIPT)."""
        return await self.call("SCRIPT", "LOAD", script)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.disconnect(nowait=True)
