"""Helpers of the job exercises' graders (tasks 6 to 11): queues that already hold jobs, a save that fails, the
jobs a queue holds described for a message, and the order of a creator's event lines."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from queuekit import Job, Queue
from queuekit.errors import ConnectionFailed

#: the job type the graders' own filler jobs use (never one of the exercise's types)
FILLER_TYPE = "grader_filler"


def seed(queue: Queue, count: int) -> None:
    """Store ``count`` filler jobs in ``queue``, so that the next id is ``count + 1`` (as on a server used before:
    the original's samples show ids 39 to 49, then 51)."""
    for _ in range(count):
        queue.add(FILLER_TYPE, {"filler": True})


def describe_jobs(queue: Queue, skip_filler: bool = True) -> str:
    """The jobs ``queue`` holds, one per line, for a message."""
    found = []
    for state in ("inactive", "active", "delayed", "complete", "failed"):
        found += [f"job {j.id} type={j.type!r} data={j.data!r} ({state})" for j in queue.jobs(state, count=500)
                  if not (skip_filler and j.type == FILLER_TYPE)]
    return "\n    ".join(found) or "(no job at all)"


class SaveFailed(ConnectionFailed):
    """What the grader's failing save raises (the server went down)."""


@contextmanager
def failing_save(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Every ``job.save()`` raises ConnectionFailed, as when the server is down."""

    def save(self: Job, *args: object, **kwargs: object) -> Job:
        raise SaveFailed("cannot reach Redis (the grader stopped the server for this check)")

    with monkeypatch.context() as patch:
        patch.setattr(Job, "save", save)
        yield


def max_open(lines: Sequence[str]) -> tuple[int, int]:
    """How many jobs were open at once (a 0% line seen, no completed/failed line yet) in a creator's lines, and the
    index of the line where that most was first reached."""
    opened: set[str] = set()
    most, where = 0, -1
    for i, line in enumerate(lines):
        parts = line.split()
        if len(parts) < 4 or not line.startswith("Notification job #"):
            continue
        job_id = parts[2].lstrip("#")
        if line.endswith(" 0% complete"):
            opened.add(job_id)
        elif line.endswith(" completed") or " failed: " in line:
            opened.discard(job_id)
        if len(opened) > most:
            most, where = len(opened), i
    return most, where
