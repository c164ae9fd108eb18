"""Kue's test mode: capture saved jobs instead of storing them (used by Queue.save)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .job import Job

__all__ = ["TestMode", "test_mode_for"]


class TestMode:
    """Kue's ``queue.testMode``: while entered, saved jobs are captured in ``jobs`` instead of being stored.

    ``enter(process=True)`` stores (and so processes) them as usual while still capturing them. Captured jobs get
    ids "1", "2", ... counted from 1 again after ``clear()``.
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, name: str) -> None:
        self.queue_name = name
        self.active = False
        self.process = False
        self.jobs: list[Job] = []
        self._next = 1
        self._lock = threading.Lock()

    def enter(self, process: bool = False) -> None:
        """Start capturing jobs; with ``process=False`` (the default) they are neither stored nor processed."""
        self.active, self.process = True, process

    def exit(self) -> None:
        """Stop capturing: saves go to Redis again."""
        self.active = self.process = False

    def clear(self) -> None:
        """Forget the captured jobs and count ids from 1 again."""
        with self._lock:
            self.jobs = []
            self._next = 1

    def capture(self, job: Job) -> None:
        """Record a saved job (called by ``Queue.save``)."""
        with self._lock:
            if not self.process:
                job.id = str(self._next)
                self._next += 1
            self.jobs.append(job)


__test__ = False  # nothing in this module is a pytest test (test_mode_for is a helper)

_modes: dict[str, TestMode] = {}
_modes_lock = threading.Lock()


def test_mode_for(name: str) -> TestMode:
    """The process-wide test mode of the queue called ``name`` (every Queue object of that name shares it)."""
    with _modes_lock:
        if name not in _modes:
            _modes[name] = TestMode(name)
        return _modes[name]
