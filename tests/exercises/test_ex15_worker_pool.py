"""Grader of exercise ex15_worker_pool (beyond the course): a supervised pool survives a killed worker."""

from __future__ import annotations

import os
import re
import signal

import pytest

from queuekit import Job, Queue
from exercise_support import Script, call, load, show_lines, transcripts, wait_until

ex = load("ex15_worker_pool.py", "make_thumbnail", "run_worker", "start_worker_process", "supervise")
STARTED = re.compile(r"worker (\d+) started \(pid (\d+)\)$")


def test_make_thumbnail() -> None:
    got = call(ex.make_thumbnail, Job(type="thumbnail", data={"image": "cat.png"}))
    assert got == "thumbnail of cat.png", f"make_thumbnail(job) for image 'cat.png' returned {got!r}"


def _started(lines: list[str]) -> list[tuple[str, int]]:
    return [(m.group(1), int(m.group(2))) for m in (STARTED.match(line) for line in lines) if m]


def test_pool_survives_a_killed_worker(server_url, record_property) -> None:
    pool = Script("ex15_worker_pool.py", server_url, env={"POOL_SIZE": "3"})
    queue = Queue(url=server_url)
    try:
        up = pool.wait_for(lambda lines: len(_started(lines)) >= 3, timeout=15)
        record_property("learner_output", transcripts(pool))
        assert up, ("with POOL_SIZE=3 the supervisor should print 'worker N started (pid PID)' for N = 1, 2, 3; "
                    f"within 15 s it printed:\n{show_lines(pool.lines)}\nstderr:\n{pool.error_tail()}")
        started = _started(pool.lines)
        assert [n for n, _ in started] == ["1", "2", "3"], f"the workers should be numbered 1, 2, 3: {started}"
        jobs = [queue.add("thumbnail", {"image": f"{i}.png"}) for i in range(20)]
        wait_until(lambda: queue.counts()["complete"] >= 3, timeout=20)
        victim_no, victim_pid = started[1]
        os.kill(victim_pid, signal.SIGKILL)
        restarted = pool.wait_for(lambda lines: any(line.startswith(f"worker {victim_no} died") for line in lines)
                                  and len(_started(lines)) >= 4, timeout=5)
        record_property("learner_output", transcripts(pool))
        assert restarted, (f"worker {victim_no} (pid {victim_pid}) was killed, but within 5 s the supervisor did not "
                           f"print 'worker {victim_no} died (exit code -9), restarting' and start a new one. It "
                           f"printed:\n{show_lines(pool.lines)}")
        died = next(line for line in pool.lines if line.startswith(f"worker {victim_no} died"))
        assert died == f"worker {victim_no} died (exit code -9), restarting", (
            f"the line should read 'worker {victim_no} died (exit code -9), restarting'; got {died!r}")
        new_no, new_pid = _started(pool.lines)[3]
        assert new_no == victim_no and new_pid != victim_pid, (
            f"the replacement should be worker {victim_no} with a new pid; got worker {new_no} pid {new_pid}")
        done = wait_until(lambda: queue.counts()["complete"] == 20, timeout=30, interval=0.2)
        assert done, (f"all 20 thumbnail jobs should complete despite the killed worker; counts: {queue.counts()}. "
                      "(A job the killed worker held comes back after its lease: did run_worker pass lease=LEASE?)")
        for job in jobs:
            job.refresh()
            assert job.result == f"thumbnail of {job.data['image']}", f"job {job.id} has result {job.result!r}"
    finally:
        pool.stop()
        record_property("learner_output", transcripts(pool))
