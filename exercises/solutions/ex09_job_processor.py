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
3. `start_processing(queue)`: process the jobs of type `push_notification_code_2` with `handle_job`, **two jobs
   at a time** (`concurrency=2`); return the worker.

The end of the file (given) starts processing and waits until Ctrl-C.

Run it with the creator of task 8 on one fresh server (see ex08_job_creator.py). It prints, one line per job that
is not blacklisted (two jobs run at a time, so neighbouring lines may swap):

    Sending notification to 4153518743, with message: This is the code 4321 to verify your account
    Sending notification to 4153538781, with message: This is the code 4562 to verify your account
    ... (9 lines in all, up to 4151218782)
"""

from __future__ import annotations

from queuekit import Queue

JOB_TYPE = "push_notification_code_2"
BLACKLISTED = ["4153518780", "4153518781"]


def send_notification(phone_number: str, message: str, job, done) -> None:
    """Report progress, fail blacklisted numbers, else print and complete."""
    job.progress(0, 100)
    if phone_number in BLACKLISTED:
        done(Exception(f"Phone number {phone_number} is blacklisted"))
        return
    job.progress(50, 100)
    print(f"Sending notification to {phone_number}, with message: {message}")
    done()


def handle_job(job, done) -> None:
    """Call send_notification with the job's data, the job and done."""
    send_notification(job.data["phoneNumber"], job.data["message"], job, done)


def start_processing(queue: Queue):
    """Process push_notification_code_2 jobs two at a time; return the worker."""
    return queue.process(JOB_TYPE, handle_job, concurrency=2)


if __name__ == "__main__":
    worker = start_processing(Queue())
    worker.wait()  # until Ctrl-C (or SIGTERM)
