"""Reference solution of ex06_job_creator: exercises/ex06_job_creator.py states the task and the exact output expected."""

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
