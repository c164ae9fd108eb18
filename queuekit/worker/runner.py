"""The runner: a worker's slots and the handlers in them.

It holds every job the worker claimed (running, or waiting for a slot when ``prefetch`` lets it hold more), runs
sync handlers on daemon threads (:class:`ThreadPool`) and async ones on the worker's event loop, enforces each
job's ttl, and turns whatever a handler did into an :class:`Outcome`. Outcomes wait in :attr:`Runner.reports` for
the loop's next round trip, as :class:`Report` records; :func:`finish_json` is the one place that writes them in
finish.lua's layout.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import queue as stdqueue
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import Retry as RetryRequest
from ..job import Job, backoff_delay, now_ms, to_json

if TYPE_CHECKING:
    from ..queue import Queue

__all__ = ["Host", "Kind", "Outcome", "Report", "Run", "Runner", "Stopping", "ThreadPool", "finish_json"]

logger = logging.getLogger(__name__)

Handler = Callable[..., Any]


# ---- what became of a run --------------------------------------------------------------------------------------

class Kind(str, Enum):
    """What became of a job's run (the kinds finish.lua knows)."""

    #: the handler returned; the value is its result as JSON
    OK = "ok"
    #: the attempt failed; retried after the delay while attempts are left
    FAIL = "fail"
    #: failed for good, never retried (a corrupt job, a type with no handler)
    FATAL = "fatal"
    #: put back in line without counting a failure (shutdown, or the job never started)
    RELEASE = "release"


@dataclass(frozen=True)
class Outcome:
    """What became of one run of a job.

    Attributes:
        kind: see :class:`Kind`.
        value: the result as JSON (ok), the error message (fail, fatal) or the reason (release).
        traceback: the handler's traceback, if any.
        delay: milliseconds before the retry of a failed attempt: asked by the handler (``Retry(delay=)``), else
            None until the worker fills in the job's backoff when it records the outcome.
    """

    kind: Kind
    value: str = ""
    traceback: str = ""
    delay: int | None = None

    @classmethod
    def ok(cls, result_json: str) -> Outcome:
        return cls(Kind.OK, result_json)

    @classmethod
    def fail(cls, message: str, traceback: str = "", delay: int | None = None) -> Outcome:
        return cls(Kind.FAIL, message, traceback, delay)

    @classmethod
    def fatal(cls, message: str) -> Outcome:
        return cls(Kind.FATAL, message)

    @classmethod
    def release(cls, reason: str) -> Outcome:
        return cls(Kind.RELEASE, reason)


@dataclass(frozen=True)
class Report:
    """An outcome on its way to finish.lua: for the job ``job_id`` held under the lease ``token``.

    ``started_ms``: when the handler really started (0: never, or as claimed); ``finished_ms``: when it ended (None:
    finish.lua takes the time of the report).
    """

    job_id: str
    token: str
    outcome: Outcome
    started_ms: int = 0
    finished_ms: int | None = None

    def fields(self) -> list[Any]:
        """This report as one entry of finish.lua's ARGV[3]."""
        o = self.outcome
        entry: list[Any] = [self.job_id, self.token, o.kind.value, o.value, o.traceback, o.delay or 0]
        if self.finished_ms is not None:
            entry += [self.started_ms, self.finished_ms]
        return entry


def finish_json(reports: Iterable[Report]) -> str:
    """finish.lua's ARGV[3]: the reports as one JSON array."""
    return json.dumps([r.fields() for r in reports], separators=(",", ":"))


# ---- what the runner needs of its worker ------------------------------------------------------------------------

class Host(Protocol):
    """The worker as the runner, the listener and the loop see it: its settings, counters and hooks."""

    queue: Queue
    id: str
    handlers: dict[str, Handler]
    concurrency: int
    prefetch: int
    lease_ms: int
    max_stalls: int
    block_timeout: float
    stats: dict[str, int]

    def on_claim(self, job_id: str, token: str) -> None: ...

    def on_outcome(self, job: Job, token: str, outcome: Outcome, lost: bool) -> None: ...

    def on_report(self, job_id: str, token: str, outcome: Outcome, accepted: bool) -> None: ...


def notify(hook: Callable[..., None], *args: Any) -> None:
    """Call one of the worker's hooks; one that raises is logged, and the worker goes on."""
    try:
        hook(*args)
    except Exception:  # noqa: BLE001 - a hook's bug must not stop the worker or lose an outcome
        logger.exception("worker hook %s failed", getattr(hook, "__name__", hook))


@dataclass
class Stopping:
    """Whether the worker is stopping, and by when (``time.monotonic()``) its running jobs must be done; set from
    any thread."""

    requested: bool = False
    deadline: float | None = None

    def request(self, timeout: float) -> None:
        deadline = time.monotonic() + max(0.0, timeout)
        self.deadline = deadline if self.deadline is None else min(self.deadline, deadline)
        self.requested = True

    def past(self, now: float, grace: float = 0.0) -> bool:
        """Stopping, and ``now`` is later than the deadline plus ``grace`` seconds."""
        return self.requested and self.deadline is not None and now > self.deadline + grace


# ---- a run and the threads ---------------------------------------------------------------------------------------

@dataclass(eq=False)
class Run:
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


class ThreadPool:
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

    def begin(self, run: Run) -> bool:
        """On a handler thread, before it runs ``run``'s handler: False if the run expired before it started."""
        with self._lock:
            if run.expired:
                return False
            run.thread = threading.current_thread()
            return True

    def abandon(self, run: Run) -> bool:
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


# ---- the runner ----------------------------------------------------------------------------------------------------

class Runner:
    """A worker's slots: the jobs it holds, started or waiting in :attr:`buffer`, the handlers running, the
    outcomes waiting for the next round trip (:attr:`reports`), and the free slots claims in flight may fill
    (:attr:`reserved`).

    Everything here runs on the worker's event loop except :meth:`_run_sync`'s handler call (a handler thread),
    which hands its outcome back to the loop.
    """

    def __init__(self, host: Host, stop: Stopping) -> None:
        self.host = host
        self.stop = stop
        # every job held, started or waiting in buffer, by (id, lease token): a job whose lease expired while
        # this worker ran it may come back to this same worker under a new token
        self.running: dict[tuple[str, str], Run] = {}
        self.buffer: deque[Run] = deque()
        self.busy = 0  # jobs whose handler is running
        self.reports: list[Report] = []  # outcomes not yet reported
        self.reports_since = 0.0  # when the oldest unreported outcome arrived
        self.reserved = 0  # free slots that claims in flight (the listener's, the loop's) may fill
        self.reporting = 0  # outcomes sent in the round trip under way, not yet applied in Redis
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wake: asyncio.Event | None = None  # set to wake the loop (an outcome, a job, stop)
        self.room: asyncio.Event | None = None  # set when a slot frees (or on stop): the listener waits on it
        self.pool: ThreadPool | None = None
        self._handoff: list[tuple[Run, Outcome]] = []
        self._handoff_lock = threading.Lock()
        self._handoff_scheduled = False
        self._async_types: set[str] = set()
        self._done_types: set[str] = set()

    # ---- a serving session ---------------------------------------------------------------------------------------

    def open(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve on ``loop`` (the worker's loop starts)."""
        host = self.host
        self.loop, self.wake, self.room = loop, asyncio.Event(), asyncio.Event()
        self.reserved = 0
        self.reporting = 0
        if self.pool is None and any(not is_async(h) for h in host.handlers.values()):
            self.pool = ThreadPool(host.concurrency, f"queuekit-handler-{host.id}")
        self._async_types = {t for t, h in host.handlers.items() if is_async(h)}
        # Kue-style sync handlers, read once per run rather than per job (inspect.signature is not free)
        self._done_types = {t for t, h in host.handlers.items() if wants_done(h)}

    def close(self) -> None:
        """The worker's loop ended."""
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None
        self.loop = None

    def free(self, reported: bool = False) -> int:
        """How many more jobs this worker may claim now.

        A slot whose job ended keeps counting until that outcome is in Redis: otherwise a claim could take a new
        job while Redis still shows the old one active, and the worker would hold more jobs than its concurrency
        (a creator would see a third job start before either of the two before it completed). ``reported``: the
        claim goes in the same round trip, after the finish under way (the loop's claim), so the outcomes being
        sent free their slots for it.
        """
        if self.stop.requested:
            return 0
        unreported = len(self.reports) + (0 if reported else self.reporting)
        return self.host.concurrency + self.host.prefetch - len(self.running) - self.reserved - unreported

    def unreserve(self, n: int) -> None:
        """A claim in flight came back: its slots count as free again (or as taken by the jobs it returned)."""
        self.reserved -= n
        if n and self.room is not None:
            self.room.set()

    # ---- starting jobs -------------------------------------------------------------------------------------------

    def start(self, job_id: str, fields: dict[str, str]) -> None:
        """Hold a claimed job (its fields carry the lease token) and start it if a slot is free."""
        token = fields.get("token", "")
        notify(self.host.on_claim, job_id, token)
        try:
            job = Job.from_dict(job_id, fields, self.host.queue)
        except ValueError as exc:
            logger.error("job %s of queue %s is corrupt: %s", job_id, self.host.queue.name, exc)
            self.reports.append(Report(job_id, token, Outcome.fatal(f"corrupt job: {exc}")))
            return
        job.lease_ms = self.host.lease_ms
        run = Run(job=job, token=token)
        self.running[(job_id, token)] = run
        if self.busy < self.host.concurrency and not self.stop.requested:
            self._launch(run)
        else:
            self.buffer.append(run)

    def _launch(self, run: Run) -> None:
        """Start a held job's handler (on the loop)."""
        job = run.job
        run.launched = True
        self.busy += 1
        handler = self.host.handlers.get(job.type)
        if handler is None:  # only handled types are claimed; kept as a guard
            self.finish(run, Outcome.fatal(f"no handler for job type {job.type!r}"))
            return
        loop = self.loop
        assert loop is not None
        if job.opts.ttl:
            run.timer = loop.call_later(job.opts.ttl / 1000, self._expire, run)
        if logger.isEnabledFor(logging.INFO):  # nothing more than this test on the claim path when not logged
            log_start(run, self.host)
        if job.type in self._async_types:
            run.task = loop.create_task(self._run_async(run, handler))
        else:
            pool = self.pool
            assert pool is not None
            kue = job.type in self._done_types
            pool.submit(lambda: self._run_sync(pool, run, handler, kue, loop))

    def _run_sync(self, pool: ThreadPool, run: Run, handler: Handler, kue: bool,
                  loop: asyncio.AbstractEventLoop) -> None:
        """On a handler thread: run the job, then hand the outcome to the loop. Outcomes of jobs finishing close
        together travel in one wake-up of the loop rather than one each."""
        if not pool.begin(run):
            return  # it ran out of time before a thread took it: its outcome is already recorded
        outcome = call_handler(run.job, handler, kue)
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
            self.finish(run, outcome)

    async def _run_async(self, run: Run, handler: Handler) -> None:
        try:
            result = await handler(run.job)
            outcome = encode_result(result)
        except asyncio.CancelledError:
            return  # cancelled by the ttl or shutdown, which already recorded the outcome
        except Exception as exc:  # noqa: BLE001 - a failing handler is an outcome, not a worker crash
            outcome = failure(exc)
        self.finish(run, outcome)

    def _expire(self, run: Run) -> None:
        """A job ran past its ttl: fail the attempt and give its slot back. An async handler is cancelled; a sync
        one cannot be interrupted, so its thread is abandoned and another takes its place."""
        if run.finished:
            return
        ttl = run.job.opts.ttl
        self.finish(run, Outcome.fail("TTL exceeded", f"the attempt ran longer than its ttl of {ttl} ms"))
        if run.task is not None:
            logger.warning("job %s ran past its ttl of %s ms: its handler is cancelled", run.job.id, ttl)
            run.task.cancel()
        elif self.pool is not None and self.pool.abandon(run):
            self.host.stats["abandoned"] += 1
            logger.warning("job %s ran past its ttl of %s ms: its handler thread is abandoned (a thread cannot be "
                           "interrupted; its result will be dropped) and a new thread takes its place",
                           run.job.id, ttl)

    # ---- recording outcomes --------------------------------------------------------------------------------------

    def finish(self, run: Run, outcome: Outcome) -> None:
        """Queue a job's outcome for the next round trip (runs on the loop)."""
        if run.finished:
            return
        run.finished = True
        if run.timer is not None:
            run.timer.cancel()
        self.running.pop((run.job.id or "", run.token), None)
        if self.room is not None:
            self.room.set()
        if run.launched:
            self.busy -= 1
            self._launch_next()
        if run.lost:
            self.host.stats["lost"] += 1
        else:
            self._record(run, outcome)
        notify(self.host.on_outcome, run.job, run.token, outcome, run.lost)

    def _record(self, run: Run, outcome: Outcome) -> None:
        """Count the outcome and put it in :attr:`reports`, its retry delay settled (the job's backoff unless the
        handler asked for one)."""
        if outcome.kind is Kind.FAIL:
            delay = outcome.delay
            if delay is None:
                delay = backoff_delay(run.job.opts.backoff, run.job.failures + 1, self.host.queue.backoffs)
            outcome = replace(outcome, delay=int(delay))
        else:
            outcome = replace(outcome, delay=0)
        if outcome.kind is not Kind.RELEASE:
            self.host.stats["completed" if outcome.kind is Kind.OK else "failed"] += 1
        if not self.reports:
            self.reports_since = time.monotonic()
        finished = now_ms()
        self.reports.append(Report(run.job.id or "", run.token, outcome, run.started_ms, finished))
        log_outcome(run, self.host, outcome, finished)
        if self.wake is not None:
            self.wake.set()

    def _launch_next(self) -> None:
        while self.buffer and self.busy < self.host.concurrency and not self.stop.requested:
            run = self.buffer.popleft()
            if run.finished:
                continue
            if run.lost:
                self.finish(run, Outcome.release("lease lost before the job started"))
                continue
            run.started_ms = run.job.started_at = now_ms()  # held since its claim: record when it really starts
            self._launch(run)

    def release_buffered(self) -> None:
        while self.buffer:
            run = self.buffer.popleft()
            self.finish(run, Outcome.release("worker shut down before the job started"))

    def release_all(self, reason: str) -> None:
        self.release_buffered()
        for run in list(self.running.values()):
            if run.task is not None:
                run.task.cancel()
            self.finish(run, Outcome.release(reason))

    def lose(self, job_id: str, token: str) -> None:
        """The heartbeat found that this worker no longer holds the job's lease: its outcome will be dropped."""
        run = self.running.get((job_id, token))
        if run is not None and not run.finished and not run.lost:
            run.lost = True
            logger.warning("worker %s lost the lease of job %s; its result will be dropped", self.host.id, job_id)

    def leases(self) -> list[str]:
        """id, lease token, id, token, ... of the jobs held (for the heartbeat)."""
        return [x for run in self.running.values() if not run.lost for x in (run.job.id or "", run.token)]


# ---- the worker's log: one line per job start, completion, failed attempt and job given back -----------------------

def _extra(run: Run, host: Host, **more: Any) -> dict[str, Any]:
    """The fields of a job's log record (``extra=``), for a structured (JSON) log."""
    job = run.job
    return {"job_id": job.id, "job_type": job.type, "queue": host.queue.name, "worker": host.id,
            "attempt": job.failures + 1, **more}


def log_start(run: Run, host: Host) -> None:
    """``job 17 (email) started: attempt 1 of 3`` (INFO)."""
    job = run.job
    logger.info("job %s (%s) started: attempt %d of %d", job.id, job.type, job.failures + 1, job.opts.attempts,
                extra=_extra(run, host))


def log_outcome(run: Run, host: Host, outcome: Outcome, finished_ms: int) -> None:
    """The line of a job's outcome: completed (INFO), failed attempt (INFO when a retry follows, WARNING when it
    fails for good, ERROR unrun; its traceback at DEBUG), given back to the queue (INFO). Built only when its level
    is enabled: a retried attempt, part of a job's ordinary life, costs nothing where INFO is off."""
    job = run.job
    retried = outcome.kind is Kind.FAIL and job.failures + 1 < job.opts.attempts  # as finish.lua decides
    level = logging.INFO if retried else _LEVELS[outcome.kind]
    if not logger.isEnabledFor(level):
        return
    began = run.started_ms or job.started_at or finished_ms
    took = max(0, finished_ms - began)
    extra = _extra(run, host, duration_ms=took)
    if outcome.kind in (Kind.FAIL, Kind.FATAL):
        extra["error"] = outcome.value
    if outcome.kind is Kind.OK:
        logger.info("job %s (%s) completed in %d ms", job.id, job.type, took, extra=extra)
    elif outcome.kind is Kind.RELEASE:
        logger.info("job %s (%s) given back to the queue: %s", job.id, job.type, outcome.value, extra=extra)
    elif outcome.kind is Kind.FATAL:
        logger.error("job %s (%s) failed for good: %s", job.id, job.type, outcome.value, extra=extra)
    else:
        then = f"retry in {outcome.delay} ms" if retried else "failed for good"
        logger.log(level, "job %s (%s) attempt %d of %d failed after %d ms: %s; %s", job.id, job.type,
                   job.failures + 1, job.opts.attempts, took, outcome.value, then, extra=extra)
    if outcome.traceback and logger.isEnabledFor(logging.DEBUG):
        logger.debug("job %s (%s) traceback:\n%s", job.id, job.type, outcome.traceback.rstrip(), extra=extra)


_LEVELS = {Kind.OK: logging.INFO, Kind.RELEASE: logging.INFO, Kind.FAIL: logging.WARNING, Kind.FATAL: logging.ERROR}


# ---- handler calling (shared by the sync and async paths) ----------------------------------------------------------

def is_async(handler: Handler) -> bool:
    """An ``async def`` function, or an object whose ``__call__`` is one."""
    call = getattr(handler, "__call__", None)  # noqa: B004 - the method itself is inspected, not callability
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)


def wants_done(handler: Handler) -> bool:
    """Whether a sync handler takes Kue's ``done`` callback: ``def h(job, done)``."""
    try:
        params = [p for p in inspect.signature(handler).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) >= 2


def call_handler(job: Job, handler: Handler, kue: bool) -> Outcome:
    """Run a sync handler (``kue``: Kue style, ``handler(job, done)``) and turn what happened into an outcome."""
    try:
        if kue:
            return _call_kue(job, handler)
        return encode_result(handler(job))
    except Exception as exc:  # noqa: BLE001 - a failing handler is an outcome, not a worker crash
        return failure(exc)


def _call_kue(job: Job, handler: Handler) -> Outcome:
    """A Kue-style handler: the first ``done(error, result)`` call wins; without one, what it returned."""
    box: list[tuple[Any, Any]] = []

    def done(error: Any = None, result: Any = None) -> None:
        if not box:
            box.append((error, result))

    returned = handler(job, done)
    error, result = box[0] if box else (None, returned)
    if error is not None:
        exc = error if isinstance(error, BaseException) else Exception(str(error))
        return failure(exc, with_traceback=isinstance(error, BaseException))
    return encode_result(result)


def encode_result(result: Any) -> Outcome:
    try:
        return Outcome.ok(to_json(result))
    except (TypeError, ValueError, RecursionError) as exc:
        return Outcome.fail(f"the handler's result is not JSON-serializable: {exc}")


def failure(exc: BaseException, with_traceback: bool = True) -> Outcome:
    message = storable(str(exc) or type(exc).__name__)
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) if with_traceback else ""
    delay = None
    if isinstance(exc, RetryRequest) and exc.delay is not None:
        delay = int(exc.delay * 1000)
    return Outcome.fail(message, storable(trace), delay)


def storable(text: str) -> str:
    """``text`` as Redis can store it: a character UTF-8 cannot encode (a lone surrogate) is written out as its
    escape (``\\ud800``), so an error message never keeps its job from being failed."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
