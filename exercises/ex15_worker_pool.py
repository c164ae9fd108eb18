"""Beyond the course (b) — A pool of worker processes that survives a killed worker.

One worker process is a single point of failure. Here a small supervisor keeps `POOL_SIZE` worker processes
alive (3 by default, or `$POOL_SIZE`), and restarts any that dies. A job that a dying worker was running is not
lost: its lease (`LEASE` = 2 s) runs out and another worker runs it again (queuekit delivers at least once).

Write:

1. `make_thumbnail(job)`: the handler of "thumbnail" jobs: sleep 0.2 s (the work), then return
   `f"thumbnail of {job.data['image']}"`.
2. `run_worker()`: what one worker process does: `Worker(Queue(), {"thumbnail": make_thumbnail},
   lease=LEASE).run()` (one job at a time, the default concurrency; blocks; stops gracefully on SIGTERM).
3. `start_worker_process()`: start `python THIS_FILE worker` as a child process (`subprocess.Popen` with
   `sys.executable` and `os.path.abspath(__file__)`) and return it.
4. `supervise(size, stop)`: start `size` worker processes, numbered from 1, printing
   `worker N started (pid PID)` for each; then, every 0.2 s until the `threading.Event` `stop` is set, check them
   (`proc.poll()`): for each one that ended, print `worker N died (exit code CODE), restarting`, start a new one
   in its place and print `worker N started (pid PID)` again. When `stop` is set, terminate them all and wait for
   them.

The end of the file (given) runs a worker when called with the argument `worker`, else the supervisor (Ctrl-C or
SIGTERM stops it).

Stopping matters as much as starting: a supervisor that returns while its workers still run leaves processes behind
(the grader stops it with SIGTERM and then looks for its workers).

Try it on a shared server. In a first terminal:

    queuekit server --port 6390

in a second one, the pool:

    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex15_worker_pool.py
    worker 1 started (pid 4242)
    worker 2 started (pid 4243)
    worker 3 started (pid 4244)

in a third one, queue 20 thumbnail jobs and kill a worker (use a pid your pool printed):

    REDIS_URL=redis://127.0.0.1:6390 \
        python -c "from queuekit import Queue; [Queue().add('thumbnail', {'image': f'{i}.png'}) for i in range(20)]"
    python -c "import os, signal; os.kill(4243, signal.SIGKILL)"

The pool prints

    worker 2 died (exit code -9), restarting
    worker 2 started (pid 4250)

and every job still completes (`REDIS_URL=redis://127.0.0.1:6390 queuekit info`). Ctrl-C stops the pool and its
workers. Check it: `queuekit learn check ex15_worker_pool`.
"""

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
    # TODO: the work takes 0.2 s (sleep), then answer the statement's result for the job's image
    raise NotImplementedError("make_thumbnail")


def run_worker() -> None:
    """One worker process: process "thumbnail" jobs one at a time until stopped."""
    # TODO: a Worker for "thumbnail" jobs with the short lease LEASE (so a killed worker's job comes back in 2 s,
    #       not 30), run in this process until SIGTERM
    raise NotImplementedError("run_worker")


def start_worker_process() -> subprocess.Popen:
    """Start ``python THIS_FILE worker`` as a child process."""
    # TODO: the same Python (sys.executable) running this very file with the argument "worker"
    raise NotImplementedError("start_worker_process")


def supervise(size: int, stop: threading.Event) -> None:
    """Keep ``size`` worker processes alive until ``stop`` is set; then stop them all."""
    # TODO: start `size` workers numbered from 1; every 0.2 s until stop is set, replace any that ended (same
    #       number); whatever happens (use finally), terminate them all and wait for them before returning
    raise NotImplementedError("supervise")


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        run_worker()
    else:
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        signal.signal(signal.SIGINT, lambda *_: stopping.set())
        supervise(POOL_SIZE, stopping)
