"""The error hierarchy: every error queuekit raises on purpose is a QueuekitError."""

from __future__ import annotations

__all__ = [
    "QueuekitError",
    "ConnectionFailed",
    "ValidationError",
    "JobNotFound",
    "LeaseLost",
    "JobFailed",
    "WaitTimeout",
    "HandlerNotFound",
    "Retry",
]


class QueuekitError(Exception):
    """Raised when queuekit refuses or cannot do what was asked; the base of every queuekit error."""


class ConnectionFailed(QueuekitError, ConnectionError):
    """Raised when the Redis server cannot be reached within the connect timeout."""


class ValidationError(QueuekitError, ValueError):
    """Raised when a job's type, data or options are invalid; nothing has been written to Redis.

    ``field`` names the offending field (for example ``"data['when']"`` or ``"delay"``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class JobNotFound(QueuekitError, LookupError):
    """Raised when an operation needs a job that does not exist (or was removed)."""


class LeaseLost(QueuekitError):
    """Raised when a worker tries to change a job whose lease it no longer holds."""


class JobFailed(QueuekitError):
    """Raised when waiting for the result of a job that failed for good."""

    def __init__(self, job_id: str, error: str) -> None:
        super().__init__(f"job {job_id} failed: {error}")
        self.job_id = job_id
        self.error = error


class WaitTimeout(QueuekitError, TimeoutError):
    """Raised when a job is still not finished once the wait's timeout has passed."""


class HandlerNotFound(QueuekitError, LookupError):
    """Raised when a job names a handler, worker or script that was never registered."""


class Retry(QueuekitError):
    """Raised by a handler to ask for another attempt after ``delay`` seconds (counts as a failed attempt)."""

    def __init__(self, message: str = "retry requested", delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay
