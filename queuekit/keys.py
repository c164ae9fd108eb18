"""Every Redis key name queuekit uses, built in one place.

All keys of one queue share the hash tag ``{<queue name>}``, so a queue lives in one Redis Cluster slot and every
Lua script touching it runs there. Layout for queue ``Q``::

    qk:{Q}:id              string   job id counter (ids read "1", "2", ...)
    qk:{Q}:seq             string   arrival order, breaks ties between jobs of equal priority
    qk:{Q}:types           set      job types ever enqueued
    qk:{Q}:wait:<type>     zset     waiting ("inactive") jobs; score = priority band + arrival order
    qk:{Q}:delayed:<type>  zset     delayed jobs and retries in backoff; score = due time (ms)
    qk:{Q}:mark:<type>     list     wake-up token for workers blocked in BLPOP
    qk:{Q}:idle:<type>     list     ids of idle workers waiting for a job of the type (may name stale ones)
    qk:{Q}:active          zset     running jobs; score = lease deadline (ms)
    qk:{Q}:complete        zset     finished jobs; score = finish time (ms)
    qk:{Q}:failed          zset     failed jobs; score = finish time (ms)
    qk:{Q}:done:<type>     zset     the complete jobs of one type, same scores (counts and pages by type)
    qk:{Q}:dead:<type>     zset     the failed jobs of one type, same scores
    qk:{Q}:fails:<hash>    zset     the failed jobs of one failure group, same scores; <hash> is a hash (16 hex
                                    digits) of the first line of their error, so no error text names a key
    qk:{Q}:failgroups      zset     failure groups; score = how many failed jobs each holds
    qk:{Q}:failinfo        hash     failure group hash -> JSON {error, first_seen, last_seen, types}
    qk:{Q}:meta            hash     queue settings (paused)
    qk:{Q}:sweep           string   lock: one stalled-job sweep per interval
    qk:{Q}:workers         zset     live workers; score = last heartbeat (ms)
    qk:{Q}:worker:<id>     string   a worker's description (JSON), expires
    qk:{Q}:stop:<id>       list     a worker's own wake-up: pushed to end its blocking wait when it stops
    qk:{Q}:ready:<id>      string   an idle worker's offer to take the next job ("<lease ms> <token>"), expires
    qk:{Q}:inbox:<id>      list     jobs handed straight to that idle worker by an add (JSON [id, fields])
    qk:{Q}:job:<id>        hash     the job
    qk:{Q}:log:<id>        list     the job's log lines
    qk:{Q}:errs:<id>       list     the job's failed attempts (JSON)
    qk:{Q}:audit           list     the dashboard's audit log: the newest actions taken through the web API (JSON)
    qk:{Q}:events          channel  job and queue events (pub/sub, not a key)
    qk:queues              set      names of every queue (outside any queue's slot)

No name can make one key look like another. A queue name holds no brace, so the prefix ``qk:{Q}:`` ends at the
first ``}``. After the prefix, a fixed key is one word without ``:``; a key that holds a name (a job id, a job
type, a worker's id) is its kind's own word, a ``:``, then the name, and nothing after the name. So the text up to
the first ``:`` after the prefix tells the kind of any key, and the rest is the whole name, whatever characters it
holds (a job's log is ``log:<id>``, never ``job:<id>:log``, which the job ``<id>:log`` would own).
The Lua scripts derive keys the same way, from the queue prefix they are passed.
"""

from __future__ import annotations

from .errors import ValidationError

__all__ = ["PREFIX", "QUEUES", "QueueKeys", "glob_escape", "validate_queue_name"]

PREFIX = "qk"
QUEUES = f"{PREFIX}:queues"
MAX_NAME = 200
#: the characters a Redis glob pattern gives a meaning to (a backslash escapes the next one; ^ and - mean something
#: only inside [...], which never opens once [ is escaped)
GLOB_CHARS = frozenset("*?[]\\")


def validate_queue_name(name: object) -> str:
    """Return ``name`` if it can name a queue, else raise ValidationError."""
    if not isinstance(name, str) or not name:
        raise ValidationError("queue name", f"expected a non-empty string, got {name!r}")
    if len(name) > MAX_NAME or any(c in name for c in "{}") or not name.isprintable():
        raise ValidationError("queue name", f"expected at most {MAX_NAME} printable characters without braces, "
                                            f"got {name!r}")
    return name


class QueueKeys:
    """Key names of one queue."""

    __slots__ = ("name", "base", "id", "seq", "types", "active", "complete", "failed", "meta", "sweep", "workers",
                 "failgroups", "failinfo", "job_prefix", "channel", "stats", "_lines")

    def __init__(self, name: str) -> None:
        self.name = validate_queue_name(name)
        self.base = f"{PREFIX}:{{{name}}}:"
        self.id = self.base + "id"
        self.seq = self.base + "seq"
        self.types = self.base + "types"
        self.active = self.base + "active"
        self.complete = self.base + "complete"
        self.failed = self.base + "failed"
        self.meta = self.base + "meta"
        self.sweep = self.base + "sweep"
        self.workers = self.base + "workers"
        self.failgroups = self.base + "failgroups"
        self.failinfo = self.base + "failinfo"
        self.job_prefix = self.base + "job:"
        self.channel = self.base + "events"
        #: running totals and time histograms (hash: <total>:<type>, run|wait:<type>:<bucket|sum|count>)
        self.stats = self.base + "stats"
        self._lines: dict[str, tuple[str, str, str]] = {}

    def wait(self, job_type: str) -> str:
        return f"{self.base}wait:{job_type}"

    def delayed(self, job_type: str) -> str:
        return f"{self.base}delayed:{job_type}"

    def done(self, job_type: str) -> str:
        """The index of the complete jobs of ``job_type``."""
        return f"{self.base}done:{job_type}"

    def dead(self, job_type: str) -> str:
        """The index of the failed jobs of ``job_type``."""
        return f"{self.base}dead:{job_type}"

    def fails(self, group: str) -> str:
        """The failed jobs of one failure group (``group``: the hash of their error's first line)."""
        return f"{self.base}fails:{group}"

    def mark(self, job_type: str) -> str:
        return f"{self.base}mark:{job_type}"

    def idle(self, job_type: str) -> str:
        return f"{self.base}idle:{job_type}"

    def lines(self, job_type: str) -> tuple[str, str, str]:
        """The (wait, delayed, mark) triple the scripts take for one type."""
        triple = self._lines.get(job_type)
        if triple is None:
            triple = (self.wait(job_type), self.delayed(job_type), self.mark(job_type))
            if len(self._lines) < 1000:  # remembered for the few types a queue has; never an unbounded cache
                self._lines[job_type] = triple
        return triple

    def job(self, job_id: str) -> str:
        return self.job_prefix + job_id

    def log(self, job_id: str) -> str:
        return f"{self.base}log:{job_id}"

    def errs(self, job_id: str) -> str:
        return f"{self.base}errs:{job_id}"

    def worker(self, worker_id: str) -> str:
        return f"{self.base}worker:{worker_id}"

    def stop(self, worker_id: str) -> str:
        return f"{self.base}stop:{worker_id}"

    def ready(self, worker_id: str) -> str:
        return f"{self.base}ready:{worker_id}"

    def inbox(self, worker_id: str) -> str:
        return f"{self.base}inbox:{worker_id}"

    def minute(self, number: str) -> str:
        """The history bucket of one minute (its number since the epoch), expiring after a day."""
        return f"{self.base}minute:{number}"

    def hour(self, number: str) -> str:
        """The history bucket of one hour (its number since the epoch), expiring after a week."""
        return f"{self.base}hour:{number}"

    @property
    def audit(self) -> str:
        """The audit log of the actions taken on this queue through the web API (newest first, capped)."""
        return self.base + "audit"

    def pattern(self) -> str:
        """A SCAN pattern matching every key of this queue: the prefix with its glob characters escaped, so a name
        such as ``queue[1]`` or ``*`` matches itself only. Keep only the keys ``owns`` accepts all the same."""
        return glob_escape(self.base) + "*"

    def owns(self, key: str) -> bool:
        """True when ``key`` is one of this queue's keys."""
        return key.startswith(self.base)


def glob_escape(text: str) -> str:
    """``text`` as a Redis glob pattern (SCAN MATCH, KEYS) that matches ``text`` itself and nothing else."""
    return "".join("\\" + c if c in GLOB_CHARS else c for c in text)
