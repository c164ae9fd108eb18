"""Grader of exercise ex15_worker_pool (beyond the course): a supervised pool survives a killed worker, and stops
its workers when it is stopped."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
import redis
from exercise_support import Script, call, load, show_lines, transcripts, wait_until

from queuekit import Job, Queue
from queuekit.keys import QueueKeys

ex = load("ex15_worker_pool.py", "make_thumbnail", "run_worker", "start_worker_process", "supervise")
STARTED = re.compile(r"worker (\d+) started \(pid (\d+)\)$")
SIZE = 2


def test_make_thumbnail() -> None:
    begun = time.monotonic()
    got = call(ex.make_thumbnail, Job(type="thumbnail", data={"image": "cat.png"}))
    took = time.monotonic() - begun
    assert got == "thumbnail of cat.png", f"make_thumbnail(job) for image 'cat.png' returned {got!r}"
    assert took >= 0.19, f"make_thumbnail took {took:.3f} s; the work it stands for takes 0.2 s (time.sleep(0.2))"


def _started(lines: list[str]) -> list[tuple[str, int]]:
    return [(m.group(1), int(m.group(2))) for m in (STARTED.match(line) for line in lines) if m]


def _alive(pid: int) -> bool:
    """The process runs (a zombie, ended but not yet reaped, counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _kill_everything(pool: Script) -> None:
    """Stop the supervisor, then kill by pid every worker it said it started, and its process group, even when the
    supervisor itself already ended: nothing the grader started outlives the test."""
    pool.stop()
    for _, pid in _started(pool.lines):
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    try:
        os.killpg(pool.proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _start_pool(server_url: str, record_property) -> Script:
    pool = Script("ex15_worker_pool.py", server_url, env={"POOL_SIZE": str(SIZE)})
    up = pool.wait_for(lambda lines: len(_started(lines)) >= SIZE, timeout=20)
    record_property("learner_output", transcripts(pool))
    if not up:
        _kill_everything(pool)
        pytest.fail(f"with POOL_SIZE={SIZE} the supervisor should print 'worker N started (pid PID)' for N = 1 to "
                    f"{SIZE}; within 20 s it printed:\n{show_lines(pool.lines)}\nstderr:\n{pool.error_tail()}",
                    pytrace=False)
    return pool


def test_pool_survives_a_killed_worker(server_url, record_property) -> None:
    pool = _start_pool(server_url, record_property)
    queue = Queue(url=server_url)
    try:
        pids = {pid for _, pid in _started(pool.lines)}
        registered = wait_until(lambda: {w.get("pid") for w in queue.workers()} >= pids, timeout=20, interval=0.2)
        workers = queue.workers()
        # by now (worker processes booted and registered) the supervisor has printed every start line it meant to
        started = _started(pool.lines)
        assert [n for n, _ in started] == [str(n) for n in range(1, SIZE + 1)], (
            f"with POOL_SIZE={SIZE} (the size given to supervise) the workers should be numbered 1 to {SIZE}: "
            f"{started}")
        assert registered, (f"the {SIZE} worker processes (pids {sorted(pids)}) should each run a queuekit Worker "
                            f"(run_worker); the live workers are pids {sorted(w.get('pid') for w in workers)}")
        with redis.Redis.from_url(server_url) as raw:
            for info in workers:
                ttl = raw.pttl(QueueKeys("default").worker(info["id"]))
                assert info.get("types") == ["thumbnail"] and info.get("concurrency") == 1, (
                    f"each worker process should run 'thumbnail' jobs one at a time; pid {info.get('pid')} serves "
                    f"{info.get('types')} with concurrency {info.get('concurrency')}")
                assert 0 < ttl <= 2 * 2000, (
                    f"the worker of pid {info.get('pid')} keeps its jobs with a lease longer than LEASE (2 s): a job "
                    "whose worker is killed would wait that long to be retried. Pass lease=LEASE to the Worker.")
        jobs = [queue.add("thumbnail", {"image": f"{i}.png"}) for i in range(12)]
        wait_until(lambda: queue.counts()["complete"] >= 2, timeout=20)
        victim_no, victim_pid = started[1]
        os.kill(victim_pid, signal.SIGKILL)
        restarted = pool.wait_for(lambda lines: any(line.startswith(f"worker {victim_no} died") for line in lines)
                                  and len(_started(lines)) >= SIZE + 1, timeout=5)
        record_property("learner_output", transcripts(pool))
        assert restarted, (f"worker {victim_no} (pid {victim_pid}) was killed, but within 5 s the supervisor did not "
                           f"print 'worker {victim_no} died (exit code -9), restarting' and start a new one (it "
                           f"checks every 0.2 s). It printed:\n{show_lines(pool.lines)}")
        died = next(line for line in pool.lines if line.startswith(f"worker {victim_no} died"))
        assert died == f"worker {victim_no} died (exit code -9), restarting", (
            f"the line should read 'worker {victim_no} died (exit code -9), restarting'; got {died!r}")
        new_no, new_pid = _started(pool.lines)[SIZE]
        assert new_no == victim_no and new_pid != victim_pid, (
            f"the replacement should be worker {victim_no} with a new pid; got worker {new_no} pid {new_pid}")
        # killed again at once: the supervisor's checks must come every 0.2 s, not only at the end of a long pause
        os.kill(new_pid, signal.SIGKILL)
        again = pool.wait_for(lambda lines: len(_started(lines)) >= SIZE + 2, timeout=5)
        record_property("learner_output", transcripts(pool))
        assert again, (f"worker {victim_no} was killed again (pid {new_pid}) right after its restart, but within 5 s "
                       f"the supervisor did not start a new one (it checks every 0.2 s). It printed:\n"
                       f"{show_lines(pool.lines)}")
        done = wait_until(lambda: queue.counts()["complete"] == 12, timeout=30, interval=0.2)
        assert done, (f"all 12 thumbnail jobs should complete despite the killed worker; counts: {queue.counts()}. "
                      "(A job the killed worker held comes back after its lease: did run_worker pass lease=LEASE?)")
        for job in jobs:
            job.refresh()
            assert job.result == f"thumbnail of {job.data['image']}", f"job {job.id} has result {job.result!r}"
        time.sleep(0.5)
        assert len(_started(pool.lines)) == SIZE + 2, (
            f"with POOL_SIZE={SIZE} and a worker killed twice, the supervisor should have started {SIZE + 2} processes "
            f"in all; it printed:\n{show_lines(pool.lines)}")
    finally:
        _kill_everything(pool)
        record_property("learner_output", transcripts(pool))


def test_stopping_the_pool_stops_its_workers(server_url, record_property) -> None:
    pool = _start_pool(server_url, record_property)
    try:
        pids = [pid for _, pid in _started(pool.lines)]
        wait_until(lambda: all(_alive(pid) for pid in pids), timeout=2)
        time.sleep(1.0)  # the workers are up and serving
        os.kill(pool.proc.pid, signal.SIGTERM)  # the supervisor only: its workers are its job
        code = pool.wait_exit(20)
        record_property("learner_output", transcripts(pool))
        assert code is not None, ("the supervisor got SIGTERM (its stop event is set) but still runs 20 s later: "
                                  "leave the loop when stop is set, then terminate and wait for the workers")
        left = [pid for pid in pids if _alive(pid)]
        assert not left, (
            f"the supervisor ended (SIGTERM) but left its worker processes {left} running: when stop is set, "
            "terminate() every worker process and wait() for it before returning")
    finally:
        _kill_everything(pool)
        record_property("learner_output", transcripts(pool))
