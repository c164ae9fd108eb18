"""A worker process for the no-silent-failure suite: ``python silent_worker.py URL QUEUE CONCURRENCY LEASE``.

Every handler first counts its start in the hash ``qk-faults:runs`` (job id -> handler starts) on the queue's server,
so the test can tell a job that ran from one that was only claimed. Handlers, chosen by job type:

    count   (sync)   returns at once
    block   (async)  yields for ``data["pause"]`` seconds (the listener goes back to its blocking wait), then blocks
                     the whole event loop for ``data["seconds"]`` (a handler that calls time.sleep)
    slow    (sync)   sleeps ``data["seconds"]`` on its thread (past its ttl, when the job has one)
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from typing import Any

import redis

from queuekit import Queue, Worker

RUNS = "qk-faults:runs"
_lock = threading.Lock()
_client: redis.Redis | None = None


def started(job: Any) -> None:
    global _client
    with _lock:
        if _client is None:
            _client = redis.Redis.from_url(sys.argv[1], decode_responses=True)
    _client.hincrby(RUNS, job.id, 1)


def count(job: Any) -> str:
    started(job)
    return "counted"


async def block(job: Any) -> str:
    started(job)
    await asyncio.sleep(job.data.get("pause", 0))
    time.sleep(job.data["seconds"])  # noqa: ASYNC251 - blocking the loop is the point
    return "unblocked"


def slow(job: Any) -> str:
    started(job)
    time.sleep(job.data["seconds"])
    return "slept"


def main() -> None:
    url, name, concurrency, lease = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {os.getpid()} %(levelname)s %(name)s %(message)s")
    queue = Queue(name, url=url)
    Worker(queue, {"count": count, "block": block, "slow": slow}, concurrency=concurrency, lease=lease).run()


if __name__ == "__main__":
    main()
