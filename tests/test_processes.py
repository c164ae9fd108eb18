"""What must hold across processes: no job lost when a worker dies, many workers drain a big queue exactly once,
a restarted Redis, graceful shutdown of the CLI worker, stalls counted against max_stalls, events seen from another
process. Worker processes run ``tests/fixtures.py`` (or the ``queuekit worker`` command)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fixtures import PIDS, RUNS, STARTED, make_queue, wait_until

from queuekit import Queue
from queuekit.errors import JobFailed

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
    result = job.wait(timeout=30)
    assert time.monotonic() - killed_at >= 0.5  # not before the dead worker's lease could have run out
    starts = _started(real_redis.client)
    assert result == starts[1][1]  # the second worker's pid
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


@pytest.mark.realredis
@pytest.mark.timeout(60)
def test_a_job_handed_to_an_idle_worker_killed_before_taking_it_runs_once_elsewhere_with_no_stall(real_redis, spawn):
    # (Real Redis only: it drops a dead client's blocking pop when the connection closes. The embedded TCP server
    # serves each connection from a thread that stays blocked in the pop, which then takes the job for the dead
    # client: the job is still recovered after the lease, but as a stall, as a job claimed by a dying worker is.)
    backend = real_redis
    shared_url = real_redis.url
    # Given an idle worker process (lease 1.5 s) waiting for jobs: it has offered to take the next one
    queue = make_queue(backend)
    first = spawn(shared_url, "--types", "record", "--lease", "1.5", "--block-timeout", "5")
    wait_until(lambda: backend.client.lrange(queue.keys.idle("record"), 0, -1), timeout=15,
               message="the worker's offer")

    # When it is killed with SIGKILL, and a job is added at once: the add hands it to the dead worker
    os.kill(first.pid, signal.SIGKILL)
    first.wait(5)
    job = queue.add("record")
    assert job.state == "active"
    handed_at = time.monotonic()
    second = spawn(shared_url, "--types", "record", "--lease", "1.5")

    # Then another worker runs it once the dead worker's lease has run out, exactly once
    assert job.wait(timeout=30) == second.pid
    assert time.monotonic() - handed_at >= 1.0
    time.sleep(1)  # give a wrongly duplicated run the time to show up
    assert backend.client.hgetall(RUNS) == {job.id: "1"}
    # ... and since it never started before, no stall and no attempt are counted against it
    job.refresh()
    assert (job.stalls, job.attempts_made, job.failed_attempts) == (0, 1, [])
    assert queue.counts() == {"inactive": 0, "active": 0, "delayed": 0, "complete": 1, "failed": 0}


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
    with pytest.raises(JobFailed) as failure:
        job.wait(timeout=20)
    assert "stalled more than max_stalls (1) times" in str(failure.value)
    job.refresh()
    assert job.state == "failed" and job.stalls == 2 and job.result is None
    assert [a["kind"] for a in job.failed_attempts] == ["stalled", "stalled"]


@pytest.mark.timeout(60)
def test_a_type_whose_only_worker_died_is_flagged_once_its_heartbeat_expires(backend, shared_url, spawn):
    # Given a delayed job of type slow, and a worker process serving slow (lease 1 s) that has reported in
    queue = make_queue(backend)
    queue.add("slow", delay=600_000)
    proc = spawn(shared_url, "--types", "slow", "--lease", "1")
    wait_until(queue.workers, timeout=30, message="the worker reporting in")
    assert queue.unserved() == {}

    # When the worker dies without a word
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(5)

    # Then, once its heartbeat has expired (two leases), nobody serves slow any more
    wait_until(lambda: queue.unserved() == {"slow": 1}, timeout=10, message="slow flagged as unserved")
    assert queue.workers() == []


# ---- four workers drain 20,000 jobs -----------------------------------------------------------------------------

#: jobs drained by four worker processes: 20,000 on the real Redis, 5,000 through the embedded TCP server (fakeredis
#: runs the Lua scripts in Python, many times slower than Redis: the same story, at a size CI can afford)
DRAIN_JOBS = {"redis": 20_000, "embedded": 5_000}


@pytest.mark.timeout(480)
def test_four_worker_processes_drain_thousands_of_jobs_exactly_once(backend, shared_url, spawn):
    """Thousands of jobs through four `queuekit`-style worker processes, on the real Redis and the embedded TCP
    server."""
    # Given the jobs, added in bulk, on a queue that keeps every complete job
    total = DRAIN_JOBS[backend.name]
    queue = make_queue(backend, keep_complete=None, keep_complete_age=None)
    ids: list[str] = []
    for start in range(0, total, 1000):
        ids += [j.id for j in queue.add_bulk([("record", {"n": n}) for n in range(start, start + 1000)])]
    assert len(set(ids)) == total

    # When four worker processes drain them
    began = time.monotonic()
    procs = [spawn(shared_url, "--types", "record", "--concurrency", "4", "--keep-all") for _ in range(4)]
    def finished() -> bool:
        counts = queue.counts()
        return counts["complete"] + counts["failed"] == total or any(p.poll() is not None for p in procs)

    wait_until(finished, timeout=420, interval=0.5, message="every job finished")
    elapsed = time.monotonic() - began
    print(f"\n{backend.name}: {total} jobs drained by 4 processes in {elapsed:.1f} s")
    assert all(p.poll() is None for p in procs), "a worker process died:\n" + "\n".join(p.output() for p in procs)

    # Then every job is complete, none is left behind, and each handler ran exactly once
    failed = [(j.id, j.error, j.failed_attempts) for j in queue.jobs("failed", count=5)]
    assert queue.counts() == {"inactive": 0, "active": 0, "delayed": 0, "complete": total, "failed": 0}, failed
    runs = backend.client.hgetall(RUNS)
    assert set(runs) == set(ids)
    assert set(runs.values()) == {"1"}
    # ... and the work was shared by the four processes
    per_process = backend.client.hgetall(PIDS)
    assert {int(pid) for pid in per_process} == {p.pid for p in procs}
    assert sum(int(n) for n in per_process.values()) == total


# ---- Redis restarted while a worker waits -----------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """A redis-server of the test's own (never the shared one), without persistence, that can be restarted empty."""

    def __init__(self, workdir: Path) -> None:
        if not shutil.which("redis-server"):
            pytest.fail("redis-server is not installed", pytrace=False)
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = workdir
        self._proc = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(self._workdir)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_until(lambda: _pings(client), timeout=10, message=f"redis-server on port {self.port} answering")
        client.close()
        return proc

    def kill(self) -> None:
        self._proc.kill()
        self._proc.wait(10)

    def restart(self, pause: float = 0.0) -> None:
        """Kill the server and start it again, empty, after ``pause`` seconds."""
        self.kill()
        time.sleep(pause)
        self._proc = self._start()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    try:
        yield server
    finally:
        server.kill()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError):
        return False


@pytest.mark.realredis
@pytest.mark.timeout(90)
def test_a_waiting_worker_reconnects_by_itself_after_redis_restarts(real_redis, spawn, own_redis):
    # Given our own redis-server (never the shared one) and a worker process waiting on it
    spawn(own_redis.url, "--types", "record")
    wait_until(lambda: Queue("test", url=own_redis.url).workers(), timeout=15, message="the worker registering")

    # When the server is killed and started again (empty: no persistence), and jobs are added afterwards
    own_redis.restart(pause=1.0)  # the worker notices: its blocking wait and its loop fail meanwhile
    queue = Queue("test", url=own_redis.url)
    jobs = [queue.add("record", {"n": n}) for n in range(3)]

    # Then the worker reconnects by itself and processes them
    for job in jobs:
        job.wait(timeout=30)
    assert redis.Redis(port=own_redis.port, decode_responses=True).hgetall(RUNS) == {j.id: "1" for j in jobs}
    assert queue.counts()["complete"] == 3


@pytest.mark.realredis
@pytest.mark.timeout(60)
def test_a_producer_adds_jobs_again_after_redis_restarts(real_redis, own_redis):
    # Given our own redis-server and a queue that has added a job (its connection for adding is open)
    queue = Queue("test", url=own_redis.url, events=False)
    assert queue.add("t").id == "1"

    # When the server is killed and started again (empty: no persistence)
    own_redis.restart()

    # Then the same queue adds jobs at once: its stale connection is replaced before anything is sent
    jobs = [queue.add("t", {"n": n}) for n in range(3)]
    assert [j.id for j in jobs] == ["1", "2", "3"] and queue.counts()["inactive"] == 3


def _info(url: str) -> str:
    env = {**os.environ, "REDIS_URL": url}
    out = subprocess.run([sys.executable, "-m", "queuekit.cli", "info"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.realredis
@pytest.mark.timeout(90)
def test_queuekit_info_lists_the_queue_of_a_worker_that_ran_across_a_redis_restart(real_redis, spawn, own_redis):
    # Given our own redis-server (no persistence) and a worker process on it (lease 1.5 s) that has run a job
    spawn(own_redis.url, "--types", "record", "--lease", "1.5")
    queue = Queue("test", url=own_redis.url)
    queue.add("record").wait(timeout=30)

    # When the server is killed and started again, empty, and the worker reports in again
    own_redis.restart()
    wait_until(Queue("test", url=own_redis.url).workers, timeout=15, message="the worker reporting in again")

    # Then `queuekit info` lists the queue and its worker, though no job was added since
    out = _info(own_redis.url)
    assert "no queues yet" not in out and "test: inactive 0" in out and "worker " in out, out

    # ... and the worker goes on running jobs
    job = queue.add("record")
    wait_until(lambda: queue.get_job(job.id).state == "complete", timeout=30, message="the job run")


@pytest.mark.realredis
@pytest.mark.timeout(60)
def test_a_producer_lists_its_queue_again_when_it_adds_after_a_redis_restart(real_redis, own_redis):
    # Given our own redis-server and a queue that has added a job (which listed its name)
    queue = Queue("test", url=own_redis.url, events=False)
    queue.add("t")
    client = redis.Redis(port=own_redis.port, decode_responses=True)
    assert client.smembers("qk:queues") == {"test"}

    # When the server is killed and started again (empty), and the same queue adds a job
    own_redis.restart()
    queue.add("t")

    # Then the queue's name is listed again
    assert client.smembers("qk:queues") == {"test"}


# ---- graceful shutdown of the queuekit worker command -------------------------------------------------------------

@pytest.mark.timeout(60)
def test_sigterm_lets_the_running_job_finish_within_the_deadline(backend, shared_url, spawn):
    # Given a `queuekit worker` process running a 2 s job
    queue = make_queue(backend)
    job = queue.add("slow", {"sleep": 2})
    proc = spawn(shared_url, "fixtures", "--queue", "test", "--shutdown-timeout", "20", cli=True)
    wait_until(lambda: backend.client.lrange(STARTED, 0, -1), timeout=20, message="the job starting")

    # When it receives SIGTERM
    signalled_ms = time.time() * 1000
    proc.send_signal(signal.SIGTERM)

    # Then it finishes the job, then exits cleanly, well before the deadline
    assert proc.wait(timeout=15) == 0, proc.output()
    job.refresh()
    assert job.state == "complete" and job.finished_at > signalled_ms
    assert backend.client.hgetall(RUNS) == {job.id: "1"}
    assert queue.workers() == []  # it unregistered itself


@pytest.mark.timeout(60)
def test_sigterm_puts_a_job_still_running_at_the_deadline_back_in_line(backend, shared_url, spawn, worker):
    # Given a `queuekit worker` process (shutdown deadline 1 s) running a 60 s job
    queue = make_queue(backend)
    job = queue.add("slow", {"sleep": 60})
    proc = spawn(shared_url, "fixtures", "--queue", "test", "--shutdown-timeout", "1", cli=True)
    wait_until(lambda: backend.client.lrange(STARTED, 0, -1), timeout=20, message="the job starting")

    # When it receives SIGTERM
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)

    # Then it exits soon after the deadline, and the job is back in line, not lost and not failed
    assert proc.wait(timeout=15) == 0, proc.output()
    assert time.monotonic() - began >= 0.9
    job.refresh()
    assert job.state == "inactive" and job.failures == 0 and job.attempts_made == 0
    [interrupted] = job.failed_attempts
    assert interrupted["kind"] == "interrupted" and "shut down" in interrupted["error"]
    # ... so the next worker runs it
    worker({"slow": lambda j: "done by the next worker"})
    assert job.wait(timeout=10) == "done by the next worker"


# ---- events seen from another process -----------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_a_listener_sees_the_events_of_a_job_run_by_a_worker_process(backend, shared_url, spawn):
    # Given listeners in this process, on the queue and on one job
    queue = make_queue(backend)
    seen: list[tuple[str, ...]] = []
    queue.on("job start", lambda job_id, job_type: seen.append(("job start", job_id, job_type)))
    queue.on("job complete", lambda job_id, result: seen.append(("job complete", job_id, result)))
    job = queue.create("record", {"n": 1}).on("complete", lambda result: seen.append(("complete", result))).save()

    # When a worker process runs the job
    proc = spawn(shared_url, "--types", "record")
    job.wait(timeout=20)

    # Then every listener heard of it, with the job's id and the result computed in the other process
    wait_until(lambda: len(seen) == 3, timeout=10, message="three events")
    assert sorted(seen) == sorted([("job start", job.id, "record"), ("job complete", job.id, proc.pid),
                                   ("complete", proc.pid)])
