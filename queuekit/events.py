"""Job and queue events (Kue's names), published by the Lua scripts on the queue's channel and delivered to
listeners in any process through one subscriber thread per queue per process."""

from __future__ import annotations

import inspect
import json
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import redis

from .pubsub import Subscriber

__all__ = ["FINAL_EVENTS", "JOB_EVENTS", "QUEUE_EVENTS", "EventHub"]

logger = logging.getLogger(__name__)

#: events a job emits; a queue emits the same with "job " in front and the job id as first argument
JOB_EVENTS = ("enqueue", "start", "promotion", "progress", "failed attempt", "failed", "complete", "remove",
              "stalled")
QUEUE_EVENTS = tuple(f"job {name}" for name in JOB_EVENTS)
FINAL_EVENTS = ("complete", "failed", "remove")


class EventHub:
    """Listens to one queue's channel and calls the listeners registered in this process.

    Listeners run on the hub's thread, one at a time; a listener that raises is logged and skipped. Job listeners
    are dropped after the job's final event, so a long-running producer does not accumulate them.
    """

    #: how many recent events are kept to replay to listeners registered just after the job was saved
    replay = 2000

    def __init__(self, client: Any, channel: str) -> None:
        self._client = client
        self.channel = channel
        self._lock = threading.RLock()
        self._job: dict[str, list[tuple[str, Callable[..., Any]]]] = defaultdict(list)
        self._queue: dict[str, list[Callable[..., Any]]] = defaultdict(list)
        self._waiters: dict[str, list[threading.Event]] = defaultdict(list)
        self._recent: deque[tuple[str, str, list[Any]]] = deque(maxlen=self.replay)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._sub: Subscriber | None = None

    # ---- registration ----------------------------------------------------------------------------------------

    def watch(self, wait: float = 5.0) -> None:
        """Start listening (once per process) and return when the subscription is active."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._loop, name=f"queuekit-events-{self.channel}",
                                                daemon=True)
                self._thread.start()
        self._subscribed.wait(wait)

    def on_job(self, job_id: str, event: str, listener: Callable[..., Any]) -> None:
        """Call ``listener(*args)`` when job ``job_id`` emits ``event``; replays what it already emitted."""
        _check_event(event, JOB_EVENTS)
        self.watch()
        with self._lock:
            self._job[job_id].append((event, listener))
            missed = [(e, a) for (i, e, a) in self._recent if i == job_id and e == event]
        for _event, args in missed:
            self._call(listener, args)

    def on_queue(self, event: str, listener: Callable[..., Any]) -> None:
        """Call ``listener(job_id, *args)`` for every job's ``event`` (``"job complete"``, ...)."""
        _check_event(event, QUEUE_EVENTS)
        self.watch()
        with self._lock:
            self._queue[event].append(listener)

    def off_queue(self, event: str, listener: Callable[..., Any] | None = None) -> None:
        """Remove one queue listener, or all of ``event``'s when ``listener`` is None."""
        with self._lock:
            if listener is None:
                self._queue.pop(event, None)
            elif listener in self._queue.get(event, []):
                self._queue[event].remove(listener)

    def wait_finished(self, job_id: str, timeout: float | None, check: Callable[[], str | None]) -> str | None:
        """Wait until ``check()`` reports the job finished ("complete", "failed" or "removed"); None on timeout.

        The event only wakes the wait early: the state in Redis is what decides, re-read at least every second,
        so a missed message (a reconnect, events turned off) only delays the answer.
        """
        self.watch()
        flag = threading.Event()
        with self._lock:
            self._waiters[job_id].append(flag)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                state = self._check_riding_out_outages(check, deadline)
                if state is not None:
                    self._let_listeners_run(job_id, flag)
                    return state
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                flag.wait(1.0 if remaining is None else min(1.0, remaining))
                flag.clear()
        finally:
            with self._lock:
                waiters = self._waiters.get(job_id, [])
                if flag in waiters:
                    waiters.remove(flag)
                if not waiters:
                    self._waiters.pop(job_id, None)

    def _check_riding_out_outages(self, check: Callable[[], str | None], deadline: float | None) -> str | None:
        """``check()``, asked again while Redis cannot answer (a restart, a failover, a server still loading its
        data) until it does or ``deadline`` (monotonic) passes; then the last error is raised."""
        pause, warned = 0.05, False
        while True:
            try:
                return check()
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                if deadline is not None and time.monotonic() + pause > deadline:
                    raise
                if not warned:
                    logger.warning("waiting for a job on %s: Redis is not answering (%s); still waiting",
                                   self.channel, exc)
                    warned = True
                time.sleep(pause)
                pause = min(1.0, pause * 2)

    def _let_listeners_run(self, job_id: str, flag: threading.Event, grace: float = 2.0) -> None:
        """Redis may show a job finished a moment before its final event reaches this process: when listeners
        of that job are registered here, give the event up to ``grace`` seconds to arrive and run them."""
        with self._lock:
            pending = job_id in self._job
        if pending:
            flag.wait(grace)

    def close(self) -> None:
        """Stop listening."""
        self._stop.set()
        if self._sub is not None:
            self._sub.stop()
        if self._thread is not None:
            self._thread.join(timeout=2)

    # ---- delivery -------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        delay = 0.1
        while not self._stop.is_set():
            self._sub = Subscriber(self.channel, self._dispatch, client=self._client)
            watcher = threading.Thread(target=self._mark_subscribed, args=(self._sub,), daemon=True)
            watcher.start()
            try:
                self._sub.run()
                delay = 0.1
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                # the first loss is worth a warning; the retries that follow (every 2 s at most) are not
                log = logger.warning if delay <= 0.1 else logger.debug
                log("event subscription on %s lost (%s); reconnecting", self.channel, exc)
                self._subscribed.clear()
                self._stop.wait(delay)
                delay = min(2.0, delay * 2)
            except Exception:  # never let a bug in delivery end the thread silently
                logger.exception("event subscription on %s failed; restarting", self.channel)
                self._stop.wait(delay)

    def _mark_subscribed(self, sub: Subscriber) -> None:
        if sub.subscribed.wait(10):
            self._subscribed.set()

    def _dispatch(self, message: str) -> None:
        """One message from the channel: a JSON array of events, each ``[event, job id, [args]]`` (the Lua
        scripts publish the events of one call together; see _lib.lua). The id may be a list of ids: the same
        event for each of those jobs (a bulk add)."""
        try:
            batch = json.loads(message)
            events = [(name, [str(i) for i in ids] if isinstance(ids, list) else [str(ids)],
                       args if isinstance(args, list) else []) for name, ids, args in batch]
        except (ValueError, TypeError):
            logger.warning("ignoring a malformed event message on %s: %.200s", self.channel, message)
            return
        for name, ids, args in events:
            for job_id in ids:
                self._deliver(name, job_id, args)

    def _deliver(self, name: str, job_id: str, args: list[Any]) -> None:
        with self._lock:
            self._recent.append((job_id, name, args))
            job_listeners = [fn for (e, fn) in self._job.get(job_id, []) if e == name]
            queue_listeners = list(self._queue.get(f"job {name}", []))
            if name in FINAL_EVENTS:
                self._job.pop(job_id, None)
            waiters = list(self._waiters.get(job_id, [])) if name in FINAL_EVENTS else []
        for fn in job_listeners:
            self._call(fn, args)
        for fn in queue_listeners:
            self._call(fn, [job_id, *args])
        for flag in waiters:  # after the listeners: a wait() that returns has seen them run
            flag.set()

    @staticmethod
    def _call(fn: Callable[..., Any], args: list[Any]) -> None:
        try:
            fn(*args[:_arity(fn, len(args))])
        except Exception:
            logger.exception("event listener %r failed", fn)


def _arity(fn: Callable[..., Any], offered: int) -> int:
    """How many positional arguments ``fn`` takes, so a listener may ignore trailing ones (as in Kue)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return offered
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return offered
    return min(offered, len([p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]))


def _check_event(event: str, known: tuple[str, ...]) -> None:
    if event not in known:
        from .errors import ValidationError

        raise ValidationError("event", f"unknown event {event!r}; expected one of {', '.join(known)}")
