"""Task 6 — The job creator: put a first job in a queue.

queuekit works like Kue: ONE queue (`Queue()`, named "default") holds jobs of many *types*; what the original
course calls "the queue push_notification_code" is the job type `push_notification_code`.

Write `create_notification_job(queue, data)`:

- create a job of type `push_notification_code` with `data` (`queue.create(type, data)`);
- listen to its events: on `complete` print `Notification job completed`; on `failed` print
  `Notification job failed` (`job.on("complete", listener)`; a complete listener receives the result, a failed
  listener the error message);
- save it (`job.save()`), then print `Notification job created: JOB_ID` (`job.id`: the queue numbers its jobs, so
  on a server that already holds jobs the id is not 1; never count ids yourself);
- if the save fails (for instance the server is down), let the error reach the caller: do not catch it, and print
  nothing (the job was not created);
- return the job.

Listen on the job (`job.on(...)`), not on the queue (`queue.on(...)` would print for every job of the queue).
The end of the file (given) creates the queue and one job with `JOB_DATA`, then ends.

Run it. Job ids come from a counter stored in Redis, so use one shared server to see them grow: first, in another
terminal, start `queuekit server --port 6390` (queuekit's own server; a real Redis on that port works as well), then:

    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex06_job_creator.py
    Notification job created: 1
    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex06_job_creator.py
    Notification job created: 2

(the numbers go on from the jobs the server already holds: the original course shows 39, 40 ...).

Nothing else happens: nobody processes the jobs yet. That is the next task, ex07_job_processor.py.
"""

from __future__ import annotations

from queuekit import Queue

JOB_TYPE = "push_notification_code"
JOB_DATA = {"phoneNumber": "4153518780", "message": "This is the code to verify your account"}


def create_notification_job(queue: Queue, data: dict):
    """Create, listen to and save one push_notification_code job; print its id; return it."""
    # TODO: create the job in the queue given, with the data given; put its two listeners on the job itself,
    # before saving it, so they are there when a worker finishes it; save it, and only then print the created line
    # with the id the queue gave it. Do not catch a failing save: the caller must learn the job was not created.
    raise NotImplementedError("create_notification_job")


if __name__ == "__main__":
    queue = Queue()
    create_notification_job(queue, JOB_DATA)
