"""Beyond the course (b) — A pool of worker processes that survives a killed worker. (Reference solution.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from queuekit import Queue, Worker

POOL_SIZE = int(os.environ.get("POOL_SIZE", "3"))
#: seconds a job stays claimed without a heartbeat: after a worker dies, its job is retried this much later
LEASE = 2.0


def make_thumbnail(job) -> str:
    """Handler of "thumbnail" jobs: pretend to resize an image."""
    time.sleep(0.2)
    return f"thumbnail of {job.data['image']}"


def run_worker() -> None:
    """One worker process: process "thumbnail" jobs one at a time until stopped."""
    Worker(Queue(), {"thumbnail": make_thumbnail}, lease=LEASE).run()


def start_worker_process() -> subprocess.Popen:
    """Start ``python THIS_FILE worker`` as a child process."""
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), "worker"])


def supervise(size: int, stop: threading.Event) -> None:
    """Keep ``size`` worker processes alive until ``stop`` is set; then stop them all."""
    workers: dict[int, subprocess.Popen] = {}
    for index in range(1, size + 1):
        workers[index] = start_worker_process()
        print(f"worker {index} started (pid {workers[index].pid})")
    try:
        while not stop.wait(0.2):
            for index, proc in list(workers.items()):
                code = proc.poll()
                if code is not None:
                    pass  # WRONG: a dead worker is never replaced
    finally:
        for proc in workers.values():
            proc.terminate()
        for proc in workers.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        run_worker()
    else:
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        signal.signal(signal.SIGINT, lambda *_: stopping.set())
        supervise(POOL_SIZE, stopping)
