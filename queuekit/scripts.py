"""The only Python home of the Lua calls: one typed function per script in ``lua/`` builds its KEYS and ARGV (a
:class:`Call`), and :func:`run`, :func:`run_async` and :func:`pipelined` send calls, with one way of handling a
server that answers NOSCRIPT (a restarted server has an empty script cache): load the script, send the call again.

The functions take a queue's :class:`~queuekit.keys.QueueKeys` and plain values, and know each script's KEYS and
ARGV layout from the header of its ``.lua`` file; nothing else in queuekit lists a script's keys or arguments.
Calls are sent as EVALSHA with the script's SHA1, computed here from its source (no round trip to learn it).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

import redis

from .keys import QueueKeys

__all__ = ["FILES", "SOURCES", "SHAS", "Call", "run", "run_async", "pipelined", "settle_async", "load_all_async",
           "add", "add_head", "add_args", "enqueue", "claim", "finish", "extend", "sweep", "clean", "leave",
           "progress", "remove", "retry", "promote", "priority", "move", "search", "run_framed"]


# ---- the sources ----------------------------------------------------------------------------------------------

def _read() -> dict[str, str]:
    folder = resources.files(__package__).joinpath("lua")
    return {entry.name[:-4]: entry.read_text(encoding="utf-8") for entry in folder.iterdir()
            if entry.name.endswith(".lua")}


def _helpers(lib: str) -> dict[str, str]:
    """_lib.lua cut into its helpers, in file order: name -> its paragraph (the comment above it and its body).

    Paragraphs are separated by blank lines; one without a ``local function`` (the file's header) is left out.
    """
    found: dict[str, str] = {}
    for paragraph in re.split(r"\n\s*\n", lib):
        match = re.search(r"^local function (\w+)\(", paragraph, re.MULTILINE)
        if match:
            found[match.group(1)] = paragraph.strip("\n") + "\n"
    return found


def _calls(text: str, name: str) -> bool:
    return re.search(rf"\b{name}\s*\(", text) is not None


def _prelude(script: str, helpers: dict[str, str]) -> str:
    """The helpers ``script`` calls, and the helpers those call, in _lib.lua's order.

    Redis runs a script's whole text on every call, so each helper defined costs a closure per call even when the
    script never calls it; a script carries only the helpers it uses.
    """
    wanted = {name for name in helpers if _calls(script, name)}
    for name in reversed(list(helpers)):  # a helper only calls helpers defined above it
        if name in wanted:
            wanted |= {other for other in helpers if other != name and _calls(helpers[name], other)}
    return "".join(text + "\n" for name, text in helpers.items() if name in wanted)


_texts = _read()
_lib = _helpers(_texts["_lib"])
#: script name (file name without ``.lua``) -> the file's own text, as a reader sees it (the lessons show these)
FILES: dict[str, str] = {name: text for name, text in _texts.items() if not name.startswith("_")}
#: script name -> the source Redis runs: the helpers of _lib.lua the script uses (static text copied from that
#: file, never generated) in front of the script's file
SOURCES: dict[str, str] = {name: _prelude(text, _lib) + text for name, text in FILES.items()}
#: script name -> the SHA1 of its source, as EVALSHA names it
SHAS: dict[str, str] = {name: hashlib.sha1(source.encode("utf-8")).hexdigest() for name, source in SOURCES.items()}


# ---- a call and how it is sent ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    """One call of a script: its name, KEYS and ARGV, as the script's header lists them."""

    script: str
    keys: Sequence[str]
    args: Sequence[Any]

    @property
    def command(self) -> tuple[Any, ...]:
        """The EVALSHA command that runs this call."""
        return ("EVALSHA", SHAS[self.script], len(self.keys), *self.keys, *self.args)


class Executor(Protocol):
    """What sends one command and returns its reply: a redis-py client (plain, cluster or embedded) or a lane."""

    def execute_command(self, *args: Any, **options: Any) -> Any: ...

    def script_load(self, script: str) -> Any: ...


def reloading(executor: Executor, script: str, send: Callable[[], Any]) -> Any:
    """``send()`` (which sends a call of ``script`` through ``executor``), and again after loading the script if the
    server did not know it: the one NOSCRIPT path of every synchronous call."""
    try:
        return send()
    except redis.exceptions.NoScriptError:
        executor.script_load(SOURCES[script])
        return send()


async def reloading_async(executor: Executor, script: str, send: Callable[[], Awaitable[Any]]) -> Any:
    """:func:`reloading` for asyncio: ``executor``'s calls are awaited."""
    try:
        return await send()
    except redis.exceptions.NoScriptError:
        await executor.script_load(SOURCES[script])
        return await send()


def run(executor: Executor, call: Call) -> Any:
    """Send ``call`` and return its reply (an error reply is raised as redis-py raises it)."""
    return reloading(executor, call.script, lambda: executor.execute_command(*call.command))


async def run_async(executor: Executor, call: Call) -> Any:
    """:func:`run` on an asyncio client or lane."""
    return await reloading_async(executor, call.script, lambda: executor.execute_command(*call.command))


def pipelined(pipe: Any, call: Call) -> None:
    """Queue ``call`` in a pipeline (sync or asyncio, plain or cluster: every key of a call shares the queue's hash
    tag, so a cluster pipeline still sends it to one node). Load the scripts first (:func:`load_all_async`): a
    NOSCRIPT reply inside a pipeline is answered after the calls behind it, out of order."""
    # execute_command, not pipe.evalsha: redis-py's cluster pipelines refuse the evalsha method
    pipe.execute_command(*call.command)


class FramedExecutor(Executor, Protocol):
    """A lane that sends requests framed once (:class:`queuekit.lane.Framed`)."""

    def execute_packed(self, packed: bytes) -> Any: ...


def run_framed(lane: FramedExecutor, head: Any, args: Sequence[Any]) -> Any:
    """Send the call whose head ``lane`` framed once (``head``: a :class:`queuekit.lane.Framed` of a call such as
    :func:`add_head`'s) with ``args`` after it, and return its reply."""
    return reloading(lane, head.script, lambda: lane.execute_packed(head.pack(args)))


async def settle_async(executor: Executor, calls: Sequence[Call], replies: Sequence[Any]) -> list[Any]:
    """The replies of ``calls`` sent in a pipeline (run with ``raise_on_error=False``), with each NOSCRIPT reply
    replaced by the reply of its call sent again after loading the script. Other errors are left in place."""
    settled: list[Any] = []
    for call, reply in zip(calls, replies):
        if isinstance(reply, redis.exceptions.NoScriptError):
            reply = await run_async(executor, call)
        settled.append(reply)
    return settled


async def load_all_async(executor: Executor) -> None:
    """Load every script (before a worker's first pipelined round trip)."""
    for source in SOURCES.values():
        await executor.script_load(source)


# ---- one function per script: its KEYS and ARGV ----------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _add_keys(keys: QueueKeys, job_type: str) -> tuple[str, ...]:
    return (keys.id, keys.seq, keys.types, keys.job_prefix, *keys.lines(job_type), keys.idle(job_type), keys.active,
            keys.meta, keys.base)


def add_head(keys: QueueKeys, job_type: str, channel: str) -> Call:
    """add.lua's call without its per-job arguments: the part a producer sends unchanged on every add of one type
    (a lane frames it once, see :class:`queuekit.lane.Framed`)."""
    return Call("add", _add_keys(keys, job_type), (channel, job_type))


def add_args(now: int, data: str, *, custom_id: str = "", delay: int = 0, priority: int = 0,
             fields: Sequence[tuple[str, Any]] = ()) -> list[Any]:
    """add.lua's per-job arguments (ARGV[3..]): a job with neither a custom id nor fields sends two."""
    if not custom_id and not fields:
        return [now, data]
    return [now, data, custom_id, delay, priority, *(x for item in fields for x in item)]


def add(keys: QueueKeys, job_type: str, channel: str, args: Sequence[Any]) -> Call:
    """Store one job of ``job_type`` and put it in line, or hand it to an idle worker (``args``: :func:`add_args`)."""
    head = add_head(keys, job_type, channel)
    return Call("add", head.keys, (*head.args, *args))


def enqueue(keys: QueueKeys, types: Sequence[str], now: int, channel: str, groups: int, per_job: int,
            group_args: Sequence[Any], job_args: Sequence[Any]) -> Call:
    """Store a batch of jobs: ``types`` in the order the option groups index them; ``groups`` option groups encoded
    in ``group_args``; ``job_args`` per job, as ``per_job`` says (see enqueue.lua)."""
    key_list = [keys.id, keys.seq, keys.types, keys.job_prefix, *(k for t in types for k in keys.lines(t))]
    return Call("enqueue", key_list, (now, channel, groups, per_job, *group_args, *job_args))


@functools.lru_cache(maxsize=1024)
def _claim_keys(keys: QueueKeys, worker_id: str, types: tuple[str, ...]) -> tuple[str, ...]:
    return (keys.active, keys.meta, keys.job_prefix, keys.stop(worker_id), keys.ready(worker_id),
            keys.inbox(worker_id), *(k for t in types for k in (*keys.lines(t), keys.idle(t))))


def claim(keys: QueueKeys, worker_id: str, types: Sequence[str], *, now: int, want: int, lease_ms: int, token: str,
          channel: str, promote_until: int, offer_ms: int = 0) -> Call:
    """Promote due delayed jobs of ``types`` and claim up to ``want`` waiting ones under a lease; ``offer_ms`` > 0:
    the listener's claim, which takes the worker's inbox first and, finding nothing, offers to take the next job."""
    return Call("claim", _claim_keys(keys, worker_id, tuple(types)),
                (now, want, lease_ms, worker_id, token, channel, promote_until, offer_ms))


def finish(keys: QueueKeys, now: int, channel: str, outcomes_json: str) -> Call:
    """Record outcomes for the worker holding the jobs' leases: ``outcomes_json`` is a JSON array of [id, lease
    token, kind ("ok", "fail", "fatal" or "release"), value, traceback, retry delay ms, started ms, finished ms]."""
    return Call("finish", (keys.active, keys.complete, keys.failed, keys.base), (now, channel, outcomes_json))


def extend(keys: QueueKeys, until: int, pairs: Sequence[str]) -> Call:
    """Renew leases until ``until`` (ms); ``pairs``: id, lease token, id, token, ..."""
    return Call("extend", (keys.active, keys.job_prefix), (until, *pairs))


def sweep(keys: QueueKeys, now: int, max_stalls: int, lock_ms: int, channel: str, limit: int) -> Call:
    """Put back in line the active jobs whose lease ran out (at most one sweep per ``lock_ms`` across workers)."""
    return Call("sweep", (keys.active, keys.failed, keys.sweep, keys.base), (now, max_stalls, lock_ms, channel, limit))


def clean(keys: QueueKeys, state: str, now: int, keep: int, age: int, batch: int) -> Call:
    """Remove finished jobs of ``state`` ("complete" or "failed") beyond ``keep`` or older than ``age`` ms (-1: no
    limit), at most ``batch`` of them."""
    line = keys.complete if state == "complete" else keys.failed
    return Call("clean", (line, keys.base), (now, keep, age, batch))


def leave(keys: QueueKeys, worker_id: str, types: Sequence[str]) -> Call:
    """Take a stopping worker's name off the queue; a job handed to it and never taken goes back in line."""
    return Call("leave", (keys.workers, keys.worker(worker_id), keys.stop(worker_id), keys.ready(worker_id),
                          keys.inbox(worker_id), keys.base, *(keys.idle(t) for t in types)), (worker_id,))


def progress(keys: QueueKeys, job_id: str, token: str, percent: int, data: str, channel: str) -> Call:
    """Store and announce a running job's progress (``token`` "" skips the lease check)."""
    return Call("progress", (keys.job(job_id),), (token, percent, data, channel, job_id))


def remove(keys: QueueKeys, channel: str, job_ids: Sequence[str]) -> Call:
    """Delete jobs in any state with their logs and histories."""
    return Call("remove", (keys.base,), (channel, *job_ids))


def retry(keys: QueueKeys, channel: str, job_ids: Sequence[str]) -> Call:
    """Put failed jobs back in line with fresh attempts; ``["*"]``: every failed job (10,000 a call at most)."""
    return Call("retry", (keys.failed, keys.base), (channel, *job_ids))


def promote(keys: QueueKeys, job_id: str, channel: str) -> Call:
    """Put a delayed job in line now (as claim.lua promotes it once due)."""
    return Call("promote", (keys.base,), (job_id, channel))


def priority(keys: QueueKeys, job_id: str, value: int) -> Call:
    """Store a job's new priority (a validated integer) and, if it waits in line, move it to its new band."""
    return Call("priority", (keys.base,), (job_id, value))


def move(keys: QueueKeys, job_id: str, state: str, now: int, error: str, channel: str) -> Call:
    """Move a job that is not active to ``state`` ("inactive", "complete" or "failed", with ``error``)."""
    return Call("move", (keys.base,), (job_id, state, now, error, channel))


def search(keys: QueueKeys, lines: Sequence[str], query: str, job_type: str, line: int, position: int, examine: int,
           want: int) -> Call:
    """Walk ``lines`` (in order) from ``position`` in ``lines[line]``, examining at most ``examine`` jobs, for at most
    ``want`` jobs matching ``query`` (of ``job_type``; "" = any)."""
    return Call("search", (keys.base, *lines), (query, job_type, line, position, examine, want))
