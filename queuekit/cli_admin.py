"""The operator's verbs of the ``queuekit`` command: look at a queue and its jobs, and steer them.

Each verb is one ``cmd_*`` function taking the parsed arguments; each prints text, or one JSON document with
``--json``, and uses only the Queue's public methods. :mod:`queuekit.cli` builds the parser and reports errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from .errors import QueuekitError

if TYPE_CHECKING:
    from .job import Job
    from .queue import Queue

__all__ = ["STATES", "CliError", "cmd_clean", "cmd_empty", "cmd_info", "cmd_job_show", "cmd_jobs", "cmd_obliterate",
           "cmd_pause", "cmd_remove", "cmd_resume", "cmd_retry", "queue_name"]

#: the states ``queuekit jobs --state`` lists (Kue's names)
STATES = ("inactive", "active", "delayed", "complete", "failed")


class CliError(QueuekitError):
    """Raised by a verb for a request it refuses (unknown job, nothing named, no terminal to confirm)."""


# ---- shared ---------------------------------------------------------------------------------------------------

def queue_name(args: argparse.Namespace) -> str:
    """The queue a one-queue verb works on: the last ``--queue`` given, else "default"."""
    names = getattr(args, "queue", None) or []
    return str(names[-1]) if names else "default"


def _queue(args: argparse.Namespace, name: str | None = None) -> Queue:
    from .queue import Queue

    return Queue(name or queue_name(args), url=args.url)


def _emit(args: argparse.Namespace, document: Any, text: str) -> None:
    """Print ``document`` as JSON with ``--json``, else ``text``."""
    print(json.dumps(document, indent=2, default=str) if args.json else text)


# ---- looking ----------------------------------------------------------------------------------------------------

def cmd_info(args: argparse.Namespace) -> int:
    """Counts per state, live workers and unserved types of every queue (or those named); with ``--interval``,
    again every N seconds until Ctrl-C."""
    interval = getattr(args, "interval", None)
    if interval is not None and interval <= 0:
        raise CliError("--interval: expected a number of seconds above 0")
    while True:
        reports = _reports(args)
        if interval is None:
            _show_reports(args, reports)
            return 0
        if not args.json and sys.stdout.isatty():
            print("\x1b[H\x1b[2J", end="")  # clear the terminal: a live view, not a scroll
        elif not args.json:
            print(f"-- {time.strftime('%H:%M:%S')}")
        _show_reports(args, reports, compact=True)
        sys.stdout.flush()
        time.sleep(interval)


def _reports(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from .connection import connect
    from .keys import QUEUES
    from .queue import Queue

    client = connect(args.url)
    names = getattr(args, "queue", None) or sorted(client.smembers(QUEUES))
    return {name: _report(Queue(name, client=client)) for name in names}


def _report(queue: Queue) -> dict[str, Any]:
    """What ``queuekit info`` says about one queue."""
    return {"paused": queue.paused, "counts": queue.counts(), "workers": queue.workers(),
            "unserved": queue.unserved()}


def _show_reports(args: argparse.Namespace, reports: dict[str, dict[str, Any]], compact: bool = False) -> None:
    if args.json:
        print(json.dumps(reports, indent=None if compact else 2))  # --interval: one JSON object per line
        return
    if not reports:
        print("no queues yet")
    for name, report in reports.items():
        _print_report(name, report)


def _print_report(name: str, report: dict[str, Any]) -> None:
    paused = " (paused)" if report["paused"] else ""
    print(f"{name}{paused}: " + "  ".join(f"{state} {n}" for state, n in report["counts"].items()))
    for w in report["workers"]:
        age = (time.time() * 1000 - w["last_seen"]) / 1000
        print(f"  worker {w['id']}  types {','.join(w['types'])}  concurrency {w['concurrency']}  "
              f"running {w['running']}  completed {w['completed']}  failed {w['failed']}  "
              f"seen {age:.1f}s ago")
    if not report["workers"]:
        print("  no live workers")
    if report["unserved"]:
        print("  no live worker serves: " + ", ".join(f"{t} ({n} waiting)" for t, n in report["unserved"].items()))


def cmd_jobs(args: argparse.Namespace) -> int:
    """A page of the jobs of a queue in one state."""
    name = args.queue_arg or queue_name(args)
    queue = _queue(args, name)
    jobs = queue.jobs(args.state, type=args.type, start=args.start, count=args.count)
    if args.json:
        print(json.dumps([_summary(job) for job in jobs], indent=2, default=str))
        return 0
    if not jobs:
        of_type = f" of type {args.type}" if args.type else ""
        print(f"no {args.state} jobs{of_type} in queue {name}" + (f" from #{args.start}" if args.start else ""))
    for job in jobs:
        error = f"  error: {job.error}" if job.error else ""
        print(f"#{job.id}  {job.type}  {job.state}  attempts {job.attempts_made}{error}")
    return 0


def _summary(job: Job) -> dict[str, Any]:
    return {"id": job.id, "type": job.type, "state": str(job.state), "attempts_made": job.attempts_made,
            "error": job.error, "created_at": job.created_at, "finished_at": job.finished_at}


def cmd_job_show(args: argparse.Namespace) -> int:
    """Everything about one job: data, options, state, progress, result, attempts with tracebacks, log lines."""
    queue = _queue(args)
    job = queue.load_job(args.id)
    doc = {**_summary(job), "queue": queue.name, "data": job.data, "options": dataclasses.asdict(job.opts),
           "progress": {"percent": job.percent, "data": job.progress_data}, "result": job.result,
           "failures": job.failures, "stalls": job.stalls, "started_at": job.started_at, "worker": job.worker,
           "attempts": queue.attempt_history(str(job.id)), "logs": queue.log_lines(str(job.id))}
    if args.json:
        print(json.dumps(doc, indent=2, default=str))
        return 0
    _print_job(doc)
    return 0


def _print_job(doc: dict[str, Any]) -> None:
    print(f"job #{doc['id']}  {doc['type']}  queue {doc['queue']}  {doc['state']}")
    for label in ("data", "options", "progress", "result", "error"):
        if doc[label] is not None:
            print(f"  {label}: {json.dumps(doc[label], default=str)}")
    print(f"  attempts made {doc['attempts_made']}  failures {doc['failures']}  stalls {doc['stalls']}  "
          f"worker {doc['worker'] or '-'}")
    for n, attempt in enumerate(doc["attempts"], 1):
        print(f"  attempt {n}: " + json.dumps({k: v for k, v in attempt.items() if k != "traceback"}, default=str))
        trace = str(attempt.get("traceback") or "").rstrip()
        if trace:
            print("    " + trace.replace("\n", "\n    "))
    print(f"  log ({len(doc['logs'])} lines)" + ("".join(f"\n    {line}" for line in doc["logs"])))


# ---- steering -----------------------------------------------------------------------------------------------------

def cmd_pause(args: argparse.Namespace) -> int:
    queue = _queue(args)
    queue.pause()
    _emit(args, {"queue": queue.name, "paused": True}, f"queue {queue.name} paused: no new job starts")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    queue = _queue(args)
    queue.resume()
    _emit(args, {"queue": queue.name, "paused": False}, f"queue {queue.name} resumed")
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    queue = _queue(args)
    removed = queue.clean(args.state, keep=args.keep, older_than=args.older_than)
    _emit(args, {"queue": queue.name, "state": args.state, "removed": removed},
          f"removed {removed} {args.state} job(s) from queue {queue.name}")
    return 0


def cmd_empty(args: argparse.Namespace) -> int:
    queue = _queue(args)
    removed = queue.empty()
    _emit(args, {"queue": queue.name, "removed": removed},
          f"removed {removed} waiting or delayed job(s) from queue {queue.name}")
    return 0


def cmd_obliterate(args: argparse.Namespace) -> int:
    """Delete every key of the queue, once confirmed (``--yes`` skips the question; without a terminal to ask
    on, ``--yes`` is required)."""
    name = queue_name(args)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError(f"obliterate deletes every job of queue {name}: confirm with --yes (no terminal to ask)")
        answer = input(f"Delete every job and key of queue {name!r}? Type its name to confirm: ")
        if answer.strip() != name:
            raise CliError("not confirmed; nothing deleted")
    deleted = _queue(args, name).obliterate()
    _emit(args, {"queue": name, "deleted_keys": deleted}, f"queue {name} obliterated: {deleted} key(s) deleted")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    queue = _queue(args)
    _known_or_refuse(queue, args.ids)
    removed = [i for i in args.ids if queue.remove(i)]
    _emit(args, {"queue": queue.name, "removed": removed},
          f"removed {len(removed)} job(s) from queue {queue.name}: {', '.join(removed)}")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    """Put failed jobs back in line: the ids named, or ``--all``. Unknown ids are refused before any is retried."""
    queue = _queue(args)
    if args.all == bool(args.ids):
        raise CliError("name the failed jobs to retry (IDs), or pass --all" if not args.all
                       else "give IDs or --all, not both (the queue goes in --queue NAME)")
    if args.all:
        ids = queue.retry_failed()
    else:
        jobs = _known_or_refuse(queue, args.ids)
        not_failed = [f"{j.id} is {j.state}" for j in jobs if str(j.state) != "failed"]
        if not_failed:
            raise CliError(f"only failed jobs can be retried: {', '.join(not_failed)}; nothing retried")
        ids = [i for i in args.ids if queue.retry(i)]
    _emit(args, {"queue": queue.name, "retried": ids},
          f"{len(ids)} job(s) back in line" + (f": {', '.join(ids)}" if ids else ""))
    return 0


def _known_or_refuse(queue: Queue, ids: list[str]) -> list[Job]:
    """The jobs named, or a CliError naming those that do not exist (then nothing is changed)."""
    jobs = {i: queue.get_job(i) for i in ids}
    unknown = [i for i, job in jobs.items() if job is None]
    if unknown:
        raise CliError(f"no job {', '.join(unknown)} in queue {queue.name}; nothing changed")
    return [job for job in jobs.values() if job is not None]
