"""Soak: many jobs (``QK_SOAK_JOBS``, default 200,000) through 4 ``queuekit worker`` processes (the real CLI) with
the retention defaults, enqueued in bulk while the workers run so the line stays short.

Redis ``used_memory`` and every worker's RSS (/proc/<pid>/status VmRSS) are sampled about four times a second, with
the share of jobs done at that moment. "Flat" is defined as:

* warm-up = the first quarter of the jobs (caches, the complete line filling up to its 1,000 kept jobs, pools);
* level = for each worker's RSS, the largest sample taken while the second quarter of the jobs was processed; for
  Redis, the smallest: its memory saws up and down by several MiB as the workers remove finished jobs (at most once
  a second each, while thousands of jobs finish per second), so its peaks say more about when a sample fell than
  about growth, while its floor rises only if something is kept that should not be;
* flat = the same figure for the last quarter is at most ``level * (1 + tolerance) + slack``: 15% + 1 MiB for
  Redis (its floor moves with the length of the line and client buffers), 3% + 1 MiB for each worker's RSS.

A worker keeping each Job object it ran (a ~400-byte leak per job) breaks the RSS bound even at 60,000 jobs (checked
by planting that leak: +12% to +14% RSS per worker; honest workers stayed within 0.1%);
retention that does not work would leave 200,000 job hashes (well over 50 MB) in Redis. A Redis leak that neither
adds jobs nor keys (planted: one set member per finished job, about 8 MB over the run) fails the floor check
(+119%), while honest runs stayed within 5% (the largest sample, used before, swung from -32% to +105% between
honest runs, with the retention passes). The summary line prints the figures either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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


def flat(samples: list[tuple[float, int]], tolerance: float, slack: int,
         pick: Callable[..., int] = max) -> tuple[int, int, bool]:
    """(level after warm-up, the last quarter's figure, flat?) from (share done, value) samples; ``pick`` (max or
    min) reduces each quarter to one figure."""
    level = pick((v for share, v in samples if 0.25 <= share < 0.5), default=0)
    last = pick((v for share, v in samples if share >= 0.75), default=0)
    return level, last, bool(level) and last <= level * (1 + tolerance) + slack


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
        redis_mem: list[tuple[float, int]] = []
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
            if enqueued < n and waiting < LOW_WATER:
                size = min(BATCH, n - enqueued)
                queue.add_bulk([("echo", {"i": enqueued + i}) for i in range(size)])
                enqueued += size
                continue
            if enqueued >= n and done >= n:
                break
            now = time.monotonic()
            if now >= next_sample:
                share = done / n
                redis_mem.append((share, int(client.info("memory")["used_memory"])))
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
        time.sleep(1.5)  # one more retention pass (workers clean at most once a second)
        kept = client.zcard(keys.complete)
        key_count = client.dbsize()
        for p in procs:
            stop_process(p, timeout=20)
        assert [p.returncode for p in procs] == [0] * WORKERS, "workers did not stop cleanly"

        r_level, r_last, r_flat = flat(redis_mem, 0.15, 1 << 20, min)
        worker_figures = [(pid, *flat(samples, 0.03, 1 << 20)) for pid, samples in rss.items()]
        mib = 1 << 20
        summary = (f"soak: jobs={n} in {elapsed:.1f}s ({n / elapsed:.0f}/s) longest_line={longest} "
                   f"failed={counts['failed']} kept_complete={kept} keys_left={key_count} "
                   f"redis_used_memory floor={r_level / mib:.1f}MiB last_quarter_floor={r_last / mib:.1f}MiB "
                   f"({(r_last / r_level - 1) * 100 if r_level else 0:+.1f}%) "
                   f"worker_rss " + " ".join(f"{lv / mib:.2f}->{lq / mib:.2f}MiB({(lq / lv - 1) * 100 if lv else 0:+.1f}%)"
                                             for _, lv, lq, _ in worker_figures)
                   + f" samples={len(redis_mem)}")
        print("\n" + summary)
        assert counts["inactive"] == counts["active"] == counts["delayed"] == counts["failed"] == 0, counts
        assert kept <= 1000, f"retention kept {kept} complete jobs (default: 1,000)"
        assert key_count < 1100, f"{key_count} keys left in Redis: retention does not bound it"
        assert longest <= LOW_WATER + BATCH, f"the line grew to {longest}"
        assert len(redis_mem) >= 8, f"too few samples ({len(redis_mem)}) to judge flatness: raise QK_SOAK_JOBS"
        assert r_flat, f"Redis memory grew after warm-up: {summary}"
        for pid, lv, lq, ok in worker_figures:
            assert ok, f"worker {pid} RSS grew after warm-up: {lv} -> {lq} bytes; {summary}"
    finally:
        for p in procs:
            stop_process(p, timeout=5)
        client.close()
        server.stop()
