"""``python -m bench.anatomy``: where the time of one queuekit job goes, next to one bare LPUSH.

The benchmark table says how fast; this says why. For one-at-a-time adds, bulk adds and the worker's claim it
separates the time Redis spends running the command (``INFO commandstats``: microseconds per call, measured by
the server itself) from the time the caller waits in all (Python, the socket, the scheduler). Each is measured
twice: back to back (hot caches, the enqueue workload) and one call every 10 ms (an idle machine woken for each
job, as in the latency workload), where the same script costs several times more.

Uses database 9 (queuekit's, flushed before and after) of ``REDIS_URL`` (default ``redis://127.0.0.1:6379``).
Takes about 30 s. Not part of the test suite: figures, not assertions.
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import redis

from bench.common import DBS, base_url, db_url

QUEUE = "anatomy"


def _server_us(client: redis.Redis, command: str) -> float:
    stats = client.info("commandstats").get(f"cmdstat_{command}")
    return float(stats["usec_per_call"]) if stats else float("nan")


def _measure(client: redis.Redis, call: Callable[[int], object], command: str, n: int, gap: float,
             reset: Callable[[], None]) -> tuple[float, float]:
    """(server µs per call, caller's µs per call) for n calls, ``gap`` seconds apart (0 = back to back)."""
    reset()
    client.config_resetstat()
    waited = 0.0
    for i in range(n):
        t = time.perf_counter()
        call(i)
        waited += time.perf_counter() - t
        if gap:
            time.sleep(gap)
    return _server_us(client, command), waited / n * 1e6


def main(argv: list[str] | None = None) -> None:
    from queuekit import Queue, Worker

    p = argparse.ArgumentParser(prog="python -m bench.anatomy", description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=2000, help="back-to-back calls per line (default 2000)")
    p.add_argument("--paced", type=int, default=300, help="calls one every 10 ms per line (default 300)")
    p.add_argument("--bulk", type=int, default=20000, help="jobs in the bulk add (default 20000)")
    args = p.parse_args(argv)

    url = db_url(base_url(), DBS["queuekit"])
    client = redis.Redis.from_url(url, decode_responses=True)
    queue = Queue(QUEUE, url=url)
    worker = Worker(queue, {"t": lambda job: None})
    keys = queue.keys
    claim_keys = [keys.active, keys.meta, keys.job_prefix, keys.stop(worker.id), *keys.lines("t")]
    claim_sha = client.script_load(queue.scripts.claim.script)

    def fresh() -> None:
        client.flushdb()
        queue.add("t", {"warm": True})  # loads the scripts, creates the queue's counters

    def filled() -> None:  # jobs waiting for the claims to take
        fresh()
        queue.add_bulk([("t", {"i": i}) for i in range(max(args.calls, args.paced) + 10)])

    def claim(_: int) -> object:
        return client.evalsha(claim_sha, len(claim_keys), *claim_keys, *worker._claim_args(1))

    lines = [
        ("LPUSH (the ceiling's call)", lambda i: client.lpush("x", f'{{"i":{i},"t":{time.time()}}}'), "lpush", fresh),
        ("Queue.add (add.lua)", lambda i: queue.add("t", {"i": i, "t": time.time()}), "evalsha", fresh),
        ("claim of one job (claim.lua)", claim, "evalsha", filled),
    ]
    print(f"{'call':32} {'server hot':>11} {'caller hot':>11} {'server idle':>12} {'caller idle':>12}   (µs per call)")
    for name, call, command, reset in lines:
        hot = _measure(client, call, command, args.calls, 0.0, reset)
        idle = _measure(client, call, command, args.paced, 0.01, reset)
        print(f"{name:32} {hot[0]:11.1f} {hot[1]:11.1f} {idle[0]:12.1f} {idle[1]:12.1f}")

    # bulk: the caller's whole time, and the part Redis spent running the script
    runs = []
    for _ in range(3):
        fresh()
        client.config_resetstat()
        items = [("t", {"i": i, "t": time.time()}) for i in range(args.bulk)]
        t = time.perf_counter()
        queue.add_bulk(items)
        wall = (time.perf_counter() - t) / args.bulk * 1e6
        server = client.info("commandstats")["cmdstat_evalsha"]["usec"] / args.bulk
        runs.append((wall, server))
    wall = statistics.median(r[0] for r in runs)
    server = statistics.median(r[1] for r in runs)
    print(f"\nadd_bulk of {args.bulk:,} jobs (median of 3): {wall:.1f} µs per job in all = {server:.1f} in Redis "
          f"(enqueue.lua) + {wall - server:.1f} in Python and on the wire; {1e6 / wall:,.0f} jobs/s")
    client.flushdb()
    queue.close()


if __name__ == "__main__":
    main()
