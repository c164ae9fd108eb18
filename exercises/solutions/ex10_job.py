"""Reference solution of ex10_job: exercises/ex10_job.py states the task and the exact output expected."""

from __future__ import annotations

from queuekit import Queue

JOB_TYPE = "push_notification_code_3"


def create_push_notifications_jobs(jobs: list, queue: Queue) -> list:
    """Validate ``jobs``, then create, listen to and save one push_notification_code_3 job per dict."""
    if not isinstance(jobs, list):
        raise TypeError("Jobs is not an array")
    created = []
    for data in jobs:
        job = queue.create(JOB_TYPE, data)
        job.on("complete", lambda result, job=job: print(f"Notification job #{job.id} completed"))
        job.on("failed", lambda error, job=job: print(f"Notification job #{job.id} failed: {error}"))
        job.on("progress", lambda percent, data, job=job: print(f"Notification job #{job.id} {percent}% complete"))
        job.save()
        print(f"Notification job created: {job.id}")
        created.append(job)
    return created


if __name__ == "__main__":
    queue = Queue()
    job_list = [
        {"phoneNumber": "4153518780", "message": "This is the code 1234 to verify your account"},
    ]
    create_push_notifications_jobs(job_list, queue)
