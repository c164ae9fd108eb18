"""Task 7 — The job processor: process the jobs of task 6 in another process.

Write:

1. `send_notification(phone_number, message)`: print
   `Sending notification to PHONE_NUMBER, with message: MESSAGE`.
2. `handle_job(job)`: the handler the worker calls for every job; call `send_notification` with the
   `phoneNumber` and `message` of `job.data`.
3. `start_processing(queue)`: start processing the jobs of type `push_notification_code` of the queue given, with
   `handle_job` (`queue.process(type, handler)` starts a worker in the background and returns it), and return the
   worker. A job is processed as soon as it is queued: no waiting of your own.

The end of the file (given) starts processing and waits with `worker.wait()` until Ctrl-C, which stops the worker
cleanly (it leaves the queue) and ends the script without a traceback: keep it.

Run it with the creator of task 6, both on one server, in three terminals. In terminal 1 start the server and
leave it running (if the one of task 6 still runs, keep it: its waiting jobs are processed too):

    queuekit server --port 6390                                                    # terminal 1

Then start the processor:

    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex07_job_processor.py      # terminal 2

It first drains the jobs already waiting, printing one `Sending notification ...` line per job (none on a fresh
server). Then run the creator:

    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex06_job_creator.py        # terminal 3
    Notification job created: 3

(3 if task 6 ran twice on that server before; 1 on a fresh server: the id is the queue's next number.) At once
terminal 2 prints:

    Sending notification to 4153518780, with message: This is the code to verify your account

Stop the processor with Ctrl-C in terminal 2.
"""

from __future__ import annotations

from queuekit import Queue

JOB_TYPE = "push_notification_code"


def send_notification(phone_number: str, message: str) -> None:
    """Print the notification line."""
    # TODO: print the line of the statement, with the phone number and the message passed in
    raise NotImplementedError("send_notification")


def handle_job(job) -> None:
    """Call send_notification with the job's data."""
    # TODO: the worker gives you the job; its data holds the phone number and the message: pass them on
    raise NotImplementedError("handle_job")


def start_processing(queue: Queue):
    """Start a worker for push_notification_code jobs; return it."""
    # TODO: have the queue given process this task's job type with handle_job, and return the worker it starts
    # (the end of the file waits on it)
    raise NotImplementedError("start_processing")


if __name__ == "__main__":
    worker = start_processing(Queue())
    worker.wait()  # until Ctrl-C (or SIGTERM)
