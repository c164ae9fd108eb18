"""queuekit: learn job queues on Redis, then keep using the queue.

A durable job queue (at-least-once delivery, leases, Lua scripts for every state change) that runs on a real
Redis (``REDIS_URL``) or, with nothing installed, on an embedded in-process server.
"""

from __future__ import annotations

import logging

from . import errors
from .connection import connect, connect_async
from .errors import QueuekitError
from .job import Job, JobState
from .pubsub import Subscriber, publish
from .queue import Queue
from .worker import Worker

__all__ = [
    "connect",
    "connect_async",
    "Queue",
    "Job",
    "JobState",
    "Worker",
    "Subscriber",
    "publish",
    "QueuekitError",
    "errors",
]

__version__ = "0.1.0"

# A library logs only where the application asks (logging.basicConfig, the `queuekit` commands, pytest's caplog):
# without this handler Python's last-resort handler would print queuekit's warnings to stderr, and in a notebook a
# worker thread's lines would land in whatever cell happens to be running.
logging.getLogger(__name__).addHandler(logging.NullHandler())
