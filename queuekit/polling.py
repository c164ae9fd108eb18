"""Awaiting a reply by polling the socket: the producer's opt-in trade of CPU for latency.

Switched on with ``Queue(..., poll_replies=True)``; off by default. A :class:`ReplyPoller` belongs to one
:class:`queuekit.lane.Lane`: after the lane sends a call, :meth:`ReplyPoller.await_reply` polls the kept
connection's socket for a short while before the lane goes into redis-py's ordinary blocking read.

The trade-off: a thread that blocks for a reply that comes within microseconds (a nearby Redis) is put to sleep
and woken again, and on a virtual machine whose idle CPU halts, that wake-up can take longer than the reply itself.
Polling keeps the caller's CPU busy for the wait instead, so an add made right after another returns sooner, at the
price of more CPU time in the calling process for every add. That CPU is then not free for anything else on the
machine (a worker the add would wake, for one), which is why it is off by default and why only calls in a burst
poll. Where replies take longer than the poll (a distant server), polling would only burn CPU, so the poller gives
up for a while after a run of misses. The request, the reply and every error are the same whether it polls or not.

This module is the only place in queuekit that reads a redis-py internal for this: the socket of a connected
``redis.Connection`` (``Connection._sock``). :data:`SOCKET_ATTRIBUTE` names it; tests/test_queue.py checks that the
installed redis-py still has it, and pyproject.toml bounds redis-py to the major versions checked. Without the
attribute (or without ``select.poll``, as on Windows) the poller does nothing and the lane simply blocks.
"""

from __future__ import annotations

import logging
import select
import time
from typing import Any

__all__ = ["ReplyPoller", "SOCKET_ATTRIBUTE"]

logger = logging.getLogger(__name__)

#: the redis-py internal this module relies on: the socket of a connected ``redis.Connection`` (None when closed)
SOCKET_ATTRIBUTE = "_sock"


def connection_socket(conn: Any) -> Any:
    """The socket of redis-py connection ``conn``, or None when it is not connected (or redis-py no longer keeps it
    where this module looks)."""
    return getattr(conn, SOCKET_ATTRIBUTE, None)


class ReplyPoller:
    """Polls one lane's socket for the start of each reply within a burst of calls (see the module for the trade).

    Contract: :meth:`await_reply` only waits; it never reads or writes, so the lane's read that follows sees exactly
    what it would have seen without it. It returns as soon as the socket is readable (a reply, a closed or a failed
    socket) or after :attr:`SPIN` seconds, whichever comes first. Not thread-safe: the lane calls it under its lock.

    The tunables below are class attributes: set them on the class, or on one lane's poller (``lane.poller``).
    """

    #: longest a call polls for its reply before it blocks (seconds; 0 = never poll)
    SPIN = 0.0002
    #: only a call made within this many seconds of the previous reply polls (a burst)
    SPIN_WITHIN = 0.001
    #: this many calls in a row whose reply outlasted the poll ...
    SPIN_MISSES = 8
    #: ... and the next this many calls in a burst block at once
    SPIN_REST = 1000

    def __init__(self) -> None:
        self._poller: Any = None  # a select.poll registered on _polled
        self._polled: Any = None  # the socket _poller watches
        self._misses = 0  # calls in a row whose reply outlasted the poll
        self._rest = 0  # calls left that block without polling

    def await_reply(self, conn: Any, idle: float) -> None:
        """Wait for the reply to a call just sent on ``conn`` by polling its socket, if the call came ``idle``
        seconds after the previous reply (within :attr:`SPIN_WITHIN`) and polling has not been paused."""
        if idle > self.SPIN_WITHIN or self.SPIN <= 0:
            return
        if self._rest:
            self._rest -= 1
            return
        poll = self._poll_for(conn)
        if poll is not None:
            self._spin(poll)

    def _poll_for(self, conn: Any) -> Any:
        """A zero-timeout poll function for ``conn``'s socket (made again when the lane reconnected), or None."""
        sock = connection_socket(conn)
        if sock is None or not hasattr(select, "poll"):
            return None
        if sock is not self._polled:
            self._poller = select.poll()
            self._poller.register(sock, select.POLLIN)
            self._polled = sock
        return self._poller.poll

    def _spin(self, poll: Any) -> None:
        """Poll until the socket is readable or SPIN seconds passed; count a miss, and pause after too many."""
        clock = time.perf_counter
        deadline = clock() + self.SPIN
        # poll() also returns at once for a closed or failed socket: the lane's read then raises as it would have
        while not poll(0):
            if clock() > deadline:
                self._missed()
                return
        self._misses = 0

    def _missed(self) -> None:
        self._misses += 1
        if self._misses >= self.SPIN_MISSES:
            self._misses, self._rest = 0, self.SPIN_REST
            logger.debug("replies take longer than %.0f µs: blocking without polling for %d calls",
                         self.SPIN * 1e6, self.SPIN_REST)
