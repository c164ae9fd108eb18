"""The producer's side of a queue: create and add jobs, read them back, count, list, retry, remove, clean, pause."""

from __future__ import annotations

import gc
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, cast

import fakeredis
import redis

from . import scripts
from .connection import connect, connect_async, describe_client, is_cluster, resolve_url, twin
from .errors import JobNotFound, QueuekitError, ValidationError, translated
from .events import EventHub
from .job import (
    DAY_MS,
    DEFAULT_LEASE_MS,
    MAX_DATA_BYTES,
    Job,
    JobOptions,
    JobState,
    _job_type,
    _ms,
    _priority,
    encode_data,
    now_ms,
)
from .keys import QUEUES, QueueKeys
from .lane import Framed, Lane
from .testmode import TestMode, test_mode_for

if TYPE_CHECKING:
    from .worker import Worker

__all__ = ["Queue"]

logger = logging.getLogger(__name__)

_hubs: dict[tuple[Any, str], EventHub] = {}
_hubs_lock = threading.Lock()

#: the states a job can be listed by
STATES = tuple(s.value for s in JobState)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a bulk add builds and sends its jobs.

    A batch creates many objects that all stay alive and form no reference cycle; with the collector on, every few
    hundred new objects start a collection that scans them again, work that grows with the batch and frees nothing.
    The trade-off: while the add runs, no cycle anywhere in the program is collected; the collector runs again right
    after, so garbage is only collected later, never lost. Left alone when the program has turned the collector off
    itself.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _live_workers(seen: list[Any], descriptions: list[Any]) -> list[dict[str, Any]]:
    """The descriptions still present of the workers ``seen`` (id, last heartbeat ms), each with its last_seen."""
    out = []
    for (_worker_id, last_seen), raw in zip(seen, descriptions):
        if raw:
            info = json.loads(raw)
            info["last_seen"] = int(last_seen)
            out.append(info)
    return out


def _job_ids(ids: Iterable[str | int]) -> list[str]:
    """``ids`` as job ids (str), or ValidationError("ids") before anything is written. "*" names no job (a job id
    never holds it; retry.lua reads it alone as "every failed job"): it is left out."""
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise ValidationError("ids", f"expected a list of job ids, got {ids!r}")
    out: list[str] = []
    for n, job_id in enumerate(ids):
        if isinstance(job_id, bool) or not isinstance(job_id, (str, int)) or job_id == "":
            raise ValidationError(f"ids[{n}]", f"expected a job id (a non-empty string or an integer), got {job_id!r}")
        if job_id != "*":
            out.append(str(job_id))
    return out


#: a search cursor is line * _LINE + position in that line
_LINE = 2 ** 32


def _search_args(query: object, state: object, type: object, cursor: object, count: object) -> None:
    """ValidationError naming the first bad argument of ``Queue.search``."""
    if not isinstance(query, str) or not query or len(query) > 1000:
        raise ValidationError("query", f"expected a string of 1 to 1000 characters, got {query!r}")
    if state is not None and state not in STATES:
        raise ValidationError("state", f"unknown state {state!r}; expected one of {', '.join(STATES)}")
    if type is not None:
        _job_type(type)
    if isinstance(cursor, bool) or not isinstance(cursor, int) or not 0 <= cursor < 2 ** 52:
        raise ValidationError("cursor", f"expected a cursor a search returned (an integer of 0 or more), got "
                                        f"{cursor!r}")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= Queue.SEARCH_MAX_COUNT:
        raise ValidationError("count", f"expected an integer from 1 to {Queue.SEARCH_MAX_COUNT}, got {count!r}")


def _batches(ids: list[str], size: int = 1000) -> Iterator[list[str]]:
    for first in range(0, len(ids), size):
        yield ids[first:first + size]


def _group_key(key: object) -> str:
    """``key`` if it can be a failure group's key (16 hex digits, as _lib.lua's failure_group makes them)."""
    if not isinstance(key, str) or len(key) != 16 or any(c not in "0123456789abcdef" for c in key):
        raise ValidationError("key", f"expected a failure group's key (16 hex digits), got {key!r}")
    return key


def _page_bounds(start: object, count: object) -> None:
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise ValidationError("start", f"expected an integer of 0 or more, got {start!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValidationError("count", f"expected an integer of 1 or more, got {count!r}")


@dataclass
class _Batch:
    """enqueue.lua's arguments for a batch of jobs (see ``_encode_batch``).

    Jobs sharing a type and options share one option group, sent (and read by Lua) once per batch: ``group_args``
    holds each group's type index, type, delay, priority and other option fields; ``job_groups`` and ``datas`` the
    group and the JSON data of each job, in batch order.
    """

    types: dict[str, int] = field(default_factory=dict)  # job type -> its index among the batch's types
    groups: dict[Any, int] = field(default_factory=dict)  # the type, or the option fields -> group number (from 1)
    group_args: list[Any] = field(default_factory=list)
    job_groups: list[int] = field(default_factory=list)
    datas: list[str] = field(default_factory=list)
    custom: bool = False  # a job has a custom id

    def new_group(self, key: Any, fields: dict[str, str] | None, job: Job) -> int:
        """Open the group of ``job``, whose ``key`` is its type (``fields`` None: default options) or its option
        fields; returns its number."""
        g = self.groups[key] = len(self.groups) + 1
        if fields is None:
            self.group_args += [self.types.setdefault(key, len(self.types)), key, 0, 0, 0]
        else:
            job_type = fields.pop("type")
            k = self.types.setdefault(job_type, len(self.types))
            extra = [x for f, v in fields.items() if f != "priority" for x in (f, v)]
            self.group_args += [k, job_type, job.opts.delay, job.opts.priority, len(extra) // 2, *extra]
        return g

    def per_job_args(self, jobs: list[Job]) -> tuple[int, list[Any]]:
        """How many arguments each job takes, and all of them: (group, custom id, data) each, or the data alone for
        the usual batch of one group and counter ids only."""
        if not self.custom and len(self.groups) <= 1:
            return 1, self.datas
        return 3, [x for job, g, data in zip(jobs, self.job_groups, self.datas) for x in (g, job.custom_id or "", data)]


def _encode_batch(jobs: list[Job], limit: int) -> _Batch:
    """Validate and serialize every job of a batch (ValidationError naming ``jobs[n]``), grouped by type and options."""
    batch = _Batch()
    checked: set[str] = set()  # job types already validated in this batch
    for n, job in enumerate(jobs):
        fields: dict[str, str] | None
        try:
            if job.has_default_options():
                # the usual batch: no option fields to build, and the type alone names the group
                job_type = job.type
                if job_type.__class__ is not str or job_type not in checked:
                    checked.add(_job_type(job_type))
                data = encode_data(job.data, limit)
                key: Any = job_type
                fields = None
            else:
                fields = job.to_dict(limit)
                data = fields.pop("data")
                key = tuple(fields.items())
        except ValidationError as exc:
            raise ValidationError(f"jobs[{n}].{exc.field}", exc.reason) from None
        g = batch.groups.get(key)
        if g is None:
            g = batch.new_group(key, fields, job)
        if job.custom_id:
            batch.custom = True
        batch.job_groups.append(g)
        batch.datas.append(data)
    return batch


class Queue:
    """A named queue of jobs of any number of types (Kue's model: the job *type* picks the handler).

    Args:
        name: the queue's name; all its keys share the hash tag ``{name}``.
        client: a redis-py client; by default ``queuekit.connect(url)``.
        url: where Redis is (else ``REDIS_URL``, else the embedded server).
        events: publish job events (Kue's ``jobEvents``); listeners and ``job.wait`` need them to be prompt.
        max_data_bytes: largest job data accepted, as JSON.
        keep_complete / keep_complete_age: retention of complete jobs (count, age in ms; None = no limit).
        keep_failed / keep_failed_age: the same for failed jobs.
        poll_replies: await the reply to each ``add`` made in a quick succession of adds by polling the socket
            before blocking (off by default). It trades the caller's CPU for latency: a burst of adds to a nearby
            Redis returns sooner, notably on virtual machines that are slow to wake a sleeping thread, but each add
            costs more CPU time in the producer, CPU a worker on the same machine could have used. It changes
            nothing else (requests, replies, errors). Used with a plain ``redis.Redis`` server connection only: the
            embedded server and Redis Cluster ignore it. See ``queuekit.polling``.

    The defaults keep at most 1,000 complete jobs for a day and 5,000 failed jobs for a week, so Redis stays
    bounded however long the queue runs. Workers apply retention about a second after their jobs finish, and keep
    at it until both lines are within these limits (``Queue.clean`` applies other limits by hand).
    """

    def __init__(self, name: str = "default", *, client: redis.Redis | None = None, url: str | None = None,
                 events: bool = True, max_data_bytes: int = MAX_DATA_BYTES, keep_complete: int | None = 1000,
                 keep_complete_age: int | None = DAY_MS, keep_failed: int | None = 5000,
                 keep_failed_age: int | None = 7 * DAY_MS, poll_replies: bool = False) -> None:
        self.keys = QueueKeys(name)
        self.name = name
        self.url = resolve_url(url) if client is None else None
        if client is None:
            client = connect(self.url)
        elif not client.get_connection_kwargs().get("decode_responses"):
            client = twin(client)
        self.client: redis.Redis = client
        self.events_enabled = events
        self.max_data_bytes = max_data_bytes
        self.retention = {"complete": (keep_complete, keep_complete_age), "failed": (keep_failed, keep_failed_age)}
        self.backoffs: dict[str, Callable[[int, int], float]] = {}
        self._registered: int | None = None  # the lane's connection count when the name was last listed
        self.poll_replies = poll_replies
        self._lane: Lane | None | bool = False  # made on first add
        self._framed: dict[str, tuple[str, Framed]] = {}  # job type -> (channel, add.lua's head framed on the lane)
        self._test_mode = test_mode_for(name)  # shared by every Queue of this name in the process

    # ---- connection helpers ---------------------------------------------------------------------------------

    @property
    def channel(self) -> str:
        """The pub/sub channel of this queue's events ("" when events are off)."""
        return self.keys.channel if self.events_enabled else ""

    def async_client(self) -> Any:
        """A ``redis.asyncio`` client to this queue's server (with connect() timeouts: a dead link ends in an
        error instead of a wait that never returns)."""
        if self.url:
            return connect_async(self.url)
        return twin(self.client, asyncio=True)

    def sync_client(self) -> redis.Redis:
        """A new sync client to this queue's server (a worker uses its own)."""
        return connect(self.url, check=False) if self.url else twin(self.client)

    @property
    def events(self) -> EventHub:
        """This process's event hub for the queue (shared by every Queue object of the same name and server)."""
        kw = self.client.get_connection_kwargs()
        server = kw.get("server") if isinstance(self.client, fakeredis.FakeRedis) else None
        where: Any = id(server) if server is not None else (kw.get("host"), kw.get("port"), kw.get("db"),
                                                            kw.get("path"))
        if is_cluster(self.client):
            where = describe_client(self.client)
        with _hubs_lock:
            hub = _hubs.get((where, self.name))
            if hub is None:
                hub = _hubs[(where, self.name)] = EventHub(self.sync_client(), self.keys.channel)
            return hub

    @property
    def test_mode(self) -> TestMode:
        """Kue's test mode for this queue: ``enter(process=False)``, ``jobs``, ``clear()``, ``exit()``."""
        return self._test_mode

    def _where(self) -> str:
        """Where this queue's server is, without a password (named in the errors of its calls)."""
        return describe_client(self.client)

    def _register_queue(self) -> None:
        """List the name in the set of queue names (``queuekit info`` reads it) after the first add, and again after
        an add that opened a new connection: a Redis restarted without persistence has lost the set."""
        lane = self._lane
        connects = lane.connects if isinstance(lane, Lane) else 0
        if connects != self._registered:
            self.client.sadd(QUEUES, self.name)
            self._registered = connects

    # ---- creating jobs ---------------------------------------------------------------------------------------

    def create(self, type: str, data: Any = None) -> Job:
        """An unsaved job; chain options (``.priority('high').attempts(3)``...) then ``.save()``."""
        return Job(type=_job_type(type), data={} if data is None else data, _queue=self)

    @translated
    def add(self, type: str, data: Any = None, *, priority: int | str = 0, delay: Any = 0, attempts: int = 1,
            backoff: Any = None, ttl: Any = None, job_id: str | None = None,
            remove_on_complete: bool = False) -> Job:
        """Create and save a job in one call; options as in :class:`JobOptions` (durations in ms)."""
        job = self.create(type, data)
        # the defaults need no validation (the common case of a producer adding jobs one by one)
        if not (priority.__class__ is int and priority == 0 and delay.__class__ is int and delay == 0
                and attempts.__class__ is int and attempts == 1 and backoff is None and ttl is None
                and remove_on_complete is False):
            job.opts = JobOptions.build(priority=priority, delay=delay, attempts=attempts, backoff=backoff, ttl=ttl,
                                        remove_on_complete=remove_on_complete, known_backoffs=self.backoffs)
        if job_id is not None:
            job.set_id(job_id)
        return self.save(job)

    @translated
    def add_bulk(self, jobs: Iterable[Job | tuple[str, Any] | Mapping[str, Any]]) -> list[Job]:
        """Add many jobs in one round trip. Items: Job, ``(type, data)`` or ``{"type", "data", **options}``.

        Every job is validated before anything is written: one bad item means none is stored.
        """
        with _collector_paused():
            return self._add_bulk(jobs)

    def _add_bulk(self, jobs: Iterable[Job | tuple[str, Any] | Mapping[str, Any]]) -> list[Job]:
        built: list[Job] = []
        for n, item in enumerate(jobs):
            try:
                if isinstance(item, Job):
                    item._queue = self
                    built.append(item)
                elif isinstance(item, tuple) and len(item) == 2:
                    # the type is checked with the rest of the job by _enqueue (Job.to_dict), before any write
                    built.append(Job(type=item[0], data={} if item[1] is None else item[1], _queue=self))
                elif isinstance(item, Mapping):
                    opts = dict(item)
                    job = self.create(opts.pop("type", None), opts.pop("data", None))
                    custom = opts.pop("job_id", None)
                    job.opts = JobOptions.build(known_backoffs=self.backoffs, **opts)
                    if custom is not None:
                        job.set_id(custom)
                    built.append(job)
                else:
                    raise ValidationError("job", f"expected a Job, (type, data) or a dict, got {item!r}")
            except ValidationError as exc:
                raise ValidationError(f"jobs[{n}].{exc.field}", exc.reason) from None
            except TypeError as exc:
                raise ValidationError(f"jobs[{n}]", f"unknown option: {exc}") from None
        return self._enqueue(built)

    @translated
    def save(self, job: Job) -> Job:
        """Store ``job`` (validated first). In test mode the job is captured instead (see ``test_mode``)."""
        job._queue = self
        mode = self._test_mode
        if mode.active and not mode.process:
            job.to_dict(self.max_data_bytes)  # validate exactly as a real save would
            mode.capture(job)
            return job
        self._enqueue([job])
        if mode.active:
            mode.capture(job)
        return job

    def _enqueue(self, jobs: list[Job]) -> list[Job]:
        """Store ``jobs``, validated and serialized first (nothing is written unless every job is valid), in one
        round trip: add.lua for one job, enqueue.lua for a batch. Fills in each job's id, state and created_at."""
        if not jobs:
            return []
        now = now_ms()
        if len(jobs) == 1:
            reply = self._enqueue_one(jobs[0], now)
            self._register_queue()
            # the reply is [id, state] (state "" when stored in line), or [id, "", "active"]
            self._settle(jobs[0], now, reply[0], reply[1], len(reply) > 2)
            return jobs
        next_id, existing = self._enqueue_many(jobs, now)
        self._register_queue()
        for n, job in enumerate(jobs):
            if job.custom_id:
                job_id = job.custom_id
            else:
                job_id = str(next_id)
                next_id += 1
            self._settle(job, now, job_id, existing.get(n, ""), False)
        return jobs

    def _enqueue_one(self, job: Job, now: int) -> list[Any]:
        """Run add.lua for ``job``; returns its reply as ``[id, state, ...]`` (see ``_enqueue``)."""
        fields = job.to_dict(self.max_data_bytes)
        job_type, data = fields.pop("type"), fields.pop("data")
        args = scripts.add_args(now, data, custom_id=job.custom_id or "", delay=job.opts.delay,
                                priority=job.opts.priority, fields=list(fields.items()))
        reply = self._add(job_type, args)
        if reply.__class__ is str:  # the id alone: stored in line (else [id, state] or [id, "", "active"])
            return [reply, ""]
        return cast("list[Any]", reply)

    def _enqueue_many(self, jobs: list[Job], now: int) -> tuple[int, dict[int, str]]:
        """Run enqueue.lua for ``jobs``; returns the first counter id given and ``{index: state}`` of the jobs that
        already existed (by custom id)."""
        batch = _encode_batch(jobs, self.max_data_bytes)
        groups, group_args = batch.groups, batch.group_args
        per_job, datas = batch.per_job_args(jobs)
        reply = self._run(scripts.enqueue(self.keys, list(batch.types), now, self.channel, len(groups), per_job,
                                          group_args, datas))
        # the reply names the first counter id and the duplicates: every other id follows from the batch order
        return int(reply[0]), {int(reply[n]) - 1: reply[n + 1] for n in range(1, len(reply), 2)}

    def _settle(self, job: Job, now: int, job_id: str, state: str, handed_over: bool) -> None:
        """Record on ``job`` what storing it did: its id, and ``state`` when it already existed ("" when it was
        stored now: then in line, delayed, or active when ``handed_over`` to an idle worker, see add.lua); then
        subscribe the listeners it was given before it had an id."""
        job.created_at = now
        job.id = job_id
        job.duplicate = bool(state)
        if state:
            job.state = JobState(state) if state in STATES else None
            logger.info("job %s already exists in queue %s; nothing stored", job.id, self.name)
        elif handed_over:
            job.state = JobState.ACTIVE  # handed straight to an idle worker (see add.lua)
        else:
            job.state = JobState.DELAYED if job.opts.delay else JobState.INACTIVE
        if job._listeners:
            for event, listener in job._listeners:
                self.events.on_job(job.id, event, listener)
            job._listeners.clear()

    def _run(self, call: scripts.Call) -> Any:
        """Run one of the adding scripts: one round trip, on the connection kept for adding jobs where there is
        one (see lane.Lane)."""
        lane = self._lane_for_adding()
        return scripts.run(self.client if lane is None else lane, call)

    def _add(self, job_type: str, args: list[Any]) -> Any:
        """Run add.lua for one job of ``job_type``: ``args`` from scripts.add_args.

        On a lane, the call's head (keys, channel, type) is framed once per job type and channel (lane.Framed).
        """
        lane = self._lane_for_adding()
        channel = self.channel
        if lane is None:
            return scripts.run(self.client, scripts.add(self.keys, job_type, channel, args))
        known = self._framed.get(job_type)
        if known is not None and known[0] == channel:
            framed = known[1]
        else:
            framed = lane.frame(scripts.add_head(self.keys, job_type, channel))
            if len(self._framed) < 1000:  # the few types of a queue, never an unbounded cache
                self._framed[job_type] = (channel, framed)
        return scripts.run_framed(lane, framed, args)

    def _lane_for_adding(self) -> Lane | None:
        if self._lane is False:
            self._lane = Lane.for_client(self.client, poll_replies=self.poll_replies)
        return self._lane  # type: ignore[return-value]

    def register_backoff(self, name: str, fn: Callable[[int, int], float]) -> None:
        """Make ``backoff={'type': name, 'delay': ms}`` call ``fn(failures, delay_ms) -> ms`` in workers."""
        if not isinstance(name, str) or not name or name in ("fixed", "exponential"):
            raise ValidationError("backoff name", f"expected a new non-empty name, got {name!r}")
        if not callable(fn):
            raise ValidationError("backoff", f"expected a function (failures, delay_ms) -> ms, got {fn!r}")
        self.backoffs[name] = fn

    # ---- reading jobs -----------------------------------------------------------------------------------------

    @translated
    def get_job(self, job_id: str | int) -> Job | None:
        """The job with this id, or None if there is none."""
        job_id = str(job_id)
        fields = cast("dict[str, str]", self.client.hgetall(self.keys.job(job_id)))  # a decoding client
        if not fields:
            return None
        return self._from_fields(job_id, fields)

    def _from_fields(self, job_id: str, fields: Mapping[str, str]) -> Job:
        try:
            return Job.from_dict(job_id, fields, self)
        except ValueError as exc:
            raise QueuekitError(f"job {job_id} in queue {self.name} is corrupt: {exc}") from None

    # ---- a job's own reads (the JobStore side of Job.refresh, wait, failed_attempts and logs) -------------------

    @translated
    def load_job(self, job_id: str) -> Job:
        """The job with this id; raises JobNotFound if there is none (``get_job`` returns None instead)."""
        job = self.get_job(job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id} in queue {self.name}")
        return job

    @translated
    def finished_state(self, job_id: str) -> str | None:
        """"complete" or "failed" once the job has finished, "removed" if it is gone, else None."""
        state = self.client.hget(self.keys.job(job_id), "state")
        if state is None:
            return "removed"
        return state if state in ("complete", "failed") else None

    @translated
    def attempt_history(self, job_id: str) -> list[dict[str, Any]]:
        """The job's failed, stalled or interrupted attempts, oldest first (see ``Job.failed_attempts``)."""
        return [json.loads(x) for x in self.client.lrange(self.keys.errs(job_id), 0, -1)]

    @translated
    def log_lines(self, job_id: str) -> list[str]:
        """The job's log lines, oldest first (see ``Job.logs``)."""
        return cast("list[str]", self.client.lrange(self.keys.log(job_id), 0, -1))

    @translated
    def types(self) -> list[str]:
        """Every job type this queue has seen."""
        return sorted(cast("set[str]", self.client.smembers(self.keys.types)))

    @translated
    def counts(self, type: str | None = None) -> dict[str, int]:
        """How many jobs are in each state (optionally of one type).

        Reads one count per line and per type's index of finished jobs (O(types)); by type, the active jobs are
        read one by one (as many as are running). Finished jobs stored before the indexes existed are counted by
        reading each one's type, until retention or ``clean`` has removed them.
        """
        types = self.types()
        pipe = self.client.pipeline(transaction=False)  # no MULTI: the least-privilege ACL user does not need it
        self._ask_waiting(pipe, [type] if type is not None else types)
        pipe.zcard(self.keys.active)
        self._ask_finished(pipe, types)
        replies = pipe.execute()
        n = 2 if type is not None else 2 * len(types)
        counts = {"inactive": sum(replies[0:n:2]), "delayed": sum(replies[1:n:2]), "active": replies[n]}
        finished = self._finished_counts(types, replies[n + 1:])
        for state in ("complete", "failed"):
            counts[state] = finished[state][None]
            if type is not None:
                indexed = finished[state]["indexed"]
                counts[state] = (finished[state].get(type, 0) if indexed
                                 else len(self._scan(state, type, 0, None)))
        if type is not None:
            counts["active"] = len(self._scan("active", type, 0, None))
        return {s: counts[s] for s in STATES}

    def _ask_waiting(self, pipe: Any, types: list[str]) -> None:
        """Queue, for each type, how many of its jobs are in line and how many are delayed (two replies a type)."""
        for t in types:
            pipe.zcard(self.keys.wait(t))
            pipe.zcard(self.keys.delayed(t))

    def _ask_finished(self, pipe: Any, types: list[str]) -> None:
        """Queue the size of each finished line, then of each type's index of it (2 + 2 * len(types) replies)."""
        for state in ("complete", "failed"):
            pipe.zcard(getattr(self.keys, state))
            for t in types:
                pipe.zcard(self._index(state, t))

    @staticmethod
    def _finished_counts(types: list[str], replies: list[int]) -> dict[str, dict[Any, int]]:
        """The replies of ``_ask_finished`` as ``{state: {None: line size, type: index size, "indexed": 0/1}}``;
        "indexed" is 1 when the indexes hold the whole line (no job stored before they existed is left)."""
        out: dict[str, dict[Any, int]] = {}
        per_state = 1 + len(types)
        for n, state in enumerate(("complete", "failed")):
            total, *sizes = replies[n * per_state:(n + 1) * per_state]
            out[state] = {None: total, **dict(zip(types, sizes)), "indexed": int(sum(sizes) == total)}
        return out

    def _index(self, state: str, type: str) -> str:
        """The index by type of the finished line ``state``."""
        return self.keys.done(type) if state == "complete" else self.keys.dead(type)

    def _indexed(self, state: str) -> bool:
        """True when every job of the finished line ``state`` is in its type's index. Read in one pipeline, not a
        transaction (the ACL user has no MULTI): a job finishing between two of its reads makes the sizes differ for
        that one call, which then takes the slower, still correct, scan."""
        types = self.types()
        pipe = self.client.pipeline(transaction=False)
        self._ask_finished(pipe, types)
        return bool(self._finished_counts(types, pipe.execute())[state]["indexed"])

    def _line(self, state: str, type: str | None) -> list[str]:
        if state in ("inactive", "delayed"):
            return [self.keys.wait(t) if state == "inactive" else self.keys.delayed(t)
                    for t in ([type] if type else self.types())]
        return [getattr(self.keys, state)]

    def _ids(self, state: str, type: str | None, start: int, count: int | None, desc: bool = False) -> list[str]:
        """The ids of a page of the jobs in ``state`` (of one ``type``): in line order, by score then by id as Redis
        orders members (both reversed when ``desc``), from ``start``, at most ``count`` (None = to the end).

        Reads O(log N + page) items from one line; from several lines (waiting or delayed jobs of every type) at
        most ``start + count`` of each. Only two cases read a whole line, filtering it by type: the active jobs
        (as many as are running), and finished jobs while some stored before the indexes by type are left.
        """
        if state not in STATES:
            raise ValidationError("state", f"unknown state {state!r}; expected one of {', '.join(STATES)}")
        if type is not None and state in ("complete", "failed") and self._indexed(state):
            return self._page([self._index(state, type)], start, count, desc)
        if type is not None and state in ("active", "complete", "failed"):
            return self._scan(state, type, start, count, desc)
        return self._page(self._line(state, type), start, count, desc)

    def _page(self, lines: list[str], start: int, count: int | None, desc: bool) -> list[str]:
        """A page of the members of the zsets ``lines`` taken together, ordered as ``_ids`` says."""
        stop = -1 if count is None else start + count - 1
        if len(lines) == 1:
            return cast("list[str]", self.client.zrange(lines[0], start, stop, desc=desc))
        pipe = self.client.pipeline(transaction=False)
        for key in lines:
            pipe.zrange(key, 0, stop, desc=desc, withscores=True)
        scored = sorted(((score, member) for line in pipe.execute() for member, score in line), reverse=desc)
        ids = [member for _, member in scored]
        return ids[start:] if count is None else ids[start:start + count]

    def _scan(self, state: str, type: str, start: int, count: int | None, desc: bool = False) -> list[str]:
        """A page of the ``type`` jobs of the line ``state``, found by reading the type of every job in it."""
        ids = self._page(self._line(state, None), 0, None, desc)
        pipe = self.client.pipeline(transaction=False)
        for job_id in ids:
            pipe.hget(self.keys.job(job_id), "type")
        ids = [job_id for job_id, t in zip(ids, pipe.execute()) if t == type]
        return ids[start:] if count is None else ids[start:start + count]

    @translated
    def jobs(self, state: str, type: str | None = None, start: int = 0, count: int = 50,
             desc: bool = False) -> list[Job]:
        """A page of jobs in ``state`` (optionally of one ``type``), in line order (oldest first unless ``desc``)."""
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ValidationError("start", f"expected an integer of 0 or more, got {start!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValidationError("count", f"expected an integer of 1 or more, got {count!r}")
        if not isinstance(desc, bool):
            raise ValidationError("desc", f"expected True or False, got {desc!r}")
        ids = self._ids(state, type, start, count, desc)
        pipe = self.client.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(self.keys.job(job_id))
        return [self._from_fields(job_id, fields) for job_id, fields in zip(ids, pipe.execute()) if fields]

    # ---- search -----------------------------------------------------------------------------------------------

    #: jobs one call of search.lua examines at most
    SEARCH_EXAMINE = 2000
    #: calls of search.lua one ``search`` makes at most: a page examines at most SEARCH_EXAMINE * SEARCH_CALLS jobs
    SEARCH_CALLS = 10
    #: the largest page ``search`` returns
    SEARCH_MAX_COUNT = 1000

    @translated
    def search(self, query: str, *, state: str | None = None, type: str | None = None, cursor: int = 0,
               count: int = 50) -> tuple[list[str], int]:
        """The ids of the jobs matching ``query``, a page at a time: ``(ids, next cursor)``, the cursor 0 once the
        search is done. A job matches when ``query`` is its id, or a substring of its type, its data (the JSON text
        stored) or its error, ignoring the case of ASCII letters; ``state`` and ``type`` narrow the search.

        The search runs in Redis (search.lua): nothing of a job but its id comes back. It walks the lines in a fixed
        order (for ``state`` None: the waiting, active, delayed, complete and failed jobs, each state's lines by
        type name) and returns the matches in that order. Each call of the script examines at most
        ``SEARCH_EXAMINE`` jobs, and a page makes at most ``SEARCH_CALLS`` calls: a page of a search matching
        little can come back short, or empty, with a cursor to go on from. The cursor is a position (line and place
        in it), like SCAN's: a job that stays in its line for the whole search is found once; one that moves (it
        starts, finishes...) may be missed or found twice; a job type first seen during a search shifts the
        lines, and so the positions, after it.
        """
        _search_args(query, state, type, cursor, count)
        lines, only = self._search_lines(state, type)
        line, position = divmod(cursor, _LINE)
        found: list[str] = []
        for _ in range(self.SEARCH_CALLS):
            if line >= len(lines):
                return found, 0
            reply = scripts.run(self.client, scripts.search(self.keys, lines, query, only, line, position,
                                                            self.SEARCH_EXAMINE, count - len(found)))
            line, position = int(reply[0]), int(reply[1])
            found += reply[2:]
            if len(found) >= count:
                break
        return found, (0 if line >= len(lines) else line * _LINE + position)

    def _search_lines(self, state: str | None, type: str | None) -> tuple[list[str], str]:
        """The lines a search walks, in order, and the type search.lua filters by ("" = none: each line holds only
        jobs of the type asked for, or any type will do)."""
        if state is None:
            types = [type] if type else self.types()
            lines = [self.keys.wait(t) for t in types] + [self.keys.active] + [self.keys.delayed(t) for t in types]
            return lines + [self.keys.complete, self.keys.failed], type or ""
        if type is not None and state in ("complete", "failed") and self._indexed(state):
            return [self._index(state, type)], ""
        return self._line(state, type), "" if state in ("inactive", "delayed") else (type or "")

    # ---- managing ---------------------------------------------------------------------------------------------

    @translated
    def retry(self, job_id: str | int) -> int:
        """Put one failed job back in line with fresh attempts; returns 1, or 0 if it was not failed."""
        return len(self.retry_many([job_id]))

    @translated
    def retry_many(self, ids: Iterable[str | int]) -> list[str]:
        """Put the failed jobs among ``ids`` back in line with fresh attempts (1,000 a call); returns their ids, in
        the order given. The others (not failed, unknown) are left alone."""
        out: list[str] = []
        for batch in _batches(_job_ids(ids)):
            out += scripts.run(self.client, scripts.retry(self.keys, self.channel, batch))
        return out

    @translated
    def retry_failed(self) -> list[str]:
        """Put every failed job back in line; returns their ids."""
        out: list[str] = []
        while True:
            batch = scripts.run(self.client, scripts.retry(self.keys, self.channel, ["*"]))
            out += batch
            if len(batch) < 10000:
                return out

    @translated
    def remove(self, job_id: str | int) -> bool:
        """Delete a job in any state, with its log and history; False if there was no such job."""
        return bool(self.remove_many([job_id]))

    @translated
    def remove_many(self, ids: Iterable[str | int]) -> int:
        """Delete the jobs ``ids`` in any state, with their logs and histories (1,000 a call); returns how many
        existed."""
        return sum(int(scripts.run(self.client, scripts.remove(self.keys, self.channel, batch)))
                   for batch in _batches(_job_ids(ids)))

    # ---- failures grouped by error ------------------------------------------------------------------------------

    @translated
    def failure_groups(self, limit: int = 100) -> list[dict[str, Any]]:
        """The failed jobs grouped by the first line of their error, biggest group first, at most ``limit``: each
        ``{"key", "error", "count", "first_seen", "last_seen", "types"}`` (times in ms; types: the job types the
        group hit). Two commands, whatever the number of failed jobs.

        The groups are kept by the scripts that fail a job for good and those that take it out of the failed line;
        jobs failed before queuekit kept them are in no group (``retry``, ``remove`` and ``clean`` still see them).
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError("limit", f"expected an integer of 1 or more, got {limit!r}")
        sized = cast("list[tuple[str, float]]",
                     self.client.zrange(self.keys.failgroups, 0, limit - 1, desc=True, withscores=True))
        if not sized:
            return []
        infos = self.client.hmget(self.keys.failinfo, [key for key, _ in sized])
        out = []
        for (key, count), raw in zip(sized, infos):
            info = json.loads(raw) if raw else {}
            out.append({"key": key, "error": info.get("error", ""), "count": int(count),
                        "first_seen": int(info.get("first_seen", 0)), "last_seen": int(info.get("last_seen", 0)),
                        "types": list(info.get("types") or [])})
        return out

    @translated
    def failure_group_ids(self, key: str, start: int = 0, count: int = 50) -> list[str]:
        """A page of the ids of one failure group (``key`` from ``failure_groups``), oldest failure first."""
        _page_bounds(start, count)
        return cast("list[str]", self.client.zrange(self.keys.fails(_group_key(key)), start, start + count - 1))

    @translated
    def retry_group(self, key: str) -> list[str]:
        """Put every job of one failure group back in line with fresh attempts; returns their ids."""
        return self._drain_group(_group_key(key), self.retry_many)

    @translated
    def remove_group(self, key: str) -> int:
        """Delete every job of one failure group; returns how many were deleted."""
        # remove_many answers how many it removed: as many ids stand for them (only their number is used)
        return len(self._drain_group(_group_key(key), lambda ids: ids[:self.remove_many(ids)]))

    def _drain_group(self, key: str, act: Callable[[list[str]], list[str]]) -> list[str]:
        """Apply ``act`` (which takes the jobs it acts on out of the group, and returns them) to the group's ids,
        1,000 at a time until none is left; an id it leaves in the group is passed over, so this always ends."""
        done: list[str] = []
        skipped = 0
        while True:
            ids = cast("list[str]", self.client.zrange(self.keys.fails(key), skipped, skipped + 999))
            if not ids:
                return done
            acted = act(ids)
            done += acted
            skipped += len(ids) - len(acted)

    @translated
    def clean(self, state: str = "complete", *, keep: int | None = None, older_than: Any = None) -> int:
        """Remove finished jobs: keep only the newest ``keep``, and/or those finished less than ``older_than`` ms
        (or a timedelta) ago. With neither, remove them all. Returns how many were removed."""
        if state not in ("complete", "failed"):
            raise ValidationError("state", f"only finished jobs can be cleaned: 'complete' or 'failed', got {state!r}")
        keep_n = -1 if keep is None else keep
        if isinstance(keep_n, bool) or not isinstance(keep_n, int) or keep_n < -1:
            raise ValidationError("keep", f"expected an integer of 0 or more, got {keep!r}")
        age = -1 if older_than is None else _ms("older_than", older_than)
        if keep is None and older_than is None:
            keep_n = 0
        return self._clean(state, keep_n, age)

    def _clean(self, state: str, keep: int, age: int) -> int:
        total = 0
        while True:
            n = int(scripts.run(self.client, scripts.clean(self.keys, state, now_ms(), keep, age, 1000)))
            total += n
            if n < 1000:
                return total

    @translated
    def promote(self, job_id: str | int) -> bool:
        """Put a delayed job in line now, where it would go once due; False if it is not delayed (or not a job)."""
        return bool(scripts.run(self.client, scripts.promote(self.keys, str(job_id), self.channel)))

    @translated
    def set_priority(self, job_id: str | int, priority: int | str) -> bool:
        """Change a job's priority (a name such as "high" or an integer, as :class:`JobOptions` takes). A waiting job
        moves to its new band, keeping its arrival order within it; a delayed job takes it into line when promoted;
        in any other state only the field changes. False if there is no such job."""
        value = _priority(priority)
        return bool(scripts.run(self.client, scripts.priority(self.keys, str(job_id), value)))

    #: the states ``move`` can put a job in
    MOVE_STATES = ("inactive", "complete", "failed")
    #: the error of a job ``move`` puts in the failed line
    MOVED_TO_FAILED = "moved to failed by an operator"

    @translated
    def move(self, job_id: str | int, state: str) -> bool:
        """Kue's change of state: put a job that is not running in ``state``. "inactive": back in line with fresh
        attempts (like ``retry``); "complete" or "failed": finished now (failed with the error
        ``MOVED_TO_FAILED``). A job is never made active (only a worker's claim does that, with a handler to run
        it), nor delayed (add it with ``delay=`` instead); an active job is not moved (its worker holds a lease).
        Returns False if there is no such job; True once it is in ``state`` (already there: unchanged)."""
        if state == "active":
            raise ValidationError("state", "a job is never active without a handler: only a worker's claim makes it "
                                           "active; move it to 'inactive' and a worker takes it")
        if state == "delayed":
            raise ValidationError("state", "a job is delayed by adding it with delay=...; move it to 'inactive' to "
                                           "run it now")
        if state not in self.MOVE_STATES:
            raise ValidationError("state", f"unknown state {state!r}; expected one of {', '.join(self.MOVE_STATES)}")
        job_id = str(job_id)
        moved = int(scripts.run(self.client, scripts.move(self.keys, job_id, state, now_ms(), self.MOVED_TO_FAILED,
                                                          self.channel)))
        if moved < 0:
            raise ValidationError("state", f"job {job_id} is active: its worker holds a lease on it, so it is not "
                                           "moved; wait for it to finish (or for its lease to run out)")
        return moved == 1

    @translated
    def pause(self) -> None:
        """Stop every worker of this queue from starting new jobs (running ones finish)."""
        self.client.hset(self.keys.meta, "paused", "1")

    @translated
    def resume(self) -> None:
        """Let workers start jobs again, and wake them."""
        self.client.hdel(self.keys.meta, "paused")
        pipe = self.client.pipeline(transaction=False)
        for t in self.types():
            pipe.rpush(self.keys.mark(t), "1")
        pipe.execute()

    @property
    @translated
    def paused(self) -> bool:
        """True while the queue is paused."""
        return self.client.hget(self.keys.meta, "paused") == "1"

    @translated
    def obliterate(self) -> int:
        """Delete every key of this queue (jobs, lines, counters); returns how many keys were deleted.

        The keys are found by a scan whose pattern matches this queue's name literally, and only those that start
        with the queue's own prefix are deleted: no other queue's key, whatever characters the names hold.
        """
        deleted = 0
        batch: list[str] = []
        for key in self.client.scan_iter(match=self.keys.pattern(), count=1000):
            if self.keys.owns(key):
                batch.append(key)
            if len(batch) >= 1000:
                deleted += self.client.delete(*batch)
                batch = []
        if batch:
            deleted += self.client.delete(*batch)
        self.client.srem(QUEUES, self.name)
        self._registered = None
        return int(deleted)

    @translated
    def workers(self) -> list[dict[str, Any]]:
        """The live workers: id, host, pid, types, concurrency, running, counters, last_seen (ms). A worker is live
        until it stops or its last heartbeat is two leases old (then it is taken for dead). Two round trips."""
        seen = self.client.zrange(self.keys.workers, 0, -1, withscores=True)
        pipe = self.client.pipeline(transaction=False)
        self._ask_descriptions(pipe, seen)
        return _live_workers(seen, pipe.execute())

    def unserved(self) -> dict[str, int]:
        """``{type: jobs waiting}`` for the job types with jobs waiting (in line or delayed) that no live worker
        serves: they wait until a worker for their type starts. Two round trips whatever the number of types and
        workers; never called by an add or a worker."""
        pipe = self.client.pipeline(transaction=False)
        pipe.smembers(self.keys.types)
        pipe.zrange(self.keys.workers, 0, -1, withscores=True)
        names, seen = pipe.execute()
        types = sorted(names)
        pipe = self.client.pipeline(transaction=False)
        self._ask_waiting(pipe, types)
        self._ask_descriptions(pipe, seen)
        replies = pipe.execute()
        lines = 2 * len(types)
        served = {t for info in _live_workers(seen, replies[lines:]) for t in info.get("types", ())}
        waiting = {t: replies[2 * n] + replies[2 * n + 1] for n, t in enumerate(types)}
        return {t: n for t, n in waiting.items() if n and t not in served}

    def _ask_descriptions(self, pipe: Any, seen: list[Any]) -> None:
        """Queue a GET of each worker's description (gone once the worker stopped or was taken for dead)."""
        for worker_id, _ in seen:
            pipe.get(self.keys.worker(worker_id))

    # ---- events -----------------------------------------------------------------------------------------------

    def on(self, event: str, listener: Callable[..., Any]) -> Queue:
        """Call ``listener(job_id, *args)`` on a queue event: 'job enqueue', 'job start', 'job progress',
        'job failed attempt', 'job failed', 'job complete', 'job remove', 'job promotion'."""
        self.events.on_queue(event, listener)
        return self

    def off(self, event: str, listener: Callable[..., Any] | None = None) -> Queue:
        """Stop calling ``listener`` (or every listener) on ``event``."""
        self.events.off_queue(event, listener)
        return self

    def close(self) -> None:
        """Stop this process's event listener for the queue (and forget its listeners) and close the connection
        kept for adding jobs; the queue stays usable: listening starts again on the next ``on``/``wait``, and the
        next add opens a new connection. Call it before stopping a server the queue used."""
        hub = self.events
        with _hubs_lock:
            for key, value in list(_hubs.items()):
                if value is hub:
                    del _hubs[key]
        hub.close()
        if isinstance(self._lane, Lane):
            self._lane.close()

    # ---- processing -------------------------------------------------------------------------------------------

    #: The class ``process`` starts. ``queuekit.worker`` sets it to its ``Worker`` when it is imported (``import
    #: queuekit`` always does), so the queue never imports the worker module, which imports the queue.
    worker_class: ClassVar[Callable[..., Worker] | None] = None

    def process(self, type: str, handler: Callable[..., Any], concurrency: int = 1, **options: Any) -> Worker:
        """Start processing jobs of ``type`` in the background (Kue's ``queue.process``); returns the Worker."""
        worker_class = Queue.worker_class
        if worker_class is None:  # only when queuekit.queue was loaded without the package (never by `import queuekit`)
            raise RuntimeError("no worker class registered: import queuekit (or queuekit.worker) first")
        return worker_class(self, {type: handler}, concurrency=concurrency, **options).start()

    # ---- used by Job while a handler runs (the JobStore side of Job.progress, log and heartbeat) ---------------

    @translated
    def report_progress(self, job: Job, data: str) -> None:
        """Store and announce ``job``'s percent and ``data``, its progress data as JSON ("" for none)."""
        if job.id is None:
            return
        scripts.run(self.client, scripts.progress(self.keys, job.id, job._token, job.percent, data, self.channel))

    @translated
    def append_log(self, job: Job, text: str) -> None:
        """Append ``text`` to ``job``'s log, which keeps its last 1,000 lines."""
        if job.id is None:
            return
        pipe = self.client.pipeline(transaction=False)
        pipe.rpush(self.keys.log(job.id), text)
        pipe.ltrim(self.keys.log(job.id), -1000, -1)
        pipe.execute()

    @translated
    def extend_lease(self, job: Job) -> bool:
        """Renew ``job``'s lease for ``job.lease_ms`` (``DEFAULT_LEASE_MS`` when unset) from now, if the lease
        token it holds is still the job's; False when it is not (the lease was lost) or the job holds none."""
        if job.id is None or not job._token:
            return False
        lease = DEFAULT_LEASE_MS if job.lease_ms is None else job.lease_ms
        lost = scripts.run(self.client, scripts.extend(self.keys, now_ms() + lease, [job.id, job._token]))
        return not lost

    # ---- display ----------------------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<Queue {self.name!r} on {describe_client(self.client)}>"

    def _repr_html_(self) -> str:
        from .display import queue_html

        return queue_html(self)

    def watch(self, interval: float = 0.5, duration: float | None = None) -> Any:
        """Show a live view of the counts, the waiting job types no live worker serves and the active jobs'
        progress in a notebook (see display.watch)."""
        from .display import watch

        return watch(self, interval=interval, duration=duration)
