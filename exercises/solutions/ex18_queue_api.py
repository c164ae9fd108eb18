"""Beyond the course (e) — An operator's toolbox over the dashboard's JSON API. (Reference solution.)"""

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


def _checked(response: httpx.Response):
    """The JSON of a successful answer; ApiError for any other status."""
    if response.status_code >= 400:
        body = response.json()
        if isinstance(body, list):
            body = next(item for item in body if "error" in item)
        raise ApiError(response.status_code, body["error"])
    return response.json()


def create_jobs(base: str, queue: str, jobs: list[dict]) -> list[int]:
    """Create ``jobs`` (each ``{"type", "data"}``, optionally ``"options"``) in ``queue`` with one request."""
    answers = _checked(httpx.post(f"{base}/api/queues/{queue}/job", json=jobs, timeout=10))
    return [answer["id"] for answer in answers]


def counts(base: str, queue: str) -> dict[str, int]:
    """The number of jobs of ``queue`` in each state."""
    stats = _checked(httpx.get(f"{base}/api/queues/{queue}/stats", timeout=10))
    return {state: stats[f"{state}Count"] for state in ("inactive", "active", "delayed", "complete", "failed")}


def job_state(base: str, queue: str, job_id: int) -> str | None:
    """The state of job ``job_id``, or None when the queue has no such job."""
    response = httpx.get(f"{base}/api/queues/{queue}/job/{job_id}", timeout=10)
    if response.status_code == 404:
        return None
    return _checked(response)["state"]


def failed_ids(base: str, queue: str, type: str | None = None, page: int = 100) -> list[int]:
    """The ids of every failed job of ``queue`` (only those of ``type`` when given), oldest first."""
    prefix = f"{base}/api/queues/{queue}/jobs/" + (f"{type}/" if type else "") + "failed"
    ids: list[int] = []
    start = 0
    while True:
        jobs = _checked(httpx.get(f"{prefix}/{start}..{start + page - 1}/asc", timeout=10))
        ids += [job["id"] for job in jobs]
        if len(jobs) < page:
            return ids
        start += page


def retry_failed(base: str, queue: str, type: str | None = None) -> int:
    """Put every failed job of ``queue`` (of ``type`` when given) back in line; return how many."""
    ids = failed_ids(base, queue, type)
    if not ids:
        return 0
    answer = _checked(httpx.post(f"{base}/api/queues/{queue}/jobs/retry", json={"ids": ids}, timeout=30))
    return answer["count"]


def wait_drained(base: str, queue: str, timeout: float = 30.0, interval: float = 0.2) -> dict[str, int]:
    """Poll ``counts`` every ``interval`` seconds until no job of ``queue`` waits or runs; return the counts.
    Raise TimeoutError when that takes longer than ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        now = counts(base, queue)
        if now["inactive"] + now["active"] + now["delayed"] == 0:
            return now
        if time.monotonic() >= deadline:
            raise TimeoutError(f"queue {queue} still has jobs to run after {timeout} s: {now}")
        time.sleep(interval)


if __name__ == "__main__":
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8790"
    name = sys.argv[2] if len(sys.argv) > 2 else "default"
    print(counts(base, name))
    print("failed:", failed_ids(base, name))
