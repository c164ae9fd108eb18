"""Beyond the course (a) — Retries with backoff, and a delayed job. (Reference solution.)"""

from __future__ import annotations

import time

from queuekit import Queue, Worker
from queuekit.errors import JobFailed, WaitTimeout


def flaky_email(job) -> str:
    """Handler of "email" jobs: the mail server is busy for the first two attempts."""
    if job.attempts_made < 3:
        raise RuntimeError(f"SMTP server busy (attempt {job.attempts_made})")
    return f"sent to {job.data['to']}"


def reminder(job) -> str:
    """Handler of "reminder" jobs."""
    return f"reminded {job.data['to']}"


def send_with_retries(queue: Queue, to: str):
    """Save an "email" job with 3 attempts and exponential backoff from 100 ms, printing its attempts."""
    job = queue.create("email", {"to": to}).attempts(3).backoff({"type": "exponential", "delay": 100})
    job.on("failed attempt", lambda error, attempts, job=job:
           print(f"Email job #{job.id} attempt {attempts} failed: {error}"))
    job.on("complete", lambda result, job=job: print(f"Email job #{job.id} completed: {result}"))
    job.on("failed", lambda error, job=job: print(f"Email job #{job.id} failed for good: {error}"))
    return job.save()


def schedule_reminder(queue: Queue, to: str, delay_ms: int):
    """Save a "reminder" job that may not run before ``delay_ms`` milliseconds."""
    job = queue.create("reminder", {"to": to}).delay(delay_ms)
    job.on("complete", lambda result, job=job: print(f"Reminder job #{job.id} completed: {result}"))
    return job.save()


def start_worker(queue: Queue) -> Worker:
    """A worker for both job types, two jobs at a time, started in the background."""
    return Worker(queue, {"email": flaky_email, "reminder": reminder}, concurrency=2).start()


if __name__ == "__main__":
    queue = Queue()
    email = send_with_retries(queue, "ada@example.com")
    later = schedule_reminder(queue, "ada@example.com", 500)
    print(f"Reminder job #{later.id} is {queue.get_job(later.id).state}")
    worker = start_worker(queue)  # started last, so that the line above always comes first
    for job in (email, later):
        try:
            job.wait(15)
        except (JobFailed, WaitTimeout):
            pass
    time.sleep(0.5)  # let the last listeners print
    worker.stop(timeout=5)
