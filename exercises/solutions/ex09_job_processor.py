"""Reference solution of ex09_job_processor: exercises/ex09_job_processor.py states the task and the exact output expected."""

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
