"""Reference solution of ex08_job_creator: exercises/ex08_job_creator.py states the task and the exact output expected."""

from __future__ import annotations

from queuekit import Queue
from queuekit.errors import JobFailed, WaitTimeout

JOB_TYPE = "push_notification_code_2"

JOBS = [
    {"phoneNumber": "4153518780", "message": "This is the code 1234 to verify your account"},
    {"phoneNumber": "4153518781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153518743", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4153538781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153118782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4153718781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4159518782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4158718781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153818782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4154318781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4151218782", "message": "This is the code 4321 to verify your account"},
]


def create_jobs(queue: Queue, jobs: list[dict]) -> list:
    """Create one push_notification_code_2 job per dict, with the three listeners; return the saved jobs."""
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


def wait_for_jobs(jobs: list, timeout: float = 60.0) -> None:
    """Wait until every job finished (completed or failed), then a moment more for the last listeners. (Given.)"""
    import time

    for job in jobs:
        try:
            job.wait(timeout)
        except (JobFailed, WaitTimeout):
            pass
    time.sleep(0.5)


if __name__ == "__main__":
    queue = Queue()
    created = create_jobs(queue, JOBS)
    wait_for_jobs(created)
