"""Reference solution of ex07_job_processor: exercises/ex07_job_processor.py states the task and the exact output expected."""

from __future__ import annotations

from queuekit import Queue

JOB_TYPE = "push_notification_code"


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
