"""No silent failure: faults that once left jobs claimed but never run, or gave up on a job that completed.

Each story runs a worker in a separate process (``silent_worker.py``) against a private redis-server, and ends
with the same check: every job added ends complete **with at least one handler run**, none is left active, none
is in two lines or in none, and no job's history shows a stall (the worker was alive all along, so a stall would
mean a job sat active with no handler running it).

* an idle worker frozen (SIGSTOP) for less than its lease, longer than its lease, and longer than the listener's
  read deadline (its blocking wait plus 5 s);
* an async handler that blocks the event loop for longer than that deadline while the listener waits;
* sync handlers stuck past their ttl at concurrency 1 and 4: the jobs after them run on replacement threads;
* ``job.wait()`` across a Redis restart returns the result the job completed with.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from faults_support import HERE, RedisProcess, proc_state, python_env, stop_process

from queuekit import Queue

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]

RUNS = "qk-faults:runs"
LEASE = 3.0  # seconds; the worker's blocking wait is the default 1 s, so its read deadline is 6 s


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisProcess]:
    proc = RedisProcess(tmp_path / "redis", ["--save", "", "--appendonly", "yes", "--appendfsync", "always"])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def start_worker(server: RedisProcess, tmp_path: Path, concurrency: int = 2,
                 lease: float = LEASE) -> subprocess.Popen[bytes]:
    log = open(tmp_path / f"worker-{time.monotonic_ns()}.log", "wb")
    try:
        proc = subprocess.Popen([sys.executable, str(HERE / "silent_worker.py"), server.url, "q", str(concurrency),
                                 str(lease)], env=python_env(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        log.close()
    client = server.client()
    deadline = time.monotonic() + 20
    while not client.zcard(Queue("q", client=client).keys.workers):
        assert proc.poll() is None and time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.05)
    client.close()
    time.sleep(0.3)  # into its blocking wait
    return proc


@contextmanager
def worker_and_queue(server: RedisProcess, tmp_path: Path,
                     **options: Any) -> Iterator[tuple[subprocess.Popen[bytes], Queue]]:
    """A worker process (start_worker's ``options``) and a producer's queue on ``server``; both stopped after."""
    worker = start_worker(server, tmp_path, **options)
    queue = Queue("q", url=server.url)
    try:
        yield worker, queue
    finally:
        stop_process(worker)
        queue.close()


def wait_finished(queue: Queue, ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        states = [queue.client.hget(queue.keys.job(i), "state") for i in ids]
        if all(s in ("complete", "failed") for s in states):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"not finished within {timeout} s: {dict(zip(ids, states))}, counts {queue.counts()}")
        time.sleep(0.05)


def assert_every_job_ran(queue: Queue, ids: list[str]) -> None:
    """Every job complete, with at least one handler run, in exactly one line, and never stalled."""
    client, keys = queue.client, queue.keys
    runs = client.hgetall(RUNS)
    lines = {state: set(client.zrange(getattr(keys, state), 0, -1)) for state in ("active", "complete", "failed")}
    for t in queue.types():
        lines[f"wait:{t}"] = set(client.zrange(keys.wait(t), 0, -1))
        lines[f"delayed:{t}"] = set(client.zrange(keys.delayed(t), 0, -1))
    problems = []
    for job_id in ids:
        job = queue.get_job(job_id)
        places = [name for name, members in lines.items() if job_id in members]
        stalls = [a for a in job.failed_attempts if a["kind"] == "stalled"]
        if job.state != "complete" or places != ["complete"] or int(runs.get(job_id, 0)) < 1 or stalls:
            problems.append(f"job {job_id}: state {job.state}, error {job.error!r}, in {places}, "
                            f"handler runs {runs.get(job_id, 0)}, stalls {stalls}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("freeze", [1.5, 4.5, 8.0], ids=["shorter-than-lease", "past-lease",
                                                          "past-lease-and-read-deadline"])
def test_an_idle_worker_frozen_for_a_while_runs_every_job_added_after_it_wakes(server, tmp_path, freeze):
    # Given an idle worker, waiting for jobs
    with worker_and_queue(server, tmp_path) as (worker, queue):
        # When it is frozen, then woken, and jobs arrive
        os.kill(worker.pid, signal.SIGSTOP)
        assert wait_for_state(worker.pid, "T")
        time.sleep(freeze)
        os.kill(worker.pid, signal.SIGCONT)
        ids = [queue.add("count").id for _ in range(20)]

        # Then the worker runs every one of them
        wait_finished(queue, ids, timeout=30)
        assert_every_job_ran(queue, ids)
        assert worker.poll() is None


def test_an_event_loop_blocked_while_the_listener_waits_loses_no_job(server, tmp_path):
    # Given a worker with a long lease whose async handler blocks the event loop for longer than the listener's
    # read deadline, while the listener waits for jobs
    with worker_and_queue(server, tmp_path, lease=30) as (worker, queue):
        blocker = queue.add("block", {"pause": 1.5, "seconds": 8})
        time.sleep(3)

        # When jobs arrive while the loop is blocked, and after
        during = [queue.add("count").id for _ in range(5)]
        time.sleep(7.5)
        after = [queue.add("count").id for _ in range(10)]

        # Then every job runs, the blocker included
        ids = [blocker.id, *during, *after]
        wait_finished(queue, ids, timeout=30)
        assert_every_job_ran(queue, ids)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_sync_handlers_stuck_past_their_ttl_leave_room_for_the_next_jobs(server, tmp_path, concurrency):
    # Given a worker whose every thread is stuck in a handler that overran its ttl
    with worker_and_queue(server, tmp_path, concurrency=concurrency) as (worker, queue):
        stuck = [queue.add("slow", {"seconds": 20}, ttl=300).id for _ in range(concurrency)]
        wait_finished(queue, stuck, timeout=10)

        # When more jobs arrive while those threads are still stuck
        ids = [queue.add("count").id for _ in range(3 * concurrency)]

        # Then they run now, well before the stuck handlers return, and the worker says so in its stats
        wait_finished(queue, ids, timeout=8)
        assert_every_job_ran(queue, ids)
        assert all(queue.get_job(i).error == "TTL exceeded" for i in stuck)
        abandoned = wait_for(lambda: [w["abandoned"] for w in queue.workers() if w.get("abandoned")], timeout=15)
        assert abandoned == [concurrency]


def test_wait_rides_out_a_redis_restart_and_returns_the_result(server, tmp_path):
    # Given a job running for a few seconds, and a producer waiting for its result
    with worker_and_queue(server, tmp_path, lease=30) as (worker, queue):
        job = queue.add("slow", {"seconds": 4})
        answer: dict[str, Any] = {}

        def wait() -> None:
            try:
                answer["result"] = job.wait(timeout=40)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                answer["error"] = repr(exc)

        waiter = threading.Thread(target=wait)
        waiter.start()
        assert wait_for(lambda: server.client().hget(RUNS, job.id), timeout=10)

        # When Redis restarts while the job runs (its data kept in the append-only file), down for a few seconds
        began = time.monotonic()
        server.stop()
        time.sleep(3)
        server.start()
        down = time.monotonic() - began

        # Then the wait returns the job's result once it completes
        waiter.join(45)
        assert answer == {"result": "slept"}, f"after a restart ({down:.1f} s down): {answer}"
        assert_every_job_ran(queue, [job.id])


def wait_for_state(pid: int, state: str, timeout: float = 5.0) -> bool:
    return bool(wait_for(lambda: proc_state(pid) == state, timeout))


def wait_for(predicate: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return None
