"""The Job dataclass, its state, its options and their validation; ``to_dict``/``from_dict`` are the only way a job
becomes Redis fields and back (JSON for data and results, never pickle)."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from .errors import JobFailed, ValidationError, WaitTimeout, translated

if TYPE_CHECKING:
    from .events import EventHub

__all__ = [
    "DEFAULT_LEASE_MS",
    "MAX_DATA_BYTES",
    "PRIORITIES",
    "Job",
    "JobOptions",
    "JobState",
    "JobStore",
    "backoff_delay",
    "now_ms",
    "to_json",
]

#: Kue's named priorities; lower runs first.
PRIORITIES: dict[str, int] = {"low": 10, "normal": 0, "medium": -5, "high": -10, "critical": -15}
PRIORITY_RANGE = 1000
#: Default limit on the size of a job's data, as JSON (bytes).
MAX_DATA_BYTES = 512 * 1024
MAX_TYPE = 200
MAX_ID = 128
DAY_MS = 24 * 3600 * 1000
#: The lease a heartbeat renews when the job does not say its own (``Job.lease_ms``): a worker's default lease.
DEFAULT_LEASE_MS = 30_000


def now_ms() -> int:
    return int(time.time() * 1000)


def _compact_json() -> Callable[[Any], str]:
    """A function giving the text of ``json.dumps(value, separators=(",", ":"), ensure_ascii=False,
    allow_nan=False)``, with the standard library's C encoder built once rather than on every call as ``dumps`` with
    options does (a cost that is larger than encoding a small job's data, paid once per job of a bulk add).

    The trade-off: it relies on ``json.encoder.c_make_encoder``, a name the standard library does not document (the
    public ``JSONEncoder.encode`` is used where it is missing), and it does not check for a container holding
    itself, which ends in RecursionError instead of ValueError (``encode_data`` reports both alike).
    tests/test_job_json.py checks the text is ``json.dumps``'s."""
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the C accelerator
        return encoder.encode
    encode = make(None, encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False, False)
    return lambda value: "".join(encode(value, 0))


_dumps = _compact_json()


def to_json(value: Any) -> str:
    """Compact JSON text of ``value``, fast for the many small values of a queue. Strict: NaN and infinity are
    refused (ValueError), and so is text Redis cannot be sent, a lone surrogate (UnicodeEncodeError, a ValueError).
    """
    text = _dumps(value)
    if not text.isascii():  # a flag of the string: ASCII text, the usual case, costs no encoding here
        text.encode()
    return text


class JobState(str, Enum):
    """Where a job is in its life (Kue's names)."""

    #: waiting in line for a worker
    INACTIVE = "inactive"
    #: held by a worker under a lease
    ACTIVE = "active"
    #: waiting for its time: a delayed job, or a retry in backoff
    DELAYED = "delayed"
    #: finished successfully (its result is kept until retention removes it)
    COMPLETE = "complete"
    #: failed for good: out of attempts, stalled too often, or corrupt
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


# --- validation helpers: each raises ValidationError naming the field, before anything is written -------------

def _ms(name: str, value: Any, *, allow_zero: bool = True) -> int:
    if isinstance(value, timedelta):
        value = value.total_seconds() * 1000
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and
                                                                         not math.isfinite(value)):
        raise ValidationError(name, f"expected milliseconds as a number or a timedelta, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValidationError(name, f"expected {'0 or more' if allow_zero else 'more than 0'} milliseconds, "
                                    f"got {value!r}")
    return int(value)


def _priority(value: Any) -> int:
    if isinstance(value, str):
        if value not in PRIORITIES:
            raise ValidationError("priority", f"unknown priority {value!r}; expected one of "
                                              f"{', '.join(PRIORITIES)} or an integer from "
                                              f"-{PRIORITY_RANGE} to {PRIORITY_RANGE}")
        return PRIORITIES[value]
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > PRIORITY_RANGE:
        raise ValidationError("priority", f"expected a name ({', '.join(PRIORITIES)}) or an integer from "
                                          f"-{PRIORITY_RANGE} to {PRIORITY_RANGE}, got {value!r}")
    return value


def _attempts(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError("attempts", f"expected an integer of 1 or more, got {value!r}")
    return value


def _delay(value: Any) -> int:
    if isinstance(value, datetime):
        # a naive datetime is local time, as datetime.timestamp() reads it; a past time means "now"
        return max(0, int(value.timestamp() * 1000 - now_ms()))
    return _ms("delay", value)


def _job_type(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError("type", f"expected a non-empty string naming the job type, got {value!r}")
    if len(value) > MAX_TYPE or not value.isprintable():
        raise ValidationError("type", f"expected at most {MAX_TYPE} printable characters, got {value!r}")
    return value


def _job_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str) or not value:
        raise ValidationError("job_id", f"expected a non-empty string, got {value!r}")
    if value.isdigit():
        raise ValidationError("job_id", f"{value!r} is all digits; such ids are reserved for the queue's counter, "
                                        "use a name such as 'report-42'")
    if len(value) > MAX_ID or not all(c.isalnum() or c in "-_.:@" for c in value):
        raise ValidationError("job_id", f"expected at most {MAX_ID} letters, digits or - _ . : @, got {value!r}")
    return value


def _backoff(value: Any, known: Mapping[str, Any] = {}) -> dict[str, Any] | None:
    if value is None or value is False:
        return None
    if value is True:
        return {"type": "fixed", "delay": 0}
    if isinstance(value, (int, float, timedelta)) and not isinstance(value, bool):
        return {"type": "fixed", "delay": _ms("backoff", value)}
    if isinstance(value, str):
        value = {"type": value}
    if callable(value):
        raise ValidationError("backoff", "a function cannot be stored in Redis; register it with "
                                         "queue.register_backoff(name, fn) and pass {'type': name}")
    if not isinstance(value, Mapping):
        raise ValidationError("backoff", f"expected True, milliseconds, 'fixed', 'exponential' or a dict "
                                         f"{{'type': ..., 'delay': ms}}, got {value!r}")
    kind = value.get("type")
    if kind not in ("fixed", "exponential") and kind not in known:
        raise ValidationError("backoff", f"unknown backoff type {kind!r}; expected 'fixed', 'exponential' or one "
                                         f"registered with queue.register_backoff ({', '.join(known) or 'none'})")
    extra = set(value) - {"type", "delay", "jitter"}
    if extra:
        raise ValidationError("backoff", f"unknown keys {sorted(extra)}; expected type, delay, jitter")
    spec: dict[str, Any] = {"type": kind, "delay": _ms("backoff delay", value.get("delay", 1000))}
    if "jitter" in value:
        jitter = value["jitter"]
        if isinstance(jitter, bool) or not isinstance(jitter, (int, float)) or not 0 <= jitter <= 1:
            raise ValidationError("backoff jitter", f"expected a fraction from 0 to 1, got {jitter!r}")
        spec["jitter"] = float(jitter)
    return spec


#: what every refusal of data that is not JSON ends with
_JSON_ONLY = "only JSON values (dict with str keys, list, str, int, float, bool, None) can be stored"


def _find_unserializable(value: Any, path: str) -> tuple[str, str] | None:
    """Where the first value that JSON or Redis cannot take is, and why (or None)."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            where = f"{path}[{k!r}]"
            found = _bad_key(k, where) or _find_unserializable(v, where)
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _find_unserializable(v, f"{path}[{i}]")
            if found:
                return found
        return None
    return _bad_leaf(value, path)


def _bad_key(key: Any, where: str) -> tuple[str, str] | None:
    if not isinstance(key, str):
        return where, f"keys must be strings: {_JSON_ONLY}"
    return _bad_text(key, where)


def _bad_leaf(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        return _bad_text(value, path)
    if isinstance(value, float) and not math.isfinite(value):
        return path, f"NaN and infinity are not JSON: {_JSON_ONLY}"
    if value is None or isinstance(value, (int, float, bool)):
        return None
    return path, f"{type(value).__name__} is not JSON-serializable: {_JSON_ONLY}"


def _bad_text(text: str, where: str) -> tuple[str, str] | None:
    """Why ``text`` cannot be sent to Redis (or None): Redis takes UTF-8, and the only str UTF-8 cannot encode is one
    holding a lone surrogate, which is what decoding invalid bytes with ``errors="surrogateescape"`` leaves."""
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        return where, (f"{text[exc.start:exc.end]!r} at index {exc.start} is a lone surrogate, not valid Unicode "
                       "text; decode bytes with errors='replace', or store them as base64")
    return None


def _plain_keys(value: Any) -> bool:
    """True if every dict inside ``value`` has only ``str`` keys (json.dumps would quietly turn 1 into "1")."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str) or (isinstance(v, (dict, list, tuple)) and not _plain_keys(v)):
                return False
    elif isinstance(value, (list, tuple)):
        for v in value:
            if isinstance(v, (dict, list, tuple)) and not _plain_keys(v):
                return False
    return True


def encode_data(data: Any, limit: int = MAX_DATA_BYTES, name: str = "data") -> str:
    """``data`` as compact JSON; the ValidationError's field is the path of the offending value (``data['a'][1]``),
    or ``name`` when the whole is over ``limit`` bytes.

    Stricter than ``json.dumps``: non-string keys and NaN are refused, since they would not come back unchanged, and
    so is text with a lone surrogate, which cannot be sent to Redis.
    """
    # the common case costs one walk over the containers and one C-speed dumps; a refusal is explained afterwards
    try:
        if not _plain_keys(data):
            raise TypeError("a key is not a string")
        text = _dumps(data)
        size = len(text) if text.isascii() else len(text.encode())  # the encode refuses a lone surrogate
    except (TypeError, ValueError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
        raise _refusal(data, name, exc) from None
    if size > limit:
        raise ValidationError(name, f"{size} bytes as JSON, over the limit of {limit} bytes "
                                    "(store large payloads elsewhere and pass a reference)")
    return text


def _refusal(data: Any, name: str, exc: BaseException) -> ValidationError:
    """The error for ``data`` (called ``name``) that failed to encode with ``exc``, naming the value at fault."""
    try:
        found = _find_unserializable(data, name)
    except RecursionError:
        found = name, f"nested too deeply, or a container that holds itself: {_JSON_ONLY}"
    return ValidationError(*(found or (name, f"{exc}: {_JSON_ONLY}")))


def _check_text(text: str, name: str) -> str:
    """``text`` itself, once it is known Redis can be sent it (ValidationError naming ``name`` otherwise)."""
    if not text.isascii():
        found = _bad_text(text, name)
        if found:
            raise ValidationError(*found)
    return text


def backoff_delay(spec: Mapping[str, Any] | None, failures: int,
                  custom: Mapping[str, Callable[[int, int], float]] = {}) -> int:
    """Milliseconds to wait before the next attempt after ``failures`` failed attempts."""
    if not spec:
        return 0
    delay = int(spec.get("delay", 0))
    kind = spec.get("type")
    if kind == "fixed":
        return delay
    if kind == "exponential":
        value = delay * 2 ** max(0, failures - 1)
        jitter = float(spec.get("jitter", 0))
        if jitter:
            value = value * (1 - jitter * random.random())
        return int(value)
    if isinstance(kind, str) and kind in custom:
        return max(0, int(custom[kind](failures, delay)))
    return delay


_STATES = {s.value: s for s in JobState}
_NUMBER_FIELDS = ("priority", "attempts", "ttl", "delay", "percent", "made", "fails", "stalls", "created", "started",
                  "finished")
_JSON_FIELDS = ("data", "backoff", "pdata", "result")


def _number(name: str, raw: str) -> int:
    if raw == "":
        return 0
    try:
        return int(raw) if raw.isdigit() else int(float(raw))
    except ValueError:
        raise ValueError(f"field {name!r} should be a number, found {raw!r}") from None


def _json(name: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise ValueError(f"field {name!r} is not valid JSON: {raw[:80]!r}") from None


@dataclass
class JobOptions:
    """How a job is run; every field is validated when set. Durations are milliseconds (or timedelta)."""

    priority: int = 0
    attempts: int = 1
    backoff: dict[str, Any] | None = None
    ttl: int | None = None
    delay: int = 0
    remove_on_complete: bool = False

    @classmethod
    def build(cls, *, priority: Any = 0, attempts: Any = 1, backoff: Any = None, ttl: Any = None, delay: Any = 0,
              remove_on_complete: Any = False, known_backoffs: Mapping[str, Any] = {}) -> JobOptions:
        """Validate raw options (names, timedeltas, datetimes) into JobOptions."""
        if not isinstance(remove_on_complete, bool):
            raise ValidationError("remove_on_complete", f"expected True or False, got {remove_on_complete!r}")
        return cls(priority=_priority(priority), attempts=_attempts(attempts), backoff=_backoff(backoff,
                   known_backoffs), ttl=None if ttl is None else _ms("ttl", ttl, allow_zero=False),
                   delay=_delay(delay), remove_on_complete=remove_on_complete)


class JobStore(Protocol):
    """What a :class:`Job` needs of the queue it belongs to: ``queuekit.Queue`` is the store, and the job knows it
    only through these members (so ``job`` does not import ``queue``).

    The producer's side is ``save``, ``remove`` and ``retry``; the handler's side (while it runs) is
    ``report_progress``, ``append_log`` and ``extend_lease``; a job's own reads are ``load_job``, ``finished_state``,
    ``attempt_history`` and ``log_lines``. ``_where`` is the hook ``errors.translated`` calls on every object whose
    errors it translates (Queue, Job, Worker): it names the server without its password.
    """

    @property
    def max_data_bytes(self) -> int: ...

    @property
    def backoffs(self) -> Mapping[str, Callable[[int, int], float]]: ...

    @property
    def events(self) -> EventHub: ...

    def save(self, job: Job) -> Job: ...

    def remove(self, job_id: str | int) -> bool: ...

    def retry(self, job_id: str | int) -> int: ...

    def report_progress(self, job: Job, data: str) -> None: ...

    def append_log(self, job: Job, text: str) -> None: ...

    def extend_lease(self, job: Job) -> bool: ...

    def load_job(self, job_id: str) -> Job: ...

    def finished_state(self, job_id: str) -> str | None: ...

    def attempt_history(self, job_id: str) -> list[dict[str, Any]]: ...

    def log_lines(self, job_id: str) -> list[str]: ...

    def _where(self) -> str: ...


#: fields of a Job that describe this process's handle, not the stored job: ``refresh`` leaves them as they are
_LOCAL_FIELDS = frozenset({"lease_ms"})


@dataclass(eq=False)
class Job:
    """A unit of work: a ``type`` naming its handler and JSON ``data``.

    Producer side: build with ``queue.create(type, data)``, chain Kue-style setters (``priority``, ``delay``,
    ``attempts``, ``backoff``, ``ttl``, ``remove_on_complete``), listen with ``on``, then ``save()``; or use
    ``queue.add(type, data, **options)``. ``wait(timeout)`` returns the result.

    Handler side: ``progress(done, total)``, ``log(...)`` and ``heartbeat()`` report while it runs.

    Fields filled from Redis: ``id`` (str), ``state``, ``percent`` (0-100) and ``progress_data``, ``result``,
    ``error`` (last error message), ``attempts_made`` (runs started, stalls included), ``failures``, ``stalls``,
    ``created_at``/``started_at``/``finished_at`` (ms since the epoch), ``worker`` (id of the last worker).

    Set in this process only, never stored: ``lease_ms``, the lease of the worker running the job (what
    ``heartbeat`` renews; None outside a worker, where a heartbeat renews ``DEFAULT_LEASE_MS``).
    """

    type: str
    data: Any = None
    id: str | None = None
    opts: JobOptions = field(default_factory=JobOptions)
    state: JobState | None = None
    percent: int = 0
    progress_data: Any = None
    result: Any = None
    error: str | None = None
    attempts_made: int = 0
    failures: int = 0
    stalls: int = 0
    created_at: int | None = None
    started_at: int | None = None
    finished_at: int | None = None
    worker: str | None = None
    custom_id: str | None = None
    #: True when ``save``/``add`` found an existing job with the same custom id (nothing new was stored)
    duplicate: bool = False
    _queue: JobStore | None = field(default=None, repr=False)
    _token: str = field(default="", repr=False)
    _listeners: list[tuple[str, Callable[..., Any]]] = field(default_factory=list, repr=False)
    lease_ms: int | None = field(default=None, repr=False, compare=False)

    # ---- Kue-style fluent setters (producer side) ------------------------------------------------------------

    def priority(self, value: int | str) -> Job:
        """Set the priority: a name (low, normal, medium, high, critical) or an integer; lower runs first."""
        self.opts.priority = _priority(value)
        return self

    def delay(self, value: int | timedelta | datetime) -> Job:
        """Run no earlier than ``value`` milliseconds from now (or a timedelta, or a datetime)."""
        self.opts.delay = _delay(value)
        return self

    def attempts(self, value: int) -> Job:
        """Allow this many failed attempts before the job fails for good (1 = no retry)."""
        self.opts.attempts = _attempts(value)
        return self

    def backoff(self, value: Any) -> Job:
        """Wait between attempts: True, milliseconds, 'fixed', 'exponential', or {'type', 'delay', 'jitter'}."""
        self.opts.backoff = _backoff(value, self._queue.backoffs if self._queue else {})
        return self

    def ttl(self, value: int | timedelta) -> Job:
        """Fail an attempt that runs longer than ``value`` milliseconds ("TTL exceeded")."""
        self.opts.ttl = _ms("ttl", value, allow_zero=False)
        return self

    def remove_on_complete(self, value: bool = True) -> Job:
        """Delete the job as soon as it completes (its result is still delivered to listeners)."""
        if not isinstance(value, bool):
            raise ValidationError("remove_on_complete", f"expected True or False, got {value!r}")
        self.opts.remove_on_complete = value
        return self

    def set_id(self, value: str) -> Job:
        """Use a custom id; saving a job whose id exists stores nothing and marks it ``duplicate``."""
        self.custom_id = _job_id(value)
        return self

    def on(self, event: str, listener: Callable[..., Any]) -> Job:
        """Call ``listener`` on a job event: enqueue, start, promotion, progress(percent, data),
        'failed attempt'(error, attempts_made), failed(error), complete(result), remove."""
        if self.id is None:
            self._listeners.append((event, listener))
            self._require_queue().events.watch()  # subscribe now so no event of this job can be missed
        else:
            self._require_queue().events.on_job(self.id, event, listener)
        return self

    @translated
    def save(self) -> Job:
        """Store the job (validated first; nothing is written if anything is invalid). Returns self."""
        self._require_queue().save(self)
        return self

    # ---- handler side ---------------------------------------------------------------------------------------

    @translated
    def progress(self, done: float, total: float = 100, data: Any = None) -> Job:
        """Report progress: stores ``min(100, floor(done * 100 / total))`` and ``data`` (JSON, as job data) and
        announces it."""
        if isinstance(done, bool) or not isinstance(done, (int, float)) or isinstance(total, bool) or \
                not isinstance(total, (int, float)) or total <= 0:
            raise ValidationError("progress", f"expected numbers done >= 0 and total > 0, got {done!r}/{total!r}")
        queue = self._require_queue()
        encoded = "" if data is None else encode_data(data, queue.max_data_bytes, "progress_data")
        self.percent = max(0, min(100, math.floor(done * 100 / total)))
        self.progress_data = data
        queue.report_progress(self, encoded)
        return self

    @translated
    def log(self, message: str, *args: Any) -> Job:
        """Append a line to the job's log (``%`` formatting with ``args``, like logging)."""
        text = _check_text(str(message) % args if args else str(message), "log")
        self._require_queue().append_log(self, text)
        return self

    @translated
    def heartbeat(self) -> bool:
        """Renew this job's lease now (for long CPU-bound handlers); False if the lease was already lost."""
        return self._require_queue().extend_lease(self)

    # ---- reading and managing ------------------------------------------------------------------------------

    @translated
    def refresh(self) -> Job:
        """Reload every field from Redis; raises JobNotFound if the job is gone."""
        fresh = self._require_queue().load_job(self._require_id())
        self.__dict__.update({k: v for k, v in fresh.__dict__.items()
                              if not k.startswith("_") and k not in _LOCAL_FIELDS})
        return self

    @translated
    def wait(self, timeout: float | None = None) -> Any:
        """Block until the job finishes; return its result, or raise JobFailed / WaitTimeout (seconds)."""
        queue = self._require_queue()
        job_id = self._require_id()
        done = queue.events.wait_finished(job_id, timeout, lambda: queue.finished_state(job_id))
        if done is None:
            raise WaitTimeout(f"job {job_id} not finished after {timeout} s")
        self.refresh() if done != "removed" else None
        if done == "failed":
            raise JobFailed(job_id, self.error or "failed")
        return self.result

    @property
    @translated
    def failed_attempts(self) -> list[dict[str, Any]]:
        """Every failed, stalled or interrupted attempt: attempt, kind, error, traceback, at (ms)."""
        return self._require_queue().attempt_history(self._require_id())

    @property
    @translated
    def logs(self) -> list[str]:
        """The job's log lines."""
        return self._require_queue().log_lines(self._require_id())

    @translated
    def remove(self) -> bool:
        """Delete the job, whatever its state."""
        return self._require_queue().remove(self._require_id())

    @translated
    def retry(self) -> bool:
        """Put a failed job back in line with a fresh set of attempts."""
        return self._require_queue().retry(self._require_id()) == 1

    def has_default_options(self) -> bool:
        """True when every option has its default value (such a job stores no option fields)."""
        o = self.opts
        return (o.priority == 0 and o.attempts == 1 and o.backoff is None and o.ttl is None and o.delay == 0
                and o.remove_on_complete is False)

    # ---- serialization boundary ----------------------------------------------------------------------------

    def to_dict(self, limit: int = MAX_DATA_BYTES) -> dict[str, str]:
        """The job as Redis hash fields at creation (validated; data as JSON; defaults left out)."""
        out = {"type": _job_type(self.type), "data": encode_data(self.data, limit)}
        o = self.opts
        if o.priority:
            out["priority"] = str(o.priority)
        if o.attempts != 1:
            out["attempts"] = str(o.attempts)
        if o.backoff:
            out["backoff"] = json.dumps(o.backoff, separators=(",", ":"))
        if o.ttl is not None:
            out["ttl"] = str(o.ttl)
        if o.delay:
            out["delay"] = str(o.delay)
        if o.remove_on_complete:
            out["roc"] = "1"
        return out

    @classmethod
    def from_dict(cls, job_id: str, fields: Mapping[str, str], queue: JobStore | None = None) -> Job:
        """Build a Job from its hash fields. Raises ValueError (with the field) for a corrupt hash."""
        if "type" not in fields:
            raise ValueError("field 'type' is missing")
        state = _STATES.get(fields["state"]) if "state" in fields else None
        if state is None and "state" in fields:
            raise ValueError(f"field 'state' has an unknown value {fields['state']!r}")
        # only the fields present are parsed (a new job has few): a claimed job is built on every start
        num = {name: _number(name, fields[name]) for name in _NUMBER_FIELDS if name in fields}
        js = {name: _json(name, fields[name]) for name in _JSON_FIELDS if name in fields}
        opts = JobOptions(priority=num.get("priority", 0), attempts=num.get("attempts", 1), backoff=js.get("backoff"),
                          ttl=num.get("ttl") or None, delay=num.get("delay", 0),
                          remove_on_complete=fields.get("roc") == "1")
        return cls(type=fields["type"], data=js.get("data"), id=job_id, opts=opts, state=state,
                   percent=num.get("percent", 0), progress_data=js.get("pdata"), result=js.get("result"),
                   error=fields.get("error"), attempts_made=num.get("made", 0), failures=num.get("fails", 0),
                   stalls=num.get("stalls", 0), created_at=num.get("created") or None,
                   started_at=num.get("started") or None, finished_at=num.get("finished") or None,
                   worker=fields.get("worker"), _queue=queue, _token=fields.get("token", ""))

    # ---- helpers ---------------------------------------------------------------------------------------------

    def _require_queue(self) -> JobStore:
        if self._queue is None:
            raise RuntimeError("this job is not attached to a queue; create it with queue.create(...)")
        return self._queue

    def _where(self) -> str:
        """Where the job's queue is (named in the errors of its calls)."""
        return self._queue._where() if self._queue is not None else ""

    def _require_id(self) -> str:
        if self.id is None:
            raise RuntimeError("this job has no id yet: save() it first")
        return self.id

    def _repr_html_(self) -> str:
        from .display import job_html

        return job_html(self)
