"""Beyond the course (a) — Retries with backoff, and a delayed job.

A mail server that is busy twice before it accepts; a reminder that must wait. Write:

1. `flaky_email(job)`: the handler of "email" jobs. While `job.attempts_made` (1 on the first run, 2 on the
   second...) is below 3, raise `RuntimeError(f"SMTP server busy (attempt {job.attempts_made})")`; on the third
   attempt return `f"sent to {job.data['to']}"`.
2. `reminder(job)`: the handler of "reminder" jobs: return `f"reminded {job.data['to']}"`.
3. `send_with_retries(queue, to)`: save an "email" job with data `{"to": to}`, **3 attempts** and an
   **exponential backoff** starting at 100 ms (`.attempts(3).backoff({"type": "exponential", "delay": 100})`).
   Listen to it before saving:
   - `failed attempt` (receives the error and the number of attempts made):
     `Email job #ID attempt N failed: ERROR`
   - `complete`: `Email job #ID completed: RESULT`
   - `failed` (for good): `Email job #ID failed for good: ERROR`
   Return the saved job.
4. `schedule_reminder(queue, to, delay_ms)`: save a "reminder" job with data `{"to": to}` delayed by `delay_ms`
   milliseconds (`.delay(delay_ms)`; it waits in the state `delayed`); on `complete` print
   `Reminder job #ID completed: RESULT`. Return the saved job.
5. `start_worker(queue)`: start (in the background) a `Worker` for both types, `{"email": flaky_email,
   "reminder": reminder}`, two jobs at a time; return it.

Run it (the embedded server is enough):

    python exercises/ex14_retries.py

Expected output:

    Reminder job #2 is delayed
    Email job #1 attempt 1 failed: SMTP server busy (attempt 1)
    Email job #1 attempt 2 failed: SMTP server busy (attempt 2)
    Email job #1 completed: sent to ada@example.com
    Reminder job #2 completed: reminded ada@example.com

(the reminder may also complete before the email: it waits 500 ms, the email about 300 ms.)
"""

from __future__ import annotations

import time

from queuekit import Queue, Worker
from queuekit.errors import JobFailed, WaitTimeout


def flaky_email(job) -> str:
    """Handler of "email" jobs: the mail server is busy for the first two attempts."""
    # TODO: raise while job.attempts_made < 3, then return the result
    raise NotImplementedError("flaky_email")


def reminder(job) -> str:
    """Handler of "reminder" jobs."""
    # TODO
    raise NotImplementedError("reminder")


def send_with_retries(queue: Queue, to: str):
    """Save an "email" job with 3 attempts and exponential backoff from 100 ms, printing its attempts."""
    # TODO: create with attempts and backoff, three listeners, save, return
    raise NotImplementedError("send_with_retries")


def schedule_reminder(queue: Queue, to: str, delay_ms: int):
    """Save a "reminder" job that may not run before ``delay_ms`` milliseconds."""
    # TODO: create with a delay, a complete listener, save, return
    raise NotImplementedError("schedule_reminder")


def start_worker(queue: Queue) -> Worker:
    """A worker for both job types, two jobs at a time, started in the background."""
    # TODO: Worker(queue, {...}, concurrency=2).start()
    raise NotImplementedError("start_worker")


if __name__ == "__main__":
    queue = Queue()
    worker = start_worker(queue)
    email = send_with_retries(queue, "ada@example.com")
    later = schedule_reminder(queue, "ada@example.com", 500)
    print(f"Reminder job #{later.id} is {queue.get_job(later.id).state}")
    for job in (email, later):
        try:
            job.wait(15)
        except (JobFailed, WaitTimeout):
            pass
    time.sleep(0.5)  # let the last listeners print
    worker.stop(timeout=5)
