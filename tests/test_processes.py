"""What must hold across processes: no job lost when a worker dies, many workers drain a big queue exactly once,
a restarted Redis, graceful shutdown of the CLI worker, stalls counted against max_stalls, events seen from another
process. Worker processes run ``tests/fixtures.py`` (or the ``queuekit worker`` command)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from fixtures import RUNS, STARTED, make_queue, wait_until
from queuekit import Queue, Worker

pytestmark = pytest.mark.slow


def _started(client: redis.Redis) -> list[tuple[str, int]]:
    return [(entry.rsplit(":", 1)[0], int(entry.rsplit(":", 1)[1])) for entry in client.lrange(STARTED, 0, -1)]


# ---- no job is lost ---------------------------------------------------------------------------------------------

@pytest.mark.realredis
@pytest.mark.timeout(60)
def test_a_job_whose_worker_is_killed_mid_job_completes_exactly_once_after_its_lease(real_redis, spawn):
    # Given a job, and a worker process (lease 1.5 s) that has started it
    queue = make_queue(real_redis)
    job = queue.add("slow", {"sleep": 3})
    first = spawn(real_redis.url, "--types", "slow", "--lease", "1.5")
    wait_until(lambda: _started(real_redis.client), timeout=15, message="the first worker starting the job")

    # When that worker is killed with SIGKILL in the middle of the job, and another worker is running
    os.kill(first.pid, signal.SIGKILL)
    first.wait(5)
    killed_at = time.monotonic()
    spawn(real_redis.url, "--types", "slow", "--lease", "1.5")

    # Then the job is picked up again once the lease has run out, and completes
    assert job.wait(timeout=30) == job.refresh().result
    assert time.monotonic() - killed_at >= 0.5  # not before the dead worker's lease could have run out
    starts = _started(real_redis.client)
    assert [job_id for job_id, _ in starts] == [job.id, job.id]
    assert starts[0][1] == first.pid and starts[1][1] != first.pid
    # ... exactly once
    time.sleep(2)  # give a wrongly duplicated run the time to show up
    assert real_redis.client.hgetall(RUNS) == {job.id: "1"}
    assert queue.counts() == {"inactive": 0, "active": 0, "delayed": 0, "complete": 1, "failed": 0}
    # ... and its history shows the crash
    job.refresh()
    assert job.stalls == 1 and job.attempts_made == 2
    [stall] = job.failed_attempts
    assert stall["kind"] == "stalled" and stall["attempt"] == 1 and "lease expired" in stall["error"]


@pytest.mark.timeout(120)
def test_a_job_whose_workers_die_more_often_than_max_stalls_fails_with_the_reason(backend, shared_url, spawn, worker):
    # Given a job that kills whoever runs it (we kill the worker process each time it starts the job)
    queue = make_queue(backend)
    job = queue.add("slow", {"sleep": 60})
    for n in (1, 2):
        proc = spawn(shared_url, "--types", "slow", "--lease", "1", "--max-stalls", "1")
        wait_until(lambda: len(backend.client.lrange(STARTED, 0, -1)) == n, timeout=30,
                   message=f"worker {n} starting the job")
        # When its worker dies in the middle, a second time
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)

    # Then a worker with max_stalls=1 sweeps it to failed, with a clear reason, without running it again
    worker({"slow": lambda job: "must not run"}, lease=1, max_stalls=1)
    with pytest.raises(Exception) as failure:
        job.wait(timeout=20)
    assert "stalled more than max_stalls (1) times" in str(failure.value)
    job.refresh()
    assert job.state == "failed" and job.stalls == 2 and job.result is None
    assert [a["kind"] for a in job.failed_attempts] == ["stalled", "stalled"]


# ---- four workers drain 20,000 jobs -----------------------------------------------------------------------------

#: jobs drained by four worker processes (the same on both backends)
DRAIN_JOBS = 20_000


@pytest.mark.timeout(300)
def test_four_worker_processes_drain_twenty_thousand_jobs_exactly_once(backend, shared_url, spawn):
    # Given 20,000 jobs, added in bulk, on a queue that keeps every complete job
    queue = make_queue(backend, keep_complete=None, keep_complete_age=None)
    ids: list[str] = []
    for start in range(0, DRAIN_JOBS, 5000):
        ids += [j.id for j in queue.add_bulk([("record", {"n": n}) for n in range(start, start + 5000)])]
    assert len(set(ids)) == DRAIN_JOBS

    # When four worker processes drain them
    began = time.monotonic()
    procs = [spawn(shared_url, "--types", "record", "--concurrency", "4", "--keep-all") for _ in range(4)]
    wait_until(lambda: queue.counts()["complete"] == DRAIN_JOBS or any(p.poll() is not None for p in procs),
               timeout=280, interval=0.5, message="every job complete")
    elapsed = time.monotonic() - began
    print(f"\n{backend.name}: {DRAIN_JOBS} jobs drained by 4 processes in {elapsed:.1f} s")
    assert all(p.poll() is None for p in procs), "a worker process died"

    # Then every job is complete, none is left behind, and each handler ran exactly once
    assert queue.counts() == {"inactive": 0, "active": 0, "delayed": 0, "complete": DRAIN_JOBS, "failed": 0}
    runs = backend.client.hgetall(RUNS)
    assert set(runs) == set(ids)
    assert set(runs.values()) == {"1"}
    # ... and the work was shared by the four processes
    pids = {int(x) for x in backend.client.hvals(RUNS)}
    assert pids == {1}
