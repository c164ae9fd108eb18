"""The consumer's side: claim jobs under a lease, run handlers (threads for sync, asyncio for async), renew
leases, sweep stalled jobs, and report outcomes in batches.

One asyncio loop drives everything, whichever way the worker is run: ``start()`` (a background thread: notebooks,
web apps), ``run()`` (the foreground, graceful on SIGTERM/SIGINT: scripts and the CLI), ``await run_async()``, or
``drain()`` (process what is ready, then return: tests and eager mode). Per loop turn, one pipelined round trip
reports finished jobs and claims new ones. While slots are free, a listener claims; finding nothing, it offers to
take the next job and blocks on its inbox and the queue's wake-up markers. An add that finds the offer hands the job
over itself (already claimed, see add.lua): the worker's blocking pop returns the job, with no claim in between.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import queue as stdqueue
import secrets
import signal
import socket
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

from ..lane import AsyncLane
from ..errors import ValidationError
from ..errors import Retry as RetryRequest
from ..job import Job, _job_type, backoff_delay, now_ms, to_json
from ..keys import QUEUES
from ..queue import Queue
from ..scripts import SOURCES

__all__ = ["Worker"]

logger = logging.getLogger(__name__)

Handler = Callable[..., Any]
_NETWORK_ERRORS = (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError)
#: most finished jobs one retention call removes (a longer Lua call would hold Redis up); a call that removes this
#: many is followed by another at once, until the lines are back within their limits
CLEAN_BATCH = 10_000


@dataclass(eq=False)
class _Run:
    """One job this worker is running."""

    job: Job
    token: str
    finished: bool = False
    lost: bool = False
    timer: asyncio.TimerHandle | None = None
    task: asyncio.Task[Any] | None = None
    launched: bool = False
    started_ms: int = 0
    thread: threading.Thread | None = None  # the handler thread running a sync handler
    expired: bool = False  # ran past its ttl (a sync handler's thread is then abandoned)


class _ThreadPool:
    """Daemon threads running sync handlers (daemon: a handler stuck past the shutdown deadline cannot keep the
    process alive; its job was already released back to the queue).

    A thread cannot be interrupted: when a handler overruns its job's ttl, :meth:`abandon` starts a thread in its
    place, so the worker keeps ``size`` threads able to take jobs. The stuck thread is left to finish on its own
    (its result is dropped) and ends when it comes back, which brings the pool back to its size.
    """

    def __init__(self, size: int, name: str) -> None:
        self._name = name
        self._tasks: stdqueue.SimpleQueue[Callable[[], None] | None] = stdqueue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = 0
        self._abandoned: set[threading.Thread] = set()
        for _ in range(size):
            self._add_thread()

    def _add_thread(self) -> None:
        with self._lock:
            n = self._started
            self._started += 1
        threading.Thread(target=self._work, name=f"{self._name}-{n}", daemon=True).start()

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            task = self._tasks.get()
            if task is None:
                return
            task()
            with self._lock:
                if me in self._abandoned:
                    self._abandoned.discard(me)
                    return

    def submit(self, task: Callable[[], None]) -> None:
        self._tasks.put(task)

    def begin(self, run: _Run) -> bool:
        """On a handler thread, before it runs ``run``'s handler: False if the run expired before it started."""
        with self._lock:
            if run.expired:
                return False
            run.thread = threading.current_thread()
            return True

    def abandon(self, run: _Run) -> bool:
        """``run`` overran its ttl: its thread (if it started) is left behind and another takes its place.
        Returns whether a thread was abandoned."""
        with self._lock:
            run.expired = True
            if run.thread is None:
                return False  # never started: it will not start now (begin), no thread is stuck
            self._abandoned.add(run.thread)
        self._add_thread()
        return True

    def shutdown(self) -> None:
        with self._lock:
            started = self._started
        for _ in range(started):
            self._tasks.put(None)


class Worker:
    """Processes jobs of the given types from ``queue``.

    Args:
        queue: the Queue to work on.
        handlers: job type -> handler. A handler takes the Job (``def h(job)`` on a thread, or ``async def h(job)``
            on the worker's event loop) and returns a JSON-serializable result; raising fails the attempt.
            Kue style is accepted too: ``def h(job, done)``, calling ``done()`` or ``done(error)``.
        concurrency: how many jobs run at once.
        prefetch: how many more jobs the worker may hold, claimed but not started, so the next job is at hand
            when one finishes: fewer round trips per job for short jobs (0, the default, claims only when a slot
            is free). Held jobs count as active and are under the worker's lease like running ones; their
            ``started_at`` is set when their handler really starts; on shutdown they go straight back in line.
        lease: seconds a claimed job stays ours without a heartbeat; heartbeats renew it every ``lease / 3``.
            If the worker dies, the job is put back in line once the lease runs out.
        max_stalls: how many times a job may be recovered from a dead worker before it fails for good.
        block_timeout: longest idle wait, seconds, before checking the queue again (wake-ups are normally
            immediate: a blocking pop on the queue's marker).
        shutdown_timeout: seconds ``stop()`` and a first SIGTERM/SIGINT wait for running jobs before putting them
            back in line.
        name: the worker's id in ``queue.workers()`` (default ``host:pid:random``).
    """

    def __init__(self, queue: Queue, handlers: Mapping[str, Handler] | None = None, *, concurrency: int = 1,
                 prefetch: int | None = None, lease: float = 30.0, max_stalls: int = 1, block_timeout: float = 1.0,
                 shutdown_timeout: float = 30.0, name: str | None = None) -> None:
        if not isinstance(queue, Queue):
            raise ValidationError("queue", f"expected a queuekit.Queue, got {queue!r}")
        prefetch = 0 if prefetch is None else prefetch
        for label, value, low in (("concurrency", concurrency, 1), ("max_stalls", max_stalls, 0),
                                  ("prefetch", prefetch, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValidationError(label, f"expected an integer of {low} or more, got {value!r}")
        for label, fvalue in (("lease", lease), ("block_timeout", block_timeout),
                              ("shutdown_timeout", shutdown_timeout)):
            if isinstance(fvalue, bool) or not isinstance(fvalue, (int, float)) or fvalue <= 0:
                raise ValidationError(label, f"expected a number of seconds above 0, got {fvalue!r}")
        self.queue = queue
        self._done = threading.Event()
        self._done.set()
        self.handlers: dict[str, Handler] = {}
        for job_type, handler in (handlers or {}).items():
            self.register(job_type, handler)
        self.concurrency = concurrency
        self.prefetch = prefetch
        self.lease_ms = int(lease * 1000)
        self.max_stalls = max_stalls
        self.block_timeout = float(block_timeout)
        self.shutdown_timeout = float(shutdown_timeout)
        self.id = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        #: counters since start: jobs completed, attempts failed, results dropped because the lease was lost, and
        #: handler threads abandoned because their handler ran past its job's ttl (each replaced by a new thread)
        self.stats = {"completed": 0, "failed": 0, "lost": 0, "abandoned": 0}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._ready = threading.Event()
        self._stopping = False
        self._deadline: float | None = None
        # every job held, started or waiting in _buffer, by (id, lease token): a job whose lease expired while
        # this worker ran it may come back to this same worker under a new token
        self._running: dict[tuple[str, str], _Run] = {}
        self._buffer: deque[_Run] = deque()
        self._busy = 0  # jobs whose handler is running
        self._outcomes_since = 0.0  # when the oldest unreported outcome arrived
        self._outcomes: list[list[Any]] = []
        self._pool: _ThreadPool | None = None
        self._handoff: list[tuple[_Run, list[Any]]] = []
        self._handoff_lock = threading.Lock()
        self._handoff_scheduled = False
        self._seq = 0
        self._reserved = 0  # free slots that claims in flight (the listener's, the loop's) may fill
        self._next_due: float | None = None  # when the earliest delayed job of our types is due (epoch s)
        self._room: asyncio.Event | None = None  # set when a slot frees (or on stop): the listener waits on it
        self._claim_keys: list[str] = []
        self._run_delayed = False
        self._shas: dict[str, str] = {}
        self.error: BaseException | None = None

    # ---- configuration ---------------------------------------------------------------------------------------

    def register(self, job_type: str, handler: Handler) -> Worker:
        """Handle jobs of ``job_type`` with ``handler`` (before the worker starts)."""
        _job_type(job_type)
        if not callable(handler):
            raise ValidationError("handler", f"expected a function for job type {job_type!r}, got {handler!r}")
        if self.running:
            raise RuntimeError("register handlers before starting the worker")
        self.handlers[job_type] = handler
        return self

    @property
    def running(self) -> bool:
        """True while the worker's loop runs."""
        return not self._done.is_set()

    # ---- ways to run -----------------------------------------------------------------------------------------

    def start(self) -> Worker:
        """Run in a background daemon thread (notebooks, web apps); returns once the worker is serving."""
        if self.running:
            return self
        self._reset()
        self._thread = threading.Thread(target=self._thread_main, name=f"queuekit-worker-{self.id}", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def run(self) -> None:
        """Run in this thread until stopped; SIGTERM/SIGINT stop gracefully (a second signal: at once)."""
        if _loop_running():
            raise RuntimeError("an event loop is running here (a notebook?): use worker.start() or "
                               "await worker.run_async()")
        self._reset()
        restore = self._install_signals()
        try:
            asyncio.run(self._serve())
        finally:
            restore()
        if self.error is not None:
            raise self.error

    async def run_async(self) -> None:
        """Run on the current event loop until stopped."""
        self._reset()
        await self._serve()

    def drain(self, *, run_delayed: bool = False, timeout: float = 60.0) -> int:
        """Process jobs until none is ready, then return how many finished (tests, eager mode).

        Args:
            run_delayed: also run delayed jobs and retries now instead of waiting for their time.
            timeout: give up (raising TimeoutError) after this many seconds.
        """
        self._reset()
        before = self.stats["completed"] + self.stats["failed"]
        coro = asyncio.wait_for(self._serve(burst=True, run_delayed=run_delayed), timeout)
        if _loop_running():
            box: list[BaseException] = []

            def target() -> None:
                try:
                    asyncio.run(coro)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                    box.append(exc)

            t = threading.Thread(target=target, daemon=True)
            t.start()
            t.join()
            if box:
                raise box[0]
        else:
            asyncio.run(coro)
        return self.stats["completed"] + self.stats["failed"] - before

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming, wait up to ``timeout`` seconds (default ``shutdown_timeout``) for running jobs, put the
        rest back in line, and return once the worker has stopped."""
        self._request_stop(self.shutdown_timeout if timeout is None else timeout)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        else:
            self._done.wait()

    def wait(self) -> None:
        """Block until the worker stops; Ctrl-C stops it gracefully (for scripts that called ``queue.process``)."""
        try:
            while not self._done.wait(0.2):
                pass
        except KeyboardInterrupt:
            self.stop()

    def _request_stop(self, timeout: float) -> None:
        deadline = time.monotonic() + max(0.0, timeout)
        self._deadline = deadline if self._deadline is None else min(self._deadline, deadline)
        self._stopping = True
        loop, wake, room = self._loop, self._wake, self._room
        if loop is not None and wake is not None and room is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(wake.set)
                loop.call_soon_threadsafe(room.set)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def _install_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

        def on_signal(signum: int, frame: Any) -> None:
            if self._stopping:
                logger.warning("second signal: stopping now")
                self._request_stop(0)
            else:
                logger.info("signal %s: finishing running jobs (up to %.0f s)", signum, self.shutdown_timeout)
                self._request_stop(self.shutdown_timeout)

        for sig in previous:
            signal.signal(sig, on_signal)

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - recorded and logged, never printed from a thread
            self.error = exc
            logger.exception("worker %s stopped on an error", self.id)
        finally:
            self._ready.set()

    def _reset(self) -> None:
        if self.running:
            raise RuntimeError("this worker is already running")
        if not self.handlers:
            raise ValidationError("handlers", "a worker needs at least one handler: Worker(queue, {'type': fn})")
        self._stopping = False
        self._deadline = None
        self._ready.clear()
        self._done.clear()
        self.error = None

    # ---- the loop --------------------------------------------------------------------------------------------

    async def _serve(self, burst: bool = False, run_delayed: bool = False) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._reserved = 0
        self._next_due = None
        client = self.queue.async_client()
        if self._pool is None and any(not _is_async(h) for h in self.handlers.values()):
            self._pool = _ThreadPool(self.concurrency, f"queuekit-handler-{self.id}")
        self._shas = {}
        try:
            # Load every script before the first round trip: a NOSCRIPT reply inside a pipeline is run again after
            # the calls that follow it, out of order (a claim would run before the finish that re-queued a job).
            for name, source in SOURCES.items():
                self._shas[name] = await client.script_load(source)
        except _NETWORK_ERRORS:
            pass  # Redis is not reachable yet: each script is loaded on its first NOSCRIPT instead
        self._async_types = {t for t, h in self.handlers.items() if _is_async(h)}
        # Kue-style sync handlers, read once per run (inspect.signature costs about 10 us; async ones never look)
        self._done_types = {t for t, h in self.handlers.items() if _wants_done(h)}
        keys = self.queue.keys
        types = sorted(self.handlers)
        self._claim_keys = self._keys_of_claim()
        self._run_delayed = run_delayed
        listener = None if burst else asyncio.create_task(self._listen(client))
        beat_every = self.lease_ms / 3000
        sweep_every = self.lease_ms / 2000
        next_beat = next_sweep = next_clean = 0.0
        retry_pause = 0.05
        finished_since_clean = False
        self._ready.set()
        logger.info("worker %s serving %s on queue %s (concurrency %d)", self.id, ", ".join(types),
                    self.queue.name, self.concurrency)
        try:
            while True:
                now = time.monotonic()
                if self._stopping and listener is not None:
                    await self._end_listener(client, listener)
                    listener = None
                    continue  # what its last claim took is now held here, and released below
                if self._stopping and self._buffer:
                    self._release_buffered()
                if self._stopping and self._deadline is not None and now >= self._deadline and self._running:
                    self._release_all("worker shut down before the job finished")
                if self._stopping and not self._running and not self._outcomes:
                    break
                if (self._outcomes and not self._stopping and self._busy + len(self._buffer) > 0
                        and len(self._outcomes) < self.concurrency + self.prefetch
                        and now - self._outcomes_since < 0.005):
                    # more jobs are about to finish: report them together (at most 5 ms later)
                    await self._nap(0.005 - (now - self._outcomes_since))
                    continue
                calls: list[tuple[str, list[str], list[Any]]] = []
                outcomes, self._outcomes = self._outcomes, []
                if outcomes:
                    calls.append(("finish", [keys.active, keys.complete, keys.failed, keys.base],
                                  [now_ms(), self.queue.channel, json.dumps(outcomes, separators=(",", ":"))]))
                    finished_since_clean = True
                free = self._free()
                want = max(0, free)
                if free > 0 or (self._next_due is not None and time.time() >= self._next_due and not self._stopping):
                    # with no slot free (the listener may hold them all), a claim of 0 still promotes the jobs
                    # falling due, and its wake-up brings them to the listener
                    calls.append(("claim", self._claim_keys, self._claim_args(want)))
                    self._reserved += want  # until the reply is in: the listener must not claim these slots too
                beat = now >= next_beat
                if beat:
                    pairs = [x for run in self._running.values() if not run.lost for x in (run.job.id, run.token)]
                    calls.append(("extend", [keys.active, keys.job_prefix], [now_ms() + self.lease_ms, *pairs]))
                    next_beat = now + beat_every
                if now >= next_sweep:
                    calls.append(("sweep", [keys.active, keys.failed, keys.sweep, keys.base],
                                  [now_ms(), self.max_stalls, 0 if burst else int(sweep_every * 1000),
                                   self.queue.channel, 1000]))
                    next_sweep = now + sweep_every
                if finished_since_clean and now >= next_clean:
                    for state in ("complete", "failed"):
                        keep, age = self.queue.retention[state]
                        calls.append(("clean", [getattr(keys, state), keys.base],
                                      [now_ms(), -1 if keep is None else keep, -1 if age is None else age,
                                       CLEAN_BATCH]))
                    next_clean, finished_since_clean = now + 1.0, False
                try:
                    replies = await self._execute(client, calls, beat and not burst)
                    retry_pause = 0.05
                except _NETWORK_ERRORS as exc:
                    if any(name == "claim" for name, _k, _a in calls):
                        self._unreserve(want)
                    self._outcomes[:0] = outcomes  # nothing is lost: report them on the next try
                    if self._stopping and self._deadline is not None and now > self._deadline + 5:
                        # Redis stays unreachable past the shutdown deadline: stop anyway. The jobs whose outcome
                        # could not be reported are still active in Redis; the stalled sweep recovers them once
                        # their lease runs out (at-least-once: they may run again).
                        logger.error("worker %s: stopping with %d unreported outcome(s) (Redis unreachable: %s); "
                                     "their jobs will be recovered when their lease expires", self.id,
                                     len(self._outcomes), exc)
                        self._outcomes.clear()
                        self._running.clear()
                        break
                    logger.warning("worker %s: Redis unreachable (%s); retrying in %.2f s", self.id, exc,
                                   retry_pause)
                    await asyncio.sleep(retry_pause)
                    retry_pause = min(2.0, retry_pause * 2)
                    continue
                claimed = 0
                more_to_clean = False
                for (name, _k, args), reply in zip(calls, replies):
                    if name == "finish":
                        self._after_finish(outcomes, reply)
                    elif name == "claim":
                        self._unreserve(want)
                        claimed += self._take_claim(reply)
                    elif name == "extend":
                        for i in range(0, len(reply), 2):
                            self._lose(reply[i], reply[i + 1])
                    elif name == "clean" and reply == args[3]:
                        more_to_clean = True  # it removed all one call may: jobs over the limits may be left
                    elif name == "sweep" and reply:
                        for i in range(0, len(reply), 2):
                            if reply[i + 1] == "returned":
                                logger.info("job %s of queue %s was handed to a worker that never took it (it "
                                            "stopped answering): back in line", reply[i], self.queue.name)
                            else:
                                logger.warning("job %s of queue %s stalled (its worker stopped answering): %s",
                                               reply[i], self.queue.name, reply[i + 1])
                if more_to_clean:
                    # without this, the lines would stay over their limits until another job finishes here
                    next_clean, finished_since_clean = 0.0, True
                    continue
                if claimed and claimed == free:
                    continue  # there may be more ready: fill the free slots first
                if burst and not self._running and not self._outcomes and not claimed:
                    if finished_since_clean:
                        next_clean = 0.0  # apply retention once more before returning
                        continue
                    if not run_delayed or self._next_due is None:
                        break
                if self._outcomes:
                    continue
                wait = self.block_timeout if not burst else 0.05
                wait = min(wait, max(0.0, next_beat - time.monotonic())) if not burst else wait
                if self._next_due is not None:
                    wait = min(wait, max(0.001, self._next_due - time.time()))
                if self._stopping and self._deadline is not None:
                    wait = min(wait, max(0.001, self._deadline - time.monotonic()))
                await self._nap(wait)
                if self._busy and len(self._outcomes) < self._busy:
                    await asyncio.sleep(0)  # let handlers finishing right now join this round trip
        finally:
            if listener is not None:  # the loop ended on an error: no claim of its can be waited for
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
            await self._unregister(client)
            await client.aclose()
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None
            self._loop = None
            self._done.set()
            logger.info("worker %s stopped (%s)", self.id, self.stats)

    async def _nap(self, seconds: float) -> None:
        """Sleep until woken (a job finished, a job arrived, stop) or ``seconds`` passed."""
        assert self._loop is not None and self._wake is not None
        timer = self._loop.call_later(seconds, self._wake.set)  # cheaper than wait_for's extra task
        await self._wake.wait()
        timer.cancel()
        self._wake.clear()

    async def _execute(self, client: Any, calls: list[tuple[str, list[str], list[Any]]], beat: bool) -> list[Any]:
        """Run the script calls in one pipelined round trip (EVALSHA; scripts loaded once on NOSCRIPT)."""
        if not calls:
            return []
        pipe = client.pipeline(transaction=False)
        for name, keys, args in calls:
            # execute_command, not pipe.evalsha: redis-py's cluster pipelines refuse the evalsha method, though
            # every key of a call shares the queue's hash tag (one slot, one node, still one round trip)
            pipe.execute_command("EVALSHA", self._sha(name), len(keys), *keys, *args)
        if beat:
            info = json.dumps({"id": self.id, "host": socket.gethostname(), "pid": os.getpid(),
                               "types": sorted(self.handlers), "concurrency": self.concurrency,
                               "running": len(self._running), **self.stats}, separators=(",", ":"))
            pipe.zadd(self.queue.keys.workers, {self.id: now_ms()})
            pipe.zremrangebyscore(self.queue.keys.workers, "-inf", now_ms() - 3_600_000)  # forget long-dead workers
            pipe.set(self.queue.keys.worker(self.id), info, px=self.lease_ms * 2)
            # the queue's name again, lost if Redis restarted empty (on a cluster the pipeline sends it to its node)
            pipe.sadd(QUEUES, self.queue.name)
        replies = await pipe.execute(raise_on_error=False)
        results: list[Any] = []
        for (name, keys, args), reply in zip(calls, replies):
            if isinstance(reply, redis.exceptions.NoScriptError):
                # a restarted server forgot the scripts: load and run just this call again
                self._shas[name] = await client.script_load(SOURCES[name])
                reply = await client.evalsha(self._shas[name], len(keys), *keys, *args)
            elif isinstance(reply, Exception):
                if isinstance(reply, _NETWORK_ERRORS):
                    raise reply
                logger.error("worker %s: script %s failed: %s", self.id, name, reply)
                reply = [] if name != "claim" else "[-1,0,[]]"
            results.append(reply)
        return results

    def _sha(self, name: str) -> str:
        if name not in self._shas:
            import hashlib

            self._shas[name] = hashlib.sha1(SOURCES[name].encode()).hexdigest()
        return self._shas[name]

    def _free(self) -> int:
        """How many more jobs this worker may claim now."""
        if self._stopping:
            return 0
        return self.concurrency + self.prefetch - len(self._running) - self._reserved

    def _unreserve(self, n: int) -> None:
        """A claim in flight came back: its slots count as free again (or as taken by the jobs it returned)."""
        self._reserved -= n
        if n and self._room is not None:
            self._room.set()

    def _keys_of_claim(self) -> list[str]:
        """KEYS of claim.lua for this worker and its types."""
        keys = self.queue.keys
        return [keys.active, keys.meta, keys.job_prefix, keys.stop(self.id), keys.ready(self.id),
                keys.inbox(self.id)] + [k for t in sorted(self.handlers) for k in (*keys.lines(t), keys.idle(t))]

    def _claim_args(self, want: int, offer: bool = False) -> list[Any]:
        """ARGV of claim.lua for ``want`` jobs, with a new lease token; ``offer``: the listener's claim, which takes
        the inbox and, finding nothing, offers to take the next job until a little after its blocking wait ends."""
        self._seq += 1
        now = now_ms()
        promote_until = now + (10 ** 12 if self._run_delayed else 0)
        offer_ms = int(self.block_timeout * 1000) + 1000 if offer else 0
        return [now, want, self.lease_ms, self.id, f"{self.id}:{self._seq}", self.queue.channel, promote_until,
                offer_ms]

    def _take_claim(self, reply: Any) -> int:
        """Start (or hold) the jobs a claim returned; returns how many."""
        due, _paused, jobs = json.loads(reply) if isinstance(reply, str) else (-1, 0, [])
        self._next_due = None if due < 0 else due / 1000
        if not isinstance(jobs, list):  # cjson encodes an empty table as {}
            return 0
        for job_id, fields in jobs:
            self._start(job_id, fields)
        return len(jobs)

    async def _listen(self, client: Any) -> None:
        """While a slot is free: claim, and when there is nothing to claim, offer to take the next job and block on
        this worker's inbox, the types' markers and its stop list. A producer's add that finds the offer hands the
        job over already claimed, and the blocking pop returns it: one trip through Redis from the add to the
        handler. Also wakes the loop."""
        assert self._wake is not None and self._room is not None
        keys = self.queue.keys
        inbox = keys.inbox(self.id)
        waits = [inbox] + [keys.mark(t) for t in sorted(self.handlers)] + [keys.stop(self.id)]
        lane = AsyncLane(client)
        pause = 0.05
        try:
            while not self._stopping:
                free = self._free()
                if free <= 0:
                    self._room.clear()
                    await self._room.wait()
                    continue
                try:
                    await self._wait_for_jobs(client, lane, waits, free)
                    pause = 0.05
                except _NETWORK_ERRORS:
                    await asyncio.sleep(pause)
                    pause = min(2.0, pause * 2)
                except Exception:  # noqa: BLE001 - a bug here must not end the listener silently: say so, go on
                    logger.exception("worker %s: the listener's wait failed", self.id)
                    await asyncio.sleep(pause)
                    pause = min(2.0, pause * 2)
                self._wake.set()  # the loop learns of the jobs, and of the next due time
        finally:
            await lane.close()

    async def _wait_for_jobs(self, client: Any, lane: AsyncLane, waits: list[str], free: int) -> None:
        """One turn of the listener, for up to ``free`` jobs (network errors are the caller's): a claim with the
        offer, then, if it found nothing, the blocking pop, until a delayed job falls due at the latest. Both
        through the listener's ``lane``."""
        self._reserved += free  # the loop does not claim these slots meanwhile
        try:
            claim = ("EVALSHA", self._sha("claim"), len(self._claim_keys), *self._claim_keys,
                     *self._claim_args(free, offer=True))
            reply = await lane.call(*claim)
            if self._take_claim(reply):
                await asyncio.sleep(0)  # let the handlers just started run before the next claim
                return
            if self._stopping:
                return
            timeout = self.block_timeout
            if self._next_due is not None:  # wake when it is due: the next turn's claim promotes it
                timeout = min(timeout, max(0.01, self._next_due - time.time()))
            # a reply later than the pop's own timeout means a dead link: give up on it then
            got = await lane.call("BLPOP", *waits, timeout, timeout=timeout + 5)
            if got is not None and got[0] == waits[0]:
                try:
                    job_id, fields = json.loads(got[1])
                    fields["token"]  # noqa: B018 - the entry must carry the hand-off's lease token
                except (ValueError, TypeError, KeyError):
                    # not written by an add (hand-made?): dropped; if it named a job, the sweep recovers that job
                    logger.error("worker %s: dropped an inbox entry that is not a handed job: %.80r", self.id, got[1])
                    return
                self._start(job_id, fields)
                await asyncio.sleep(0)
        except redis.exceptions.NoScriptError:  # a restarted server forgot the scripts
            self._shas["claim"] = await client.script_load(SOURCES["claim"])
        except redis.ResponseError as exc:
            logger.error("worker %s: script claim failed: %s", self.id, exc)
            await asyncio.sleep(0.05)
        finally:
            self._unreserve(free)

    async def _end_listener(self, client: Any, listener: asyncio.Task[None]) -> None:
        """Stop the listener without cutting off a reply (the jobs in it would stay claimed by nobody until their
        lease ran out): its blocking pop is woken through this worker's stop list, and a claim on its way sees the
        list and claims nothing; then it ends by itself."""
        assert self._room is not None
        self._room.set()
        if not listener.done():
            try:
                await client.rpush(self.queue.keys.stop(self.id), "stop", "stop")
            except _NETWORK_ERRORS:
                pass  # Redis is unreachable: the listener's calls cannot return anything either
            try:
                await asyncio.wait_for(asyncio.shield(listener), timeout=self.block_timeout + 2)
            except asyncio.TimeoutError:
                listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)

    async def _unregister(self, client: Any) -> None:
        """Leave the queue (leave.lua): no add hands this worker a job any more, and one handed but never taken
        goes back in line."""
        keys = self.queue.keys
        leave_keys = [keys.workers, keys.worker(self.id), keys.stop(self.id), keys.ready(self.id),
                      keys.inbox(self.id), keys.base] + [keys.idle(t) for t in sorted(self.handlers)]
        try:
            await self._execute(client, [("leave", leave_keys, [self.id])], False)
        except _NETWORK_ERRORS:
            pass  # its offer expires by itself; a job in its inbox is returned by the sweep once its lease runs out

    # ---- running jobs ----------------------------------------------------------------------------------------

    def _start(self, job_id: str, fields: dict[str, str]) -> None:
        """Hold a claimed job (its fields carry the lease token) and start it if a slot is free."""
        token = fields.get("token", "")
        try:
            job = Job.from_dict(job_id, fields, self.queue)
        except ValueError as exc:
            logger.error("job %s of queue %s is corrupt: %s", job_id, self.queue.name, exc)
            self._outcomes.append([job_id, token, "fatal", f"corrupt job: {exc}", "", 0])
            return
        job._lease_ms = self.lease_ms  # type: ignore[attr-defined]
        run = _Run(job=job, token=token)
        self._running[(job_id, token)] = run
        if self._busy < self.concurrency and not self._stopping:
            self._launch(run)
        else:
            self._buffer.append(run)

    def _launch(self, run: _Run) -> None:
        """Start a held job's handler (on the loop)."""
        job = run.job
        run.launched = True
        self._busy += 1
        handler = self.handlers.get(job.type)
        if handler is None:  # only handled types are claimed; kept as a guard
            self._finish(run, ["fatal", f"no handler for job type {job.type!r}", ""])
            return
        assert self._loop is not None
        if job.opts.ttl:
            run.timer = self._loop.call_later(job.opts.ttl / 1000, self._expire, run)
        if job.type in self._async_types:
            run.task = self._loop.create_task(self._run_async(run, handler))
        else:
            pool = self._pool
            assert pool is not None
            loop = self._loop
            wants_done = job.type in self._done_types
            pool.submit(lambda: self._run_sync(pool, run, handler, wants_done, loop))

    def _run_sync(self, pool: _ThreadPool, run: _Run, handler: Handler, wants_done: bool,
                  loop: asyncio.AbstractEventLoop) -> None:
        """On a handler thread: run the job, then hand the outcome to the loop. Outcomes of jobs finishing close
        together travel in one wake-up of the loop rather than one each."""
        if not pool.begin(run):
            return  # it ran out of time before a thread took it: its outcome is already recorded
        outcome = _call_handler(run.job, handler, wants_done)
        with self._handoff_lock:
            self._handoff.append((run, outcome))
            if self._handoff_scheduled:
                return
            self._handoff_scheduled = True
        try:
            loop.call_soon_threadsafe(self._collect)
        except RuntimeError:  # the loop is gone: the job was released at shutdown
            pass

    def _collect(self) -> None:
        """On the loop: take every outcome the handler threads handed over."""
        with self._handoff_lock:
            ready, self._handoff = self._handoff, []
            self._handoff_scheduled = False
        for run, outcome in ready:
            self._finish(run, outcome)

    async def _run_async(self, run: _Run, handler: Handler) -> None:
        try:
            result = await handler(run.job)
            outcome = _encode_result(result)
        except asyncio.CancelledError:
            return  # cancelled by the ttl or shutdown, which already recorded the outcome
        except Exception as exc:  # noqa: BLE001 - a failing handler is an outcome, not a worker crash
            outcome = _failure(exc)
        self._finish(run, outcome)

    def _expire(self, run: _Run) -> None:
        """A job ran past its ttl: fail the attempt and give its slot back. An async handler is cancelled; a sync
        one cannot be interrupted, so its thread is abandoned and another takes its place."""
        if run.finished:
            return
        ttl = run.job.opts.ttl
        self._finish(run, ["fail", "TTL exceeded", f"the attempt ran longer than its ttl of {ttl} ms", None])
        if run.task is not None:
            logger.warning("job %s ran past its ttl of %s ms: its handler is cancelled", run.job.id, ttl)
            run.task.cancel()
        elif self._pool is not None and self._pool.abandon(run):
            self.stats["abandoned"] += 1
            logger.warning("job %s ran past its ttl of %s ms: its handler thread is abandoned (a thread cannot be "
                           "interrupted; its result will be dropped) and a new thread takes its place",
                           run.job.id, ttl)

    def _finish(self, run: _Run, outcome: list[Any]) -> None:
        """Queue a job's outcome for the next round trip (runs on the loop)."""
        if run.finished:
            return
        run.finished = True
        if run.timer is not None:
            run.timer.cancel()
        self._running.pop((run.job.id or "", run.token), None)
        if self._room is not None:
            self._room.set()
        if run.launched:
            self._busy -= 1
            self._launch_next()
        if run.lost:
            self.stats["lost"] += 1
            return
        kind, value, trace = outcome[0], outcome[1], outcome[2]
        delay = 0
        if kind == "fail":
            explicit = outcome[3] if len(outcome) > 3 else None
            delay = explicit if explicit is not None else backoff_delay(run.job.opts.backoff, run.job.failures + 1,
                                                                       self.queue.backoffs)
        if kind in ("ok", "fail", "fatal"):
            self.stats["completed" if kind == "ok" else "failed"] += 1
        if not self._outcomes:
            self._outcomes_since = time.monotonic()
        self._outcomes.append([run.job.id, run.token, kind, value, trace or "", int(delay), run.started_ms, now_ms()])
        if self._wake is not None:
            self._wake.set()

    def _launch_next(self) -> None:
        while self._buffer and self._busy < self.concurrency and not self._stopping:
            run = self._buffer.popleft()
            if run.finished:
                continue
            if run.lost:
                self._finish(run, ["release", "lease lost before the job started", ""])
                continue
            run.started_ms = run.job.started_at = now_ms()  # held since its claim: record when it really starts
            self._launch(run)

    def _release_buffered(self) -> None:
        while self._buffer:
            run = self._buffer.popleft()
            self._finish(run, ["release", "worker shut down before the job started", ""])

    def _after_finish(self, outcomes: list[list[Any]], reply: list[int]) -> None:
        for outcome, applied in zip(outcomes, reply):
            if not int(applied):
                self.stats["lost"] += 1
                logger.warning("worker %s: job %s was no longer ours (lease lost); its %s outcome was dropped",
                               self.id, outcome[0], outcome[2])

    def _lose(self, job_id: str, token: str) -> None:
        run = self._running.get((job_id, token))
        if run is not None and not run.finished and not run.lost:
            run.lost = True
            logger.warning("worker %s lost the lease of job %s; its result will be dropped", self.id, job_id)

    def _release_all(self, reason: str) -> None:
        self._release_buffered()
        for run in list(self._running.values()):
            if run.task is not None:
                run.task.cancel()
            self._finish(run, ["release", reason, ""])


    def _repr_html_(self) -> str:
        from ..display import worker_html

        return worker_html(self)

    def __repr__(self) -> str:
        return (f"<Worker {self.id} on {self.queue.name!r} types={sorted(self.handlers)} "
                f"concurrency={self.concurrency} {'running' if self.running else 'stopped'}>")


# ---- handler calling (shared by the sync and async paths) ----------------------------------------------------

def _is_async(handler: Handler) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(getattr(handler, "__call__", None))


def _wants_done(handler: Handler) -> bool:
    try:
        params = [p for p in inspect.signature(handler).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) >= 2


def _call_handler(job: Job, handler: Handler, wants_done: bool) -> list[Any]:
    """Run a sync handler (``wants_done``: Kue style, ``handler(job, done)``) and turn what happened into an
    outcome [kind, value, traceback, retry delay]."""
    try:
        if wants_done:
            box: list[tuple[Any, Any]] = []

            def done(error: Any = None, result: Any = None) -> None:
                if not box:
                    box.append((error, result))

            returned = handler(job, done)
            error, result = box[0] if box else (None, returned)
            if error is not None:
                exc = error if isinstance(error, BaseException) else Exception(str(error))
                return _failure(exc, with_traceback=isinstance(error, BaseException))
            return _encode_result(result)
        return _encode_result(handler(job))
    except Exception as exc:  # noqa: BLE001 - a failing handler is an outcome, not a worker crash
        return _failure(exc)


def _encode_result(result: Any) -> list[Any]:
    try:
        return ["ok", to_json(result), ""]
    except (TypeError, ValueError, RecursionError) as exc:
        return ["fail", f"the handler's result is not JSON-serializable: {exc}", "", None]


def _failure(exc: BaseException, with_traceback: bool = True) -> list[Any]:
    message = _storable(str(exc) or type(exc).__name__)
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) if with_traceback else ""
    trace = _storable(trace)
    delay = None
    if isinstance(exc, RetryRequest) and exc.delay is not None:
        delay = int(exc.delay * 1000)
    return ["fail", message, trace, delay]


def _storable(text: str) -> str:
    """``text`` as Redis can store it: a character UTF-8 cannot encode (a lone surrogate) is written out as its
    escape (``\\ud800``), so an error message never keeps its job from being failed."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False
