"""The consumer's side: claim jobs under a lease, run handlers (threads for sync, asyncio for async), renew
leases, sweep stalled jobs, and report outcomes in batches.

One asyncio loop drives everything, whichever way the worker is run: ``start()`` (a background thread: notebooks,
web apps), ``run()`` (the foreground, graceful on SIGTERM/SIGINT: scripts and the CLI), ``await run_async()``, or
``drain()`` (process what is ready, then return: tests and eager mode). Per loop turn, one pipelined round trip
reports finished jobs and claims new ones. While slots are free, a listener claims; finding nothing, it offers to
take the next job and blocks on its inbox and the queue's wake-up markers. An add that finds the offer hands the job
over itself (already claimed, see add.lua): the worker's blocking pop returns the job, with no claim in between.

The rooms: this module is the :class:`Worker` surface (settings, the ways to run and stop, counters, hooks);
:mod:`.loop` the turns and their chores; :mod:`.listener` the claim-or-block listener; :mod:`.runner` the slots,
the handler threads, the handler conventions and the :class:`Outcome` of a run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

import redis

from .. import scripts
from ..errors import ValidationError
from ..job import Job, _job_type
from ..queue import Queue
from .listener import NETWORK_ERRORS
from .loop import Loop
from .runner import Handler, Kind, Outcome, Run, Runner, Stopping

__all__ = ["CLEAN_BATCH", "Kind", "Outcome", "Worker"]

logger = logging.getLogger(__name__)

#: most finished jobs one retention call removes (a longer Lua call would hold Redis up); a call that removes this
#: many is followed by another at once, until the lines are back within their limits (read when the worker starts)
CLEAN_BATCH = 10_000


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

    Hooks: a subclass may override :meth:`on_claim`, :meth:`on_outcome` and :meth:`on_report` to watch (or pause
    at) the three moments of a job's way through the worker: received, finished, reported. They do nothing by
    default; they run on the worker's event loop, so they must be quick; one that raises is logged and ignored.
    """

    def __init__(self, queue: Queue, handlers: Mapping[str, Handler] | None = None, *, concurrency: int = 1,
                 prefetch: int | None = None, lease: float = 30.0, max_stalls: int = 1, block_timeout: float = 1.0,
                 shutdown_timeout: float = 30.0, name: str | None = None) -> None:
        prefetch = 0 if prefetch is None else prefetch
        _validate(queue, concurrency=concurrency, max_stalls=max_stalls, prefetch=prefetch, lease=lease,
                  block_timeout=block_timeout, shutdown_timeout=shutdown_timeout)
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
        self._ready = threading.Event()
        self._stop = Stopping()
        self._runner = Runner(self, self._stop)
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

    @property
    def _running(self) -> dict[tuple[str, str], Run]:
        """The jobs held, by (id, lease token) (the notebook view counts them)."""
        return self._runner.running

    # ---- hooks -----------------------------------------------------------------------------------------------

    def on_claim(self, job_id: str, token: str) -> None:
        """Hook: this worker received the job ``job_id`` under the lease ``token`` (from a claim, or handed over by
        an add), before it is held or started."""

    def on_outcome(self, job: Job, token: str, outcome: Outcome, lost: bool) -> None:
        """Hook: a run of ``job`` ended (its handler returned or raised, its ttl ran out, or the job was released
        at shutdown or before it started); called once per run, after its slot was given back. The outcome waits
        for the next round trip to Redis; ``lost``: the lease was lost meanwhile and the outcome is dropped. The
        retry delay of a failed attempt is filled in in the report (see :meth:`on_report`)."""

    def on_report(self, job_id: str, token: str, outcome: Outcome, accepted: bool) -> None:
        """Hook: Redis answered the report of ``outcome`` (as sent, its retry delay settled): ``accepted`` False
        when the job was no longer this worker's (its lease expired and another took it), and nothing changed."""

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
        self._stop.request(timeout)
        runner = self._runner
        loop, wake, room = runner.loop, runner.wake, runner.room
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
            if self._stop.requested:
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
        self._stop.requested = False
        self._stop.deadline = None
        self._ready.clear()
        self._done.clear()
        self.error = None

    # ---- serving ---------------------------------------------------------------------------------------------

    async def _serve(self, burst: bool = False, run_delayed: bool = False) -> None:
        """One serving session: the loop's turns (:class:`~queuekit.worker.loop.Loop`) until stopped, then leave
        the queue."""
        client = self.queue.async_client()
        self._runner.open(asyncio.get_running_loop())
        try:
            try:
                # Load every script before the first round trip: a NOSCRIPT reply inside a pipeline is run again
                # after the calls that follow it, out of order (a claim would run before the finish that re-queued
                # a job).
                await scripts.load_all_async(client)
            except NETWORK_ERRORS:
                pass  # Redis is not reachable yet: each script is loaded on its first NOSCRIPT instead
            loop = Loop(self, self._runner, client, burst=burst, run_delayed=run_delayed, clean_batch=CLEAN_BATCH)
            self._ready.set()
            logger.info("worker %s serving %s on queue %s (concurrency %d)", self.id, ", ".join(sorted(self.handlers)),
                        self.queue.name, self.concurrency)
            await loop.run()
        finally:
            await self._unregister(client)
            await client.aclose()
            self._runner.close()
            self._done.set()
            logger.info("worker %s stopped (%s)", self.id, self.stats)

    async def _unregister(self, client: Any) -> None:
        """Leave the queue (leave.lua): no add hands this worker a job any more, and one handed but never taken
        goes back in line."""
        try:
            await scripts.run_async(client, scripts.leave(self.queue.keys, self.id, sorted(self.handlers)))
        except NETWORK_ERRORS:
            pass  # its offer expires by itself; a job in its inbox is returned by the sweep once its lease runs out
        except redis.ResponseError as exc:
            logger.error("worker %s: script leave failed: %s", self.id, exc)

    def _repr_html_(self) -> str:
        from ..display import worker_html

        return worker_html(self)

    def __repr__(self) -> str:
        return (f"<Worker {self.id} on {self.queue.name!r} types={sorted(self.handlers)} "
                f"concurrency={self.concurrency} {'running' if self.running else 'stopped'}>")


def _validate(queue: Any, **settings: Any) -> None:
    """Raise ValidationError for a queue that is not a Queue, or a setting out of its range."""
    if not isinstance(queue, Queue):
        raise ValidationError("queue", f"expected a queuekit.Queue, got {queue!r}")
    for label in ("concurrency", "max_stalls", "prefetch"):
        value, low = settings[label], 1 if label == "concurrency" else 0
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValidationError(label, f"expected an integer of {low} or more, got {value!r}")
    for label in ("lease", "block_timeout", "shutdown_timeout"):
        fvalue = settings[label]
        if isinstance(fvalue, bool) or not isinstance(fvalue, (int, float)) or fvalue <= 0:
            raise ValidationError(label, f"expected a number of seconds above 0, got {fvalue!r}")


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


Queue.worker_class = Worker  # what Queue.process starts: the queue does not import this package, which imports it
