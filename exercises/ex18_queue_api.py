"""Beyond the course (e) — An operator's toolbox over the dashboard's JSON API.

The dashboard (`queuekit dashboard`, lesson 15) serves Kue's JSON API for every queue under
`BASE/api/queues/<queue>/...` (docs/dashboard.md lists the routes). Anything that speaks HTTP can use it: a cron
job, another service, a script on a laptop. Here you write an operator's tools as plain HTTP calls, with httpx
(installed with queuekit's `web` extra) or `urllib.request` from the standard library. `base` is where the
dashboard answers, such as `"http://127.0.0.1:8790"`, and `queue` a queue's name.

When the API refuses a request it answers an error status (400, 401, 404, 409...) with `{"error": "<what>"}` (for a
list of jobs: a list with `{"error": ...}` in place of each refused one). Your functions then raise
`ApiError(status, message)` (given) with that status and the server's message, except where said otherwise.

Write:

1. `create_jobs(base, queue, jobs)`: create the jobs (each `{"type", "data"}`, with `"options"` when given) with
   **one** `POST .../job` whose body is the whole list; return the new ids, in order.
2. `counts(base, queue)`: `GET .../stats`, returned as `{"inactive": n, "active": n, "delayed": n,
   "complete": n, "failed": n}`.
3. `job_state(base, queue, job_id)`: the job's `"state"` from `GET .../job/<id>`; None when the answer is 404 (no
   such job). Any other error status raises ApiError, and a dashboard that does not answer at all raises too
   (let the connection error out): "unknown" and "I could not ask" are different answers.
4. `failed_ids(base, queue, type=None, page=100)`: the ids of every failed job, oldest first, read `page` jobs a
   request: `GET .../jobs/failed/<from>..<to>/asc` (`from..to` counts from 0 and includes both ends), or
   `.../jobs/<type>/failed/<from>..<to>/asc` for one type, until a page comes back with fewer than `page` jobs.
5. `retry_failed(base, queue, type=None)`: put every failed job (of `type` when given) back in line with one
   `POST .../jobs/retry` whose body is `{"ids": [...]}` (none when there is no failed job), and return the
   `"count"` of its answer. A retried job leaves the failed list: read all the ids first, then retry them.
6. `wait_drained(base, queue, timeout=30.0, interval=0.2)`: read the counts every `interval` seconds until no
   job is waiting, delayed or running (`inactive + active + delayed == 0`), and return those counts; raise
   `TimeoutError` once `timeout` seconds have passed without that.

Try it (first start a server in another terminal: `queuekit server --port 6390`; then, in a second one, the
dashboard on it: `REDIS_URL=redis://127.0.0.1:6390 queuekit dashboard`):

    python exercises/ex18_queue_api.py http://127.0.0.1:8790 emails
    {'inactive': 0, 'active': 0, 'delayed': 0, 'complete': 0, 'failed': 0}
    failed: []

and in a Python shell: `from ex18_queue_api import *; create_jobs("http://127.0.0.1:8790", "emails",
[{"type": "welcome", "data": {"to": "ada"}}])` (run from the exercises/ folder).
"""

from __future__ import annotations

import sys
import time

import httpx


class ApiError(Exception):
    """The API answered with an error status: ``status`` (400, 404, 409...) and the server's ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def create_jobs(base: str, queue: str, jobs: list[dict]) -> list[int]:
    """Create ``jobs`` (each ``{"type", "data"}``, optionally ``"options"``) in ``queue`` with one request."""
    # TODO: one POST of the whole list; an error status raises ApiError with the first refused job's message
    raise NotImplementedError("create_jobs")


def counts(base: str, queue: str) -> dict[str, int]:
    """The number of jobs of ``queue`` in each state."""
    # TODO: GET .../stats and rename its inactiveCount, activeCount... fields
    raise NotImplementedError("counts")


def job_state(base: str, queue: str, job_id: int) -> str | None:
    """The state of job ``job_id``, or None when the queue has no such job."""
    # TODO: None for 404 only; any other error status raises ApiError
    raise NotImplementedError("job_state")


def failed_ids(base: str, queue: str, type: str | None = None, page: int = 100) -> list[int]:
    """The ids of every failed job of ``queue`` (only those of ``type`` when given), oldest first."""
    # TODO: read page after page (the ranges include both ends) until a short page
    raise NotImplementedError("failed_ids")


def retry_failed(base: str, queue: str, type: str | None = None) -> int:
    """Put every failed job of ``queue`` (of ``type`` when given) back in line; return how many."""
    # TODO: collect all the ids first (failed_ids), then retry them with one request
    raise NotImplementedError("retry_failed")


def wait_drained(base: str, queue: str, timeout: float = 30.0, interval: float = 0.2) -> dict[str, int]:
    """Poll ``counts`` every ``interval`` seconds until no job of ``queue`` waits or runs; return the counts.
    Raise TimeoutError when that takes longer than ``timeout`` seconds."""
    # TODO: poll, sleeping interval between two polls; give up with TimeoutError after timeout
    raise NotImplementedError("wait_drained")


if __name__ == "__main__":
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8790"
    name = sys.argv[2] if len(sys.argv) > 2 else "default"
    print(counts(base, name))
    print("failed:", failed_ids(base, name))
