"""Shared pieces of the core suite: the Backend record, helpers, and the job handlers worker processes run.

Run as a script it is a worker process for the multi-process tests::

    python tests/fixtures.py worker --queue test --types record,slow --concurrency 4 --lease 1.5

Handlers count their completions with ``HINCRBY qk-test:runs <job id> 1`` in the queue's database (a key outside
the queue's own), so a test can prove each job's handler completed exactly once.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fakeredis
import pytest
import redis

from queuekit import Queue, Worker

#: the core suite's database on the real Redis (0, 2 and 3 belong to others)
REAL_REDIS_URL = "redis://127.0.0.1:6379/1"
#: hash: job id -> how many times its handler completed
RUNS = "qk-test:runs"
#: hash: worker pid -> how many jobs its handlers completed
PIDS = "qk-test:pids"
#: list: "<job id>:<pid>" each time a slow handler started
STARTED = "qk-test:started"


@dataclass
class Backend:
    """Where a test's data lives: ``url`` is None for the embedded store (``server``)."""

    name: str
    url: str | None
    client: redis.Redis
    server: fakeredis.FakeServer | None = None

    def keys(self) -> set[str]:
        """Every key in the test's database (to prove a refused call wrote nothing)."""
        return set(self.client.scan_iter(count=1000))


def make_queue(backend: Backend, name: str = "test", **options: Any) -> Queue:
    """A Queue on ``backend`` (what the ``queue`` fixture builds; tests needing options call it)."""
    if backend.url is None:
        return Queue(name, client=fakeredis.FakeRedis(server=backend.server, decode_responses=True), **options)
    return Queue(name, url=backend.url, **options)


def snapshot(client: redis.Redis) -> dict[str, Any]:
    """Every key of the database with its type and content, to prove a refused call changed nothing."""
    out: dict[str, Any] = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == "string":
            value: Any = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "set":
            value = sorted(client.smembers(key))
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        else:
            value = None
        out[key] = (kind, value)
    return out


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02,
               message: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{message} not reached within {timeout} s", pytrace=False)
        time.sleep(interval)


# ---- handlers run by worker processes ------------------------------------------------------------------------

_client: redis.Redis | None = None
_client_lock = threading.Lock()


def _counter() -> redis.Redis:
    # One client for all handler threads, made under a lock: two threads each making one would leave one client
    # to the garbage collector, which closes its connections while a thread may still be reading from them.
    global _client
    with _client_lock:
        if _client is None:
            _client = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
        return _client


def record(job: Any) -> int:
    """Count one completion of ``job``."""
    pipe = _counter().pipeline(transaction=False)
    pipe.hincrby(RUNS, job.id, 1)
    pipe.hincrby(PIDS, str(os.getpid()), 1)
    pipe.execute()
    return os.getpid()


def slow(job: Any) -> int:
    """Note the start, sleep ``job.data['sleep']`` seconds, then count one completion."""
    _counter().rpush(STARTED, f"{job.id}:{os.getpid()}")
    time.sleep(job.data.get("sleep", 1))
    _counter().hincrby(RUNS, job.id, 1)
    return os.getpid()


#: what ``queuekit worker fixtures`` serves (the CLI reads the module's ``handlers``)
handlers = {"record": record, "slow": slow}


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="fixtures.py")
    parser.add_argument("command", choices=["worker"])
    parser.add_argument("--queue", default="test")
    parser.add_argument("--types", default="record,slow")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--max-stalls", type=int, default=1)
    parser.add_argument("--block-timeout", type=float, default=1.0)
    parser.add_argument("--keep-all", action="store_true", help="keep every complete job (keep_complete=None)")
    args = parser.parse_args(argv)
    options: dict[str, Any] = {"keep_complete": None, "keep_complete_age": None} if args.keep_all else {}
    queue = Queue(args.queue, url=os.environ["REDIS_URL"], **options)
    worker = Worker(queue, {t: handlers[t] for t in args.types.split(",")}, concurrency=args.concurrency,
                    lease=args.lease, max_stalls=args.max_stalls, block_timeout=args.block_timeout)
    print(f"worker {worker.id} pid {os.getpid()} serving {args.types}", flush=True)
    worker.run()
    return 0


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(_main(sys.argv[1:]))
