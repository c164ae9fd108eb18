"""Task 6 — The job creator: put a first job in a queue.

queuekit works like Kue: ONE queue (`Queue()`, named "default") holds jobs of many *types*; what the original
course calls "the queue push_notification_code" is the job type `push_notification_code`.

Write `create_notification_job(queue, data)`:

- create a job of type `push_notification_code` with `data` (`queue.create(type, data)`);
- listen to its events: on `complete` print `Notification job completed`; on `failed` print
  `Notification job failed` (`job.on("complete", listener)`; a complete listener receives the result, a failed
  listener the error message);
- save it (`job.save()`), then print `Notification job created: JOB_ID` (`job.id`, "1", "2", ...);
- return the job.

The end of the file (given) creates the queue and one job with `JOB_DATA`.

Run it (job ids come from a counter stored in Redis, so use a shared server to see them grow):

    REDIS_URL=redis://127.0.0.1:6380 python exercises/ex06_job_creator.py
    Notification job created: 1
    REDIS_URL=redis://127.0.0.1:6380 python exercises/ex06_job_creator.py
    Notification job created: 2

Nothing else happens: nobody processes the jobs yet. That is the next task, ex07_job_processor.py.
"""

from __future__ import annotations

from queuekit import Queue

JOB_TYPE = "push_notification_code"
JOB_DATA = {"phoneNumber": "4153518780", "message": "This is the code to verify your account"}


def create_notification_job(queue: Queue, data: dict):
    """Create, listen to and save one push_notification_code job; print its id; return it."""
    job = queue.create(JOB_TYPE, data)
    job.on("complete", lambda result: print("Notification job completed"))
    job.on("failed", lambda error: print("Notification job failed"))
    job.save()
    print(f"Notification job created: {job.id}")
    return job


if __name__ == "__main__":
    queue = Queue()
    create_notification_job(queue, JOB_DATA)
