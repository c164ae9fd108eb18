"""The loop: the task that, turn after turn, reports outcomes, claims, renews leases, sweeps stalled jobs and
applies retention, in exactly one pipelined round trip per turn.

Each of those is a :class:`Chore`: it decides whether it has something to send this turn, adds its script calls to
the :class:`Turn` (built by :mod:`queuekit.scripts`), and applies the replies to its own calls. The turn sends every
chore's calls in one pipeline and hands each reply back to the chore that asked. When Redis cannot be reached, each
chore undoes what must be sent again (no outcome is ever lost) and the turn is retried with a backoff.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from .. import scripts
from ..job import now_ms
from ..keys import QUEUES
from .listener import NETWORK_ERRORS, NOTHING_CLAIMED, Claimer, Listener
from .runner import Host, Report, Runner, finish_json, notify

__all__ = ["BATCH_WINDOW", "Chore", "Claim", "Clean", "Finish", "Heartbeat", "Loop", "Sweep", "Turn"]

logger = logging.getLogger(__name__)

#: seconds an outcome may wait for others about to finish, so that they are reported in one call
BATCH_WINDOW = 0.005

Taker = Callable[[Any], None]


class Turn:
    """The calls of one turn of the loop, sent in one pipelined round trip; each reply goes to the chore that
    asked for it."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._calls: list[scripts.Call] = []
        self._takers: list[tuple[Taker, Any]] = []
        self._also: list[Callable[[Any], None]] = []

    def call(self, call: scripts.Call, take: Taker, fallback: Any = None) -> None:
        """Send ``call`` this turn and hand its reply to ``take``; an error reply is logged and handed over as
        ``fallback`` instead (default: an empty list)."""
        self._calls.append(call)
        self._takers.append((take, [] if fallback is None else fallback))

    def also(self, add: Callable[[Any], None]) -> None:
        """``add(pipe)`` queues plain commands behind the script calls (their replies are not read)."""
        self._also.append(add)

    async def send(self, client: Any) -> None:
        """Send the calls in one pipelined round trip (none without a call) and hand each reply to its chore; a
        network error is raised before any reply is handed over, so that the chores can undo the whole turn."""
        if not self._calls:
            return
        pipe = client.pipeline(transaction=False)
        for call in self._calls:
            scripts.pipelined(pipe, call)
        for add in self._also:
            add(pipe)
        replies = await pipe.execute(raise_on_error=False)
        replies = await scripts.settle_async(client, self._calls, replies[:len(self._calls)])
        for reply in replies:
            if isinstance(reply, NETWORK_ERRORS):
                raise reply
        for call, (take, fallback), reply in zip(self._calls, self._takers, replies):
            if isinstance(reply, Exception):
                logger.error("worker %s: script %s failed: %s", self.worker_id, call.script, reply)
                reply = fallback
            take(reply)


class Chore:
    """One thing the loop does in its turns: :meth:`plan` adds this turn's calls (if any is due) with the methods
    that apply their replies; :meth:`failed` undoes what must be sent again when the round trip failed."""

    def plan(self, turn: Turn, now: float) -> None:
        raise NotImplementedError

    def failed(self) -> None:
        """The round trip did not happen (Redis unreachable)."""


class Clean(Chore):
    """Retention: about a second after jobs finish here, remove the finished jobs over the queue's limits; a call
    that removed all one call may is followed by another at once (:attr:`more`)."""

    def __init__(self, host: Host, batch: int) -> None:
        self.host = host
        self.batch = batch
        self.pending = False  # jobs finished since the last clean
        self.next = 0.0
        self.more = False  # a call removed ``batch`` jobs: more may be over the limits

    def plan(self, turn: Turn, now: float) -> None:
        self.more = False
        if not self.pending or now < self.next:
            return
        queue = self.host.queue
        for state in ("complete", "failed"):
            keep, age = queue.retention[state]
            turn.call(scripts.clean(queue.keys, state, now_ms(), -1 if keep is None else keep,
                                    -1 if age is None else age, self.batch), self._took)
        self.next, self.pending = now + 1.0, False

    def _took(self, reply: Any) -> None:
        if reply == self.batch:
            self.more = True  # it removed all one call may: jobs over the limits may be left

    def again(self) -> None:
        """Clean in the next turn."""
        self.next, self.pending = 0.0, True


class Finish(Chore):
    """Report the outcomes recorded since the last turn (finish.lua checks each job's lease token)."""

    def __init__(self, host: Host, runner: Runner, clean: Clean) -> None:
        self.host = host
        self.runner = runner
        self.clean = clean
        self.sent: list[Report] = []

    def plan(self, turn: Turn, now: float) -> None:
        self.sent, self.runner.reports = self.runner.reports, []
        self.runner.reporting = len(self.sent)  # their slots stay taken for the listener until Redis has them
        if self.sent:
            queue = self.host.queue
            turn.call(scripts.finish(queue.keys, now_ms(), queue.channel, finish_json(self.sent)), self._took)
            self.clean.pending = True

    def _took(self, reply: Any) -> None:
        host = self.host
        self.runner.reporting = 0
        if self.sent and self.runner.room is not None:
            self.runner.room.set()  # their slots are free now, for the listener too
        for report, applied in zip(self.sent, reply):
            accepted = bool(int(applied))
            if not accepted:
                host.stats["lost"] += 1
                logger.warning("worker %s: job %s was no longer ours (lease lost); its %s outcome was dropped",
                               host.id, report.job_id, report.outcome.kind.value)
            notify(host.on_report, report.job_id, report.token, report.outcome, accepted)

    def failed(self) -> None:
        self.runner.reports[:0] = self.sent  # nothing is lost: report them on the next try
        self.runner.reporting = 0
        self.sent = []


class Claim(Chore):
    """Claim jobs for the free slots the listener is not claiming for; with none free, a claim of 0 when a delayed
    job falls due (it promotes the job)."""

    def __init__(self, runner: Runner, claimer: Claimer) -> None:
        self.runner = runner
        self.claimer = claimer
        self.free = 0
        self.want = 0
        self.asked = False
        self.claimed = 0

    def plan(self, turn: Turn, now: float) -> None:
        runner = self.runner
        self.claimed = 0
        self.free = runner.free(reported=True)  # sent after this turn's finish: the outcomes in it free slots
        self.want = max(0, self.free)
        self.asked = self.free > 0 or (self.claimer.due() and not runner.stop.requested)
        if self.asked:
            # with no slot free (the listener may hold them all), a claim of 0 still promotes the jobs
            # falling due, and its wake-up brings them to the listener
            turn.call(self.claimer.call(self.want), self._took, NOTHING_CLAIMED)
            runner.reserved += self.want  # until the reply is in: the listener must not claim these slots too

    def _took(self, reply: Any) -> None:
        self.runner.unreserve(self.want)
        self.claimed += self.claimer.take(reply)

    def failed(self) -> None:
        if self.asked:
            self.runner.unreserve(self.want)
            self.asked = False

    @property
    def filled(self) -> bool:
        """The claim filled every free slot: there may be more ready."""
        return bool(self.claimed) and self.claimed == self.free


class Heartbeat(Chore):
    """Every ``lease / 3``: renew the leases of the jobs held (a lease found lost drops its job's outcome) and, in
    the same round trip, write this worker's info for ``queue.workers()``."""

    def __init__(self, host: Host, runner: Runner, burst: bool) -> None:
        self.host = host
        self.runner = runner
        self.burst = burst  # drain(): no worker info
        self.every = host.lease_ms / 3000
        self.next = 0.0

    def plan(self, turn: Turn, now: float) -> None:
        if now < self.next:
            return
        host = self.host
        turn.call(scripts.extend(host.queue.keys, now_ms() + host.lease_ms, self.runner.leases()), self._took)
        self.next = now + self.every
        if not self.burst:
            turn.also(self._info)

    def _took(self, reply: Any) -> None:
        for i in range(0, len(reply), 2):
            self.runner.lose(reply[i], reply[i + 1])

    def _info(self, pipe: Any) -> None:
        host = self.host
        keys = host.queue.keys
        info = json.dumps({"id": host.id, "host": socket.gethostname(), "pid": os.getpid(),
                           "types": sorted(host.handlers), "concurrency": host.concurrency,
                           "running": len(self.runner.running), **host.stats}, separators=(",", ":"))
        pipe.zadd(keys.workers, {host.id: now_ms()})
        pipe.zremrangebyscore(keys.workers, "-inf", now_ms() - 3_600_000)  # forget long-dead workers
        pipe.set(keys.worker(host.id), info, px=host.lease_ms * 2)
        # the queue's name again, lost if Redis restarted empty (on a cluster the pipeline sends it to its node)
        pipe.sadd(QUEUES, host.queue.name)


class Sweep(Chore):
    """Every ``lease / 2``: put back in line the active jobs whose lease ran out (any worker's)."""

    def __init__(self, host: Host, burst: bool) -> None:
        self.host = host
        self.burst = burst  # drain(): sweep on every turn, not once per interval across workers
        self.every = host.lease_ms / 2000
        self.next = 0.0

    def plan(self, turn: Turn, now: float) -> None:
        if now < self.next:
            return
        host = self.host
        turn.call(scripts.sweep(host.queue.keys, now_ms(), host.max_stalls, 0 if self.burst else int(self.every * 1000),
                                host.queue.channel, 1000), self._took)
        self.next = now + self.every

    def _took(self, reply: Any) -> None:
        name = self.host.queue.name
        for i in range(0, len(reply or ()), 2):
            extra = {"job_id": reply[i], "queue": name}
            if reply[i + 1] == "returned":
                logger.info("job %s of queue %s was handed to a worker that never took it (it stopped answering): "
                            "given back to the queue", reply[i], name, extra=extra)
            else:
                logger.warning("job %s of queue %s stalled (its worker stopped answering): %s", reply[i], name,
                               reply[i + 1], extra=extra)


class Loop:
    """One serving session of a worker: the listener's task and the turns."""

    def __init__(self, host: Host, runner: Runner, client: Any, *, burst: bool, run_delayed: bool,
                 clean_batch: int) -> None:
        self.host = host
        self.runner = runner
        self.client = client
        self.burst = burst  # drain(): no listener, return once nothing is ready
        self.claimer = Claimer(host, runner, run_delayed)
        self.listener = Listener(host, runner, self.claimer)
        self.clean = Clean(host, clean_batch)
        self.claim = Claim(runner, self.claimer)
        self.heartbeat = Heartbeat(host, runner, burst)
        # in this order in each round trip: a finish that re-queues a job runs before the claim that may take it
        self.chores: tuple[Chore, ...] = (Finish(host, runner, self.clean), self.claim, self.heartbeat,
                                          Sweep(host, burst), self.clean)
        self._listening: asyncio.Task[None] | None = None
        self._retry_pause = 0.05
        self._down_since: float | None = None  # when Redis became unreachable (None: reachable)

    async def run(self) -> None:
        """Turn until the worker has stopped (or, in burst mode, found nothing more to do)."""
        if not self.burst:
            self._listening = asyncio.create_task(self.listener.listen(self.client))
        try:
            while await self._turn():
                pass
        finally:
            if self._listening is not None:  # the loop ended on an error: no claim of its can be waited for
                self._listening.cancel()
                await asyncio.gather(self._listening, return_exceptions=True)

    async def _turn(self) -> bool:
        """One turn; False when the loop is done."""
        now = time.monotonic()
        if self.runner.stop.requested:
            go_on = await self._stopping(now)
            if go_on is not None:
                return go_on
        batching = self._batch_wait(now)
        if batching > 0:
            # more jobs are about to finish: report them together
            await self._nap(batching)
            return True
        turn = Turn(self.host.id)
        for chore in self.chores:
            chore.plan(turn, now)
        try:
            await turn.send(self.client)
        except NETWORK_ERRORS as exc:
            return await self._unreachable(now, exc)
        if self._down_since is not None:
            logger.info("worker %s: Redis reachable again after %.1f s", self.host.id, now - self._down_since)
            self._down_since = None
            self._retry_pause = 0.05
        return await self._after()

    async def _stopping(self, now: float) -> bool | None:
        """The steps of stopping, one a turn: end the listener, release the jobs not started, then, past the
        deadline, the running ones. False once nothing is left to report; None: go on with this turn."""
        runner = self.runner
        if self._listening is not None:
            await self.listener.end(self.client, self._listening)
            self._listening = None
            return True  # what its last claim took is now held here, and released below
        if runner.buffer:
            runner.release_buffered()
        deadline = runner.stop.deadline
        if deadline is not None and now >= deadline and runner.running:
            runner.release_all("worker shut down before the job finished")
        if not runner.running and not runner.reports:
            return False
        return None

    def _batch_wait(self, now: float) -> float:
        """How long to wait for outcomes about to arrive so they are reported together (0: report now)."""
        runner, host = self.runner, self.host
        waited = now - runner.reports_since
        if (runner.reports and not runner.stop.requested and runner.busy + len(runner.buffer) > 0
                and len(runner.reports) < host.concurrency + host.prefetch and waited < BATCH_WINDOW):
            return BATCH_WINDOW - waited
        return 0.0

    async def _unreachable(self, now: float, exc: Exception) -> bool:
        """The round trip failed: undo, and try again after a pause; False: give up (stopping, Redis still
        unreachable 5 s past the deadline)."""
        for chore in self.chores:
            chore.failed()
        runner = self.runner
        if runner.stop.past(now, grace=5):
            # The jobs whose outcome could not be reported are still active in Redis; the stalled sweep recovers
            # them once their lease runs out (at-least-once: they may run again).
            logger.error("worker %s: stopping with %d unreported outcome(s) (Redis unreachable: %s); their jobs will "
                         "be recovered when their lease expires", self.host.id, len(runner.reports), exc)
            runner.reports.clear()
            runner.running.clear()
            return False
        if self._down_since is None:
            self._down_since = now
            logger.warning("worker %s: Redis unreachable (%s); retrying until it answers", self.host.id, exc)
        else:  # one warning per outage; each retry at DEBUG
            logger.debug("worker %s: Redis still unreachable (%s); retrying in %.2f s", self.host.id, exc,
                         self._retry_pause)
        await asyncio.sleep(self._retry_pause)
        self._retry_pause = min(2.0, self._retry_pause * 2)
        return True

    async def _after(self) -> bool:
        """After the round trip: turn again at once, wait for something to happen, or (burst) return."""
        runner = self.runner
        if self.clean.more:
            self.clean.again()  # without this, the lines would stay over their limits until another job finishes
            return True
        if self.claim.filled:
            return True  # there may be more ready: fill the free slots first
        if self.burst and not runner.running and not runner.reports and not self.claim.claimed:
            if self.clean.pending:
                self.clean.again()  # apply retention once more before returning
                return True
            if not self.claimer.run_delayed or self.claimer.next_due is None:
                return False
        if runner.reports:
            return True
        await self._nap(self._idle_wait())
        if runner.busy and len(runner.reports) < runner.busy:
            await asyncio.sleep(0)  # let handlers finishing right now join this round trip
        return True

    def _idle_wait(self) -> float:
        """How long to wait for something to happen (a job finishing or arriving, stop) before the next turn."""
        if self.burst:
            wait = 0.05
        else:
            wait = min(self.host.block_timeout, max(0.0, self.heartbeat.next - time.monotonic()))
        next_due = self.claimer.next_due
        if next_due is not None:
            wait = min(wait, max(0.001, next_due - time.time()))
        deadline = self.runner.stop.deadline
        if self.runner.stop.requested and deadline is not None:
            wait = min(wait, max(0.001, deadline - time.monotonic()))
        return wait

    async def _nap(self, seconds: float) -> None:
        """Sleep until woken (a job finished, a job arrived, stop) or ``seconds`` passed."""
        loop, wake = self.runner.loop, self.runner.wake
        assert loop is not None and wake is not None
        timer = loop.call_later(seconds, wake.set)  # no extra task, unlike asyncio.wait_for
        await wake.wait()
        timer.cancel()
        wake.clear()
