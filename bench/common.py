"""Shared helpers for the harness (parent side) and the worker probe (child side)."""
from __future__ import annotations

import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEFAULT_URL = "redis://127.0.0.1:6379"

# Each system gets its own database. Databases 0-3 belong to the test suites: never touched here.
DBS = {
    "redis-py": 8,
    "queuekit": 9,
    "rq": 10,
    "arq": 11,
    "saq": 12,
    "huey": 13,
    "bullmq": 14,
    "bee-queue": 15,
}

RESULT_KEY = "bench:result"
READY_KEY = "bench:ready"
COUNT_KEY = "bench:count"


def base_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_URL


def db_url(url: str, db: int) -> str:
    """Same server as ``url`` but database ``db``."""
    if db < 8:
        raise ValueError("the benchmark only uses databases 8-15")
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


def url_parts(url: str) -> dict:
    p = urlsplit(url)
    return {
        "host": p.hostname or "127.0.0.1",
        "port": p.port or 6379,
        "password": p.password,
        "username": p.username,
        "db": int(p.path.lstrip("/") or 0),
    }


def payload(i: int) -> dict:
    """The job payload every system enqueues: small, with the enqueue time for latency."""
    return {"i": i, "t": time.time()}


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def percentile(xs, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, math.ceil(q / 100.0 * len(s)) - 1))
    return s[k]


class WorkerFailed(RuntimeError):
    pass


def run_worker(argv, env, client, *, timeout, log_path, on_ready=None, ready_timeout=60.0,
               cwd=None) -> dict:
    """Start a worker subprocess and wait until it reports its result in ``client``'s database.

    The child writes READY_KEY once its worker is about to start (after imports) and
    RESULT_KEY (JSON) once its handler ran the expected number of times. ``on_ready`` is
    called (in this process) after READY_KEY appears, e.g. to produce paced jobs.
    """
    client.delete(RESULT_KEY, READY_KEY, COUNT_KEY)
    full_env = dict(os.environ)
    full_env.update({k: str(v) for k, v in env.items()})
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH")]))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(("\n$ " + " ".join(map(str, argv)) + "\n").encode())
        log.flush()
        proc = subprocess.Popen(list(map(str, argv)), env=full_env, cwd=str(cwd or ROOT),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + ready_timeout
        while not client.exists(READY_KEY):
            if proc.poll() is not None:
                raise WorkerFailed(f"worker exited with {proc.returncode} before ready (see {log_path})")
            if time.monotonic() > deadline:
                raise WorkerFailed(f"worker not ready after {ready_timeout}s (see {log_path})")
            time.sleep(0.005)
        if on_ready is not None:
            on_ready()
        deadline = time.monotonic() + timeout
        while True:
            raw = client.get(RESULT_KEY)
            if raw is not None:
                return json.loads(raw)
            if proc.poll() is not None:
                raise WorkerFailed(f"worker exited with {proc.returncode} without a result (see {log_path})")
            if time.monotonic() > deadline:
                raise WorkerFailed(f"no result after {timeout}s (see {log_path})")
            time.sleep(0.01)
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen, grace: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def paced(m: int, rate: float, send) -> None:
    """Call send(i) for i in range(m), the i-th call at start + i/rate (steady arrivals)."""
    start = time.perf_counter()
    for i in range(m):
        due = start + i / rate
        while True:
            delay = due - time.perf_counter()
            if delay <= 0:
                break
            time.sleep(delay if delay > 0.002 else 0)
        send(i)


def python_worker_argv(system: str, mode: str, concurrency: int, variant: str = "") -> list:
    argv = [sys.executable, "-m", "bench.worker", system, mode, str(concurrency)]
    if variant:
        argv.append(variant)
    return argv
