"""queuekit: learn job queues on Redis, then keep using the queue.

A durable job queue (at-least-once delivery, leases, Lua scripts for every state change) that runs on a real
Redis (``REDIS_URL``) or, with nothing installed, on an embedded in-process server.
"""

from __future__ import annotations

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
