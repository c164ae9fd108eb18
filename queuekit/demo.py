"""The ``queuekit demo`` tour: a queue, two job types, a worker at concurrency 4, progress, a retry, a failure.

It uses only the public API (Queue, Worker, events), as a newcomer would, and prints what happens as it happens.
"""

from __future__ import annotations

import asyncio
import queue as stdqueue
import time
from collections.abc import Callable
from typing import Any

from .job import Job
from .queue import Queue
from .worker import Worker

__all__ = ["run"]

#: (job type, data, options) of the jobs the demo adds: two sent at once, one flaky, one doomed
_SPECS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("email", {"to": "ada@example.org"}, {}), ("email", {"to": "alan@example.org"}, {}),
    ("resize", {"image": "cat.png", "width": 800}, {}), ("resize", {"image": "dog.png", "width": 640}, {}),
    ("email", {"to": "grace@example.org", "flaky": True}, {"attempts": 3, "backoff": 100}),
    ("email", {"to": "nobody@invalid"}, {"attempts": 2, "backoff": 100}),
]


def run(url: str | None = None) -> int:
    """Run the tour on the queue ``demo`` at ``url`` (default: ``REDIS_URL``, else the embedded server), which it
    empties first; prints as it goes and returns the exit status (0)."""
    queue = Queue("demo", url=url)
    queue.obliterate()
    events: stdqueue.SimpleQueue[str] = stdqueue.SimpleQueue()
    titles: dict[str, str] = {}
    _listen(queue, events, titles)
    print("queuekit demo: a queue on the embedded server (no Redis needed)\n")
    jobs = _add_jobs(queue, titles)
    print(f"\ncounts before: {queue.counts()}\n\nworker (concurrency 4) running email (thread) and resize (asyncio):")
    worker = Worker(queue, _handlers(), concurrency=4).start()
    for job in jobs:
        try:
            job.wait(timeout=30)
        except Exception:  # noqa: BLE001, S110 - the doomed job fails on purpose: reported through its events
            pass
        _print_waiting(events, timeout=0.05)
    worker.stop(timeout=10)
    time.sleep(0.1)
    _print_waiting(events, timeout=None)
    doomed = queue.get_job(jobs[-1].id or "")
    assert doomed is not None
    print("\nthe failed job's attempts: " + "; ".join(f"#{a['attempt']} {a['error']}" for a in doomed.failed_attempts))
    print(f"final counts: {queue.counts()}")
    return 0


def _listen(queue: Queue, events: stdqueue.SimpleQueue[str], titles: dict[str, str]) -> None:
    """Put a line in ``events`` for each job event of ``queue``, naming the job by its title in ``titles``."""
    def note(template: str) -> Callable[..., None]:
        return lambda job_id, *rest: events.put(template.format(job=titles.get(job_id, job_id), rest=rest))

    queue.on("job progress", note("  {job}: {rest[0]}%"))
    queue.on("job complete", note("  {job}: complete -> {rest[0]}"))
    queue.on("job failed attempt", note("  {job}: attempt {rest[1]} failed ({rest[0]}), will retry"))
    queue.on("job failed", note("  {job}: failed for good: {rest[0]}"))


def _add_jobs(queue: Queue, titles: dict[str, str]) -> list[Job]:
    """Add the demo's jobs, printing each and recording its title by id."""
    jobs = []
    for job_type, data, opts in _SPECS:
        job = queue.add(job_type, data, **opts)
        titles[job.id or ""] = f"#{job.id} {job_type} {data.get('to') or data.get('image')}"
        jobs.append(job)
        print(f"created {titles[job.id or '']}" + (f" (attempts={opts['attempts']})" if opts else ""))
    return jobs


def _handlers() -> dict[str, Callable[..., Any]]:
    """The two handlers: ``email`` (a thread; its first flaky run fails, a bad address always fails) and ``resize``
    (asyncio)."""
    flaky_runs: list[int] = []

    def send_email(job: Any) -> str:
        for step in range(1, 5):
            time.sleep(0.05)
            job.progress(step, 4)
        if job.data.get("flaky") and not flaky_runs:
            flaky_runs.append(1)
            raise ConnectionError("mail server busy")
        if job.data.get("to") == "nobody@invalid":
            raise ValueError("no such mailbox: nobody@invalid")
        return f"sent to {job.data['to']}"

    async def resize(job: Any) -> dict[str, int]:
        for step in (1, 2):
            await asyncio.sleep(0.05)
            job.progress(step, 2)
        return {"width": job.data["width"] // 2}

    return {"email": send_email, "resize": resize}


def _print_waiting(events: stdqueue.SimpleQueue[str], timeout: float | None) -> None:
    """Print the lines in ``events`` until none comes within ``timeout`` seconds (None: until it is empty)."""
    while True:
        try:
            line = events.get_nowait() if timeout is None else events.get(timeout=timeout)
        except stdqueue.Empty:
            break
        print(line, flush=timeout is not None)
