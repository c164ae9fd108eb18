"""Task 9 — Track progress and errors: the processor, two jobs at a time.

Write:

1. `send_notification(phone_number, message, job, done)`:
   - report the progress of `job`: 0 out of 100 (`job.progress(0, 100)`);
   - if `phone_number` is in `BLACKLISTED`, fail the job: call `done(Exception("Phone number PHONE_NUMBER is
     blacklisted"))` and stop there;
   - otherwise report 50 out of 100, print `Sending notification to PHONE_NUMBER, with message: MESSAGE`, and
     call `done()` so that the job completes.
2. `handle_job(job, done)`: the handler (Kue style: a handler taking `(job, done)` receives `done`); call
   `send_notification` with the job's `phoneNumber` and `message`, the job and `done`.
3. `start_processing(queue)`: process the jobs of type `push_notification_code_2` of the queue given with
   `handle_job`, **two jobs at a time**: one worker with `concurrency=2` (not two workers); return the worker.

The end of the file (given) starts processing and waits with `worker.wait()` until Ctrl-C (which stops the worker
cleanly): keep it.

Run it with the creator of task 8 on one server: start the server first, in a terminal of its own, with
`queuekit server --port 6390`, then see ex08_job_creator.py for the two commands (each with
`REDIS_URL=redis://127.0.0.1:6390`). The processor prints one line per job that is not blacklisted:

    Sending notification to 4153518743, with message: This is the code 4321 to verify your account
    Sending notification to 4153538781, with message: This is the code 4562 to verify your account
    ... (9 lines in all, up to 4151218782)

Two jobs at a time means two handlers running at the same moment, each on its own thread: neighbouring lines may
swap, and in the creator's terminal the lines of the two jobs under way interleave (`#4 0%` between `#3 0%` and
`#3 50%` on a fresh server; the ids depend on what the server already holds: the original course's run shows #39
to #49). That is not a third job running: the worker takes a new job only once one of its two has ended and
Redis has recorded it, so the creator never sees more than two jobs between their `0% complete` and their
`completed` / `failed` line.
"""

from __future__ import annotations

from queuekit import Queue

JOB_TYPE = "push_notification_code_2"
BLACKLISTED = ["4153518780", "4153518781"]


def send_notification(phone_number: str, message: str, job, done) -> None:
    """Report progress, fail blacklisted numbers, else print and complete."""
    # TODO: in the order of the statement: report 0 of 100 first; a blacklisted number fails the job through done
    # (with an Exception carrying the exact message) and nothing more happens; any other number reports 50 of 100,
    # prints the line, and only then tells the worker the job is done
    raise NotImplementedError("send_notification")


def handle_job(job, done) -> None:
    """Call send_notification with the job's data, the job and done."""
    # TODO: pass on the phone number and the message of the job's data, then the job and done themselves
    raise NotImplementedError("handle_job")


def start_processing(queue: Queue):
    """Process push_notification_code_2 jobs two at a time; return the worker."""
    # TODO: one worker, for this task's job type on the queue given, running two handlers at a time; return it
    raise NotImplementedError("start_processing")


if __name__ == "__main__":
    worker = start_processing(Queue())
    worker.wait()  # until Ctrl-C (or SIGTERM)
