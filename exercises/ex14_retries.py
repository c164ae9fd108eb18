"""Beyond the course (a) — Retries with backoff, and a delayed job.

A mail server that is busy twice before it accepts; a reminder that must wait. Write:

1. `flaky_email(job)`: the handler of "email" jobs. While `job.attempts_made` (1 on the first run, 2 on the
   second...) is below 3, raise `RuntimeError(f"SMTP server busy (attempt {job.attempts_made})")`; on the third
   attempt return `f"sent to {job.data['to']}"`.
2. `reminder(job)`: the handler of "reminder" jobs: return `f"reminded {job.data['to']}"`.
3. `send_with_retries(queue, to)`: save an "email" job with data `{"to": to}` that may run **3 times** (3
   attempts), waiting between attempts with an **exponential backoff** that starts at **100 ms** (100 ms before the
   second attempt, 200 ms before the third): options you set on the job before saving it (lesson 10 shows them).
   Listen to it before saving, so that no event is missed:
   - `failed attempt` (receives the error and the number of attempts made):
     `Email job #ID attempt N failed: ERROR`
   - `complete`: `Email job #ID completed: RESULT`
   - `failed` (for good, once the 3 attempts failed): `Email job #ID failed for good: ERROR`
   ID is the job's own id (on a queue that already holds jobs it is not 1). Return the saved job.
4. `schedule_reminder(queue, to, delay_ms)`: save a "reminder" job with data `{"to": to}` that may not run before
   `delay_ms` **milliseconds** have passed (until then it waits in the state `delayed`); on `complete` print
   `Reminder job #ID completed: RESULT`. Return the saved job.
5. `start_worker(queue)`: start, in the background, one `Worker` that serves both types ("email" with
   `flaky_email`, "reminder" with `reminder`), two jobs at a time; return it.

Run it without `REDIS_URL` (the script then uses its own embedded store: no server to start; with `REDIS_URL`
set to a server that already holds jobs, the ids go on from there):

    python exercises/ex14_retries.py

Expected output:

    Reminder job #2 is delayed
    Email job #1 attempt 1 failed: SMTP server busy (attempt 1)
    Email job #1 attempt 2 failed: SMTP server busy (attempt 2)
    Email job #1 completed: sent to ada@example.com
    Reminder job #2 completed: reminded ada@example.com

The first line always comes first (the worker starts after it); the reminder's last line may also come earlier,
anywhere after the first: it waits 500 ms, the email about 300 ms.
Check it: `queuekit learn check ex14_retries`.
"""

from __future__ import annotations

import time

from queuekit import Queue, Worker
from queuekit.errors import JobFailed, WaitTimeout


def flaky_email(job) -> str:
    """Handler of "email" jobs: the mail server is busy for the first two attempts."""
    # TODO: on the first two attempts fail with the statement's error (job.attempts_made says which attempt this
    #       is), so the queue retries; on the third, answer the result
    raise NotImplementedError("flaky_email")


def reminder(job) -> str:
    """Handler of "reminder" jobs."""
    # TODO: answer the statement's result for the address in the job's data
    raise NotImplementedError("reminder")


def send_with_retries(queue: Queue, to: str):
    """Save an "email" job with 3 attempts and exponential backoff from 100 ms, printing its attempts."""
    # TODO: create the job with its retry options (how many attempts, how long to wait between them), add the
    #       three listeners before saving (an event before a listener is lost), save it and return it
    raise NotImplementedError("send_with_retries")


def schedule_reminder(queue: Queue, to: str, delay_ms: int):
    """Save a "reminder" job that may not run before ``delay_ms`` milliseconds."""
    # TODO: create the job with a delay (in milliseconds, as given), add the complete listener, save, return it
    raise NotImplementedError("schedule_reminder")


def start_worker(queue: Queue) -> Worker:
    """A worker for both job types, two jobs at a time, started in the background."""
    # TODO: one worker for both job types, two jobs at a time, running in the background (so this returns)
    raise NotImplementedError("start_worker")


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
