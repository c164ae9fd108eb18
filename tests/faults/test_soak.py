"""Soak: many jobs (``QK_SOAK_JOBS``, default 200,000) through 4 ``queuekit worker`` processes (the real CLI) with
the retention defaults, enqueued in bulk while the workers run so the line stays short.

Two kinds of figures say whether memory stays flat:

* Redis, *settled*: after the first quarter of the jobs (the warm-up: the complete line has filled up to its 1,000
  kept jobs, hash tables and client buffers have grown) the test stops enqueuing, waits until every job is done and
  retention has trimmed the complete line back to 1,000, and reads ``used_memory``; it does the same at the end.
  While jobs flow, Redis memory saws up and down by megabytes with the retention passes (each worker cleans about
  once a second while thousands of jobs finish per second, and again at once after a pass that removed its full
  batch), so a sample taken then says more about when it fell than about growth; the settled figure does not depend
  on timing. Before that follow-up existed, one run at 31,000 jobs/s was left with 2,936 complete jobs for good.
  Flat = the final settled figure is at most ``level * 1.15 + 1 MiB``.
* each worker's RSS (/proc/<pid>/status VmRSS), sampled about four times a second with the share of jobs done:
  level = the largest sample taken while the second quarter of the jobs ran, flat = the largest in the last
  quarter is at most ``level * 1.03 + 1 MiB``.

A worker keeping each Job object it ran (a ~400-byte leak per job) breaks the RSS bound even at 60,000 jobs (checked
by planting that leak: +12% to +14% RSS per worker; honest workers stayed within 0.1%);
retention that does not work would leave 200,000 job hashes (well over 50 MB) in Redis. A Redis leak that neither
adds jobs nor keys (planted: one set member per finished job, about 8 MB over the run) fails the settled check
(2.2 -> 12.9 MiB, +166%), while three honest runs stayed within -3.5% to +5.5% of 2.3 MiB (the floor of samples
taken while jobs flowed, used before, swung by +62% in an honest run on a fast machine). With the Job-keeping leak
planted again under this version, each worker's RSS grew by +33% to +36%. The summary line prints the figures
either way.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from faults_support import RedisProcess, env_int, rss_kib, spawn_cli, stop_process
from queuekit import Queue

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

QUEUE = "soak"
WORKERS = 4
BATCH = 2000
LOW_WATER = 2000


def flat(samples: list[tuple[float, int]], tolerance: float, slack: int) -> tuple[int, int, bool]:
    """(level after warm-up, the last quarter's largest figure, flat?) from (share done, value) samples."""
    level = max((v for share, v in samples if 0.25 <= share < 0.5), default=0)
    last = max((v for share, v in samples if share >= 0.75), default=0)
    return level, last, bool(level) and last <= level * (1 + tolerance) + slack


def settle(client: Any, queue: Queue, keep: int = 1000, timeout: float = 30.0) -> tuple[int, int]:
    """Wait until no job is waiting, delayed or active and retention has trimmed the complete line to ``keep``
    (or ``timeout`` passes), then return (Redis used_memory, complete jobs kept); the memory figure is the
    smallest of three readings a tenth of a second apart, so a reply buffer caught in flight does not count."""
    keys = queue.keys
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pipe = client.pipeline(transaction=False)
        for key in (keys.wait("echo"), keys.delayed("echo"), keys.active, keys.complete):
            pipe.zcard(key)
        waiting, delayed, active, kept = pipe.execute()
        if waiting == delayed == active == 0 and kept <= keep:
            break
        time.sleep(0.1)
    readings = []
    for _ in range(3):
        readings.append(int(client.info("memory")["used_memory"]))
        time.sleep(0.1)
    return min(readings), int(client.zcard(keys.complete))


def test_soak(tmp_path: Path) -> None:
    n = env_int("QK_SOAK_JOBS", 200_000)
    budget = env_int("QK_SOAK_BUDGET", 300)
    concurrency = env_int("QK_SOAK_CONCURRENCY", 32)
    server = RedisProcess(tmp_path / "redis", ["--save", "", "--appendonly", "no"]).start()
    client = server.client(socket_timeout=10)
    procs: list[Any] = []
    try:
        queue = Queue(QUEUE, client=client)  # the retention defaults
        for k in range(WORKERS):
            procs.append(spawn_cli("--url", server.url, "worker", "soak_handlers:handlers", "--queue", QUEUE,
                                   "--concurrency", str(concurrency), "--shutdown-timeout", "10",
                                   log=tmp_path / f"worker-{k}.log"))
        deadline = time.monotonic() + 30
        while len(queue.workers()) < WORKERS:
            assert time.monotonic() < deadline, "the workers did not start"
            assert all(p.poll() is None for p in procs), "a worker exited at start"
            time.sleep(0.1)

        started = time.monotonic()
        enqueued = longest = 0
        warm_mem = warm_kept = 0  # the settled figures after the first quarter of the jobs
        rss: dict[int, list[tuple[float, int]]] = {p.pid: [] for p in procs}
        next_sample = 0.0
        keys = queue.keys
        while True:
            if time.monotonic() - started > budget:
                pytest.fail(f"soak over its {budget}s budget: {enqueued} enqueued, counts {queue.counts()}")
            pipe = client.pipeline(transaction=False)
            pipe.zcard(keys.wait("echo"))
            pipe.zcard(keys.delayed("echo"))
            pipe.zcard(keys.active)
            waiting, delayed, active = pipe.execute()
            longest = max(longest, waiting)
            done = enqueued - waiting - delayed - active
            if not warm_mem and done >= n // 4 and enqueued >= n // 4:
                warm_mem, warm_kept = settle(client, queue)
                continue
            if enqueued < n and waiting < LOW_WATER and (warm_mem or enqueued < n // 4):
                size = min(BATCH, n - enqueued)
                queue.add_bulk([("echo", {"i": enqueued + i}) for i in range(size)])
                enqueued += size
                continue
            if enqueued >= n and done >= n:
                break
            now = time.monotonic()
            if now >= next_sample:
                share = done / n
                for p in procs:
                    value = rss_kib(p.pid)
                    if value is not None:
                        rss[p.pid].append((share, value * 1024))
                next_sample = now + 0.25
            for p in procs:
                assert p.poll() is None, f"worker {p.pid} exited with {p.returncode}; see {tmp_path}"
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        counts = queue.counts()
        last_mem, kept = settle(client, queue)
        key_count = client.dbsize()
        for p in procs:
            stop_process(p, timeout=20)
        assert [p.returncode for p in procs] == [0] * WORKERS, "workers did not stop cleanly"

        # no worker dies here, so a stall (a lease run out) means a job sat active with no handler running it; the
        # sweep logs each one (and each job handed to a worker that never took it)
        logs = "".join((tmp_path / f"worker-{k}.log").read_text(errors="replace") for k in range(WORKERS))
        unattended = logs.count("stalled (its worker stopped answering)") + logs.count("never took it")
        r_flat = last_mem <= warm_mem * 1.15 + (1 << 20)
        worker_figures = [(pid, *flat(samples, 0.03, 1 << 20)) for pid, samples in rss.items()]
        mib = 1 << 20
        summary = (f"soak: jobs={n} in {elapsed:.1f}s ({n / elapsed:.0f}/s) longest_line={longest} "
                   f"failed={counts['failed']} failed_without_ever_running={counts['failed']} "
                   f"active_without_a_running_handler={unattended} kept_complete={kept} keys_left={key_count} "
                   f"redis_used_memory settled after warm-up={warm_mem / mib:.2f}MiB (kept {warm_kept}) "
                   f"at the end={last_mem / mib:.2f}MiB ({(last_mem / warm_mem - 1) * 100 if warm_mem else 0:+.1f}%) "
                   f"worker_rss " + " ".join(f"{lv / mib:.2f}->{lq / mib:.2f}MiB({(lq / lv - 1) * 100 if lv else 0:+.1f}%)"
                                             for _, lv, lq, _ in worker_figures)
                   + f" rss_samples={min(len(v) for v in rss.values())}")
        print("\n" + summary)
        assert counts["inactive"] == counts["active"] == counts["delayed"] == counts["failed"] == 0, counts
        assert unattended == 0, f"{unattended} jobs sat active with no handler running them: {summary}"
        assert kept <= 1000, f"retention kept {kept} complete jobs (default: 1,000)"
        assert key_count < 1100, f"{key_count} keys left in Redis: retention does not bound it"
        assert longest <= LOW_WATER + BATCH, f"the line grew to {longest}"
        assert warm_mem, "no settled figure after warm-up"
        assert min(len(v) for v in rss.values()) >= 8, f"too few RSS samples to judge flatness: {summary}"
        assert r_flat, f"Redis memory grew after warm-up: {summary}"
        for pid, lv, lq, ok in worker_figures:
            assert ok, f"worker {pid} RSS grew after warm-up: {lv} -> {lq} bytes; {summary}"
    finally:
        for p in procs:
            stop_process(p, timeout=5)
        client.close()
        server.stop()
