"""The listener: while a slot is free, claim; finding nothing, offer to take the next job and block.

Its calls go through an :class:`~queuekit.lane.AsyncLane` (one kept connection): a claim with the offer, then a
blocking pop on this worker's inbox, the types' wake-up markers and its stop list. A producer's add that finds the
offer hands the job over already claimed (add.lua), and the pop returns it: one trip through Redis from the add to
the handler. :class:`Claimer` builds every claim of the worker (the loop's too) and applies its reply.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import redis

from .. import scripts
from ..job import now_ms
from ..lane import AsyncLane
from .runner import Host, Runner

__all__ = ["NETWORK_ERRORS", "Claimer", "Listener"]

logger = logging.getLogger(__name__)

#: what a call raises when Redis cannot be reached (retried with a backoff, never the end of the worker)
NETWORK_ERRORS = (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError)
#: the reply a claim that failed with an error reply stands for: nothing claimed, no delayed job due
NOTHING_CLAIMED = "[-1,0,[]]"


class Claimer:
    """Builds this worker's claims (each with a new lease token) and applies their replies: the jobs go to the
    runner, and :attr:`next_due` learns when the earliest delayed job of the worker's types falls due."""

    def __init__(self, host: Host, runner: Runner, run_delayed: bool) -> None:
        self.host = host
        self.runner = runner
        self.run_delayed = run_delayed  # promote every delayed job now (drain(run_delayed=True))
        self.types = sorted(host.handlers)
        self.next_due: float | None = None  # when the earliest delayed job of our types is due (epoch s)
        self._seq = 0

    def call(self, want: int, offer: bool = False) -> scripts.Call:
        """A claim of up to ``want`` jobs (0: only promote the delayed jobs falling due); ``offer``: the listener's
        claim, which takes the inbox and, finding nothing, offers to take the next job until a little after its
        blocking wait ends."""
        host = self.host
        self._seq += 1
        now = now_ms()
        return scripts.claim(host.queue.keys, host.id, self.types, now=now, want=want, lease_ms=host.lease_ms,
                             token=f"{host.id}:{self._seq}", channel=host.queue.channel,
                             promote_until=now + (10 ** 12 if self.run_delayed else 0),
                             offer_ms=int(host.block_timeout * 1000) + 1000 if offer else 0)

    def take(self, reply: Any) -> int:
        """Start (or hold) the jobs a claim returned; returns how many."""
        due, _paused, jobs = json.loads(reply) if isinstance(reply, str) else (-1, 0, [])
        self.next_due = None if due < 0 else due / 1000
        if not isinstance(jobs, list):  # cjson encodes an empty table as {}
            return 0
        for job_id, fields in jobs:
            self.runner.start(job_id, fields)
        return len(jobs)

    def due(self) -> bool:
        """A delayed job of ours has fallen due."""
        return self.next_due is not None and time.time() >= self.next_due


class Listener:
    """The task that claims while slots are free and blocks for jobs when there is nothing to claim."""

    def __init__(self, host: Host, runner: Runner, claimer: Claimer) -> None:
        self.host = host
        self.runner = runner
        self.claimer = claimer
        keys = host.queue.keys
        self.waits = [keys.inbox(host.id)] + [keys.mark(t) for t in claimer.types] + [keys.stop(host.id)]

    async def listen(self, client: Any) -> None:
        """Until the worker stops: wait for a free slot, then for jobs (:meth:`_wait_for_jobs`); wakes the loop
        after each wait."""
        runner = self.runner
        assert runner.wake is not None and runner.room is not None
        lane = AsyncLane(client)
        pause = 0.05
        try:
            while not runner.stop.requested:
                free = runner.free()
                if free <= 0:
                    runner.room.clear()
                    await runner.room.wait()
                    continue
                try:
                    await self._wait_for_jobs(lane, free)
                    pause = 0.05
                except NETWORK_ERRORS as exc:  # the loop's turns log the outage once; here only at DEBUG
                    logger.debug("worker %s: the listener's wait lost Redis (%s); retrying in %.2f s",
                                 self.host.id, exc, pause)
                    await asyncio.sleep(pause)
                    pause = min(2.0, pause * 2)
                except Exception:  # noqa: BLE001 - a bug here must not end the listener silently: say so, go on
                    logger.exception("worker %s: the listener's wait failed", self.host.id)
                    await asyncio.sleep(pause)
                    pause = min(2.0, pause * 2)
                runner.wake.set()  # the loop learns of the jobs, and of the next due time
        finally:
            await lane.close()

    async def _wait_for_jobs(self, lane: AsyncLane, free: int) -> None:
        """One turn of the listener, for up to ``free`` jobs (network errors are the caller's): a claim with the
        offer, then, if it found nothing, the blocking pop, until a delayed job falls due at the latest. Both
        through the listener's ``lane``."""
        runner = self.runner
        runner.reserved += free  # the loop does not claim these slots meanwhile
        try:
            reply = await scripts.run_async(lane, self.claimer.call(free, offer=True))
            if self.claimer.take(reply):
                await asyncio.sleep(0)  # let the handlers just started run before the next claim
                return
            if not runner.stop.requested:
                await self._block(lane)
        except redis.ResponseError as exc:
            logger.error("worker %s: script claim failed: %s", self.host.id, exc)
            await asyncio.sleep(0.05)
        finally:
            runner.unreserve(free)

    async def _block(self, lane: AsyncLane) -> None:
        """The blocking pop: a job handed over (the inbox), a marker (jobs to claim), the stop list, or nothing
        until the wait ends."""
        timeout = self.host.block_timeout
        next_due = self.claimer.next_due
        if next_due is not None:  # wake when it is due: the next turn's claim promotes it
            timeout = min(timeout, max(0.01, next_due - time.time()))
        # a reply later than the pop's own timeout means a dead link: give up on it then
        got = await lane.call("BLPOP", *self.waits, timeout, timeout=timeout + 5)
        if got is None or got[0] != self.waits[0]:
            return
        try:
            job_id, fields = json.loads(got[1])
            fields["token"]  # noqa: B018 - the entry must carry the hand-off's lease token
        except (ValueError, TypeError, KeyError):
            # not written by an add (hand-made?): dropped; if it named a job, the sweep recovers that job
            logger.error("worker %s: dropped an inbox entry that is not a handed job: %.80r", self.host.id, got[1])
            return
        self.runner.start(job_id, fields)
        await asyncio.sleep(0)

    async def end(self, client: Any, task: asyncio.Task[None]) -> None:
        """Stop the listener's ``task`` without cutting off a reply (the jobs in it would stay claimed by nobody
        until their lease ran out): its blocking pop is woken through this worker's stop list, and a claim on its
        way sees the list and claims nothing; then it ends by itself."""
        assert self.runner.room is not None
        self.runner.room.set()
        if not task.done():
            try:
                await client.rpush(self.host.queue.keys.stop(self.host.id), "stop", "stop")
            except NETWORK_ERRORS:
                pass  # Redis is unreachable: the listener's calls cannot return anything either
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=self.host.block_timeout + 2)
            except asyncio.TimeoutError:
                task.cancel()
        await asyncio.gather(task, return_exceptions=True)
