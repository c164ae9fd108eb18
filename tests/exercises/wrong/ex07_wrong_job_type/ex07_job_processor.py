"""Task 7 — The job processor: process the jobs of task 6 in another process.

Write:

1. `send_notification(phone_number, message)`: print
   `Sending notification to PHONE_NUMBER, with message: MESSAGE`.
2. `handle_job(job)`: the handler the worker calls for every job; call `send_notification` with the
   `phoneNumber` and `message` of `job.data`.
3. `start_processing(queue)`: start processing the jobs of type `push_notification_code` with `handle_job`
   (`queue.process(type, handler)` starts a worker in the background and returns it) and return the worker.

The end of the file (given) starts processing and waits until Ctrl-C.

Run it with the creator of task 6, both on one server:

    REDIS_URL=redis://127.0.0.1:6380 python exercises/ex07_job_processor.py      # terminal 2
    Sending notification to 4153518780, with message: This is the code to verify your account

It first drains the jobs already waiting. Run the creator again in terminal 1
(`python exercises/ex06_job_creator.py` prints `Notification job created: 3`): terminal 2 prints the same
`Sending notification ...` line again. Stop the processor with Ctrl-C.
"""

from __future__ import annotations

from queuekit import Queue

JOB_TYPE = "push_notification_code_2"  # WRONG: this is task 9's job type


def send_notification(phone_number: str, message: str) -> None:
    """Print the notification line."""
    print(f"Sending notification to {phone_number}, with message: {message}")


def handle_job(job) -> None:
    """Call send_notification with the job's data."""
    send_notification(job.data["phoneNumber"], job.data["message"])


def start_processing(queue: Queue):
    """Start a worker for push_notification_code jobs; return it."""
    return queue.process(JOB_TYPE, handle_job)


if __name__ == "__main__":
    worker = start_processing(Queue())
    worker.wait()  # until Ctrl-C (or SIGTERM)
