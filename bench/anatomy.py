"""``python -m bench.anatomy``: where the time of one queuekit job goes, next to one bare LPUSH.

The benchmark table says how fast; this says why. For one-at-a-time adds, bulk adds and the worker's claim it
separates the time Redis spends running the command (``INFO commandstats``: microseconds per call, measured by
the server itself) from the time the caller waits in all (Python, the socket, the scheduler). Each is measured
twice: back to back (hot caches, the enqueue workload) and one call every 10 ms (an idle machine woken for each
job, as in the latency workload), where the same script costs several times more.

Three lines split an add against bee-queue's, all sent by redis-py on one kept connection so that only the request
and the script differ: add.lua's own request with a script that does nothing (the cost of its 11 keys and 4
arguments), add.lua itself, and bee-queue's ``addJob.lua`` read from ``bench/node/node_modules`` (skipped when the
Node peers are not installed). ``Queue.add`` runs twice: as it is by default, sleeping in the read for its reply,
and with ``Queue(poll_replies=True)``, polling its socket for the reply (queuekit/polling.py); the "CPU hot" column
is the caller's process CPU time per call, which polling raises. A last line runs ``Queue.add`` with the round trip
left out: queuekit's own Python.

The caller's time on a VM is not one figure: waiting for a reply on a virtual CPU that halts costs the wake-up of
that CPU, and whether it halts depends on the hypervisor's recent history, so the same loop can take very different
times from one round to the next. The lines therefore take turns over several rounds and medians are printed, with
each round's back-to-back figure; Redis's own time is the steadier column.

Uses database 9 (queuekit's, flushed before and after) of ``REDIS_URL`` (default ``redis://127.0.0.1:6379``).
Takes about 90 s. Not part of the test suite: figures, not assertions.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from bench.common import DBS, base_url, db_url

QUEUE = "anatomy"
#: bee-queue's script for one add (bench/node's npm packages), compared with add.lua from the same client
BEE_ADD = Path(__file__).parent / "node" / "node_modules" / "bee-queue" / "lib" / "lua" / "addJob.lua"


def _server_us(client: redis.Redis, command: str) -> float:
    stats = client.info("commandstats").get(f"cmdstat_{command}")
    return float(stats["usec_per_call"]) if stats else float("nan")


def _measure(client: redis.Redis, call: Callable[[int], object], command: str, n: int, gap: float,
             reset: Callable[[], None]) -> tuple[float, float, float]:
    """(server µs, caller's µs, caller's CPU µs) per call for n calls, ``gap`` seconds apart (0 = back to back)."""
    reset()
    client.config_resetstat()
    waited = cpu = 0.0
    for i in range(n):
        c, t = time.process_time(), time.perf_counter()
        call(i)
        waited += time.perf_counter() - t
        cpu += time.process_time() - c
        if gap:
            time.sleep(gap)
    return _server_us(client, command), waited / n * 1e6, cpu / n * 1e6


def main(argv: list[str] | None = None) -> None:
    from queuekit import Queue, scripts

    p = argparse.ArgumentParser(prog="python -m bench.anatomy", description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=2000, help="back-to-back calls per line (default 2000)")
    p.add_argument("--paced", type=int, default=300, help="calls one every 10 ms per line (default 300)")
    p.add_argument("--bulk", type=int, default=20000, help="jobs in the bulk add (default 20000)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of the call lines, medians printed (default 3)")
    args = p.parse_args(argv)

    url = db_url(base_url(), DBS["queuekit"])
    client = redis.Redis.from_url(url, decode_responses=True)
    queue = Queue(QUEUE, url=url)
    polling = Queue(QUEUE, url=url, poll_replies=True)  # the opt-in producer that polls for its replies
    keys = queue.keys

    def fresh() -> None:
        client.flushdb()
        queue.add("t", {"warm": True})  # loads the scripts, creates the queue's counters

    def filled() -> None:  # jobs waiting for the claims to take
        fresh()
        queue.add_bulk([("t", {"i": i}) for i in range(max(args.calls, args.paced) + 10)])

    def claim(i: int) -> object:  # what a worker's claim of one job sends
        now = int(time.time() * 1000)
        return scripts.run(client, scripts.claim(keys, "anatomy", ["t"], now=now, want=1, lease_ms=30_000,
                                                 token=f"anatomy:{i}", channel=queue.channel, promote_until=now))

    # one kept connection, as Queue.add's lane, for the lines that compare requests and scripts
    conn = client.connection_pool.make_connection()

    def evalsha(sha: str, script_keys: list[str], script_args: list[Any]) -> object:
        conn.send_command("EVALSHA", sha, len(script_keys), *script_keys, *script_args)
        return conn.read_response()

    add_keys = list(scripts.add_head(keys, "t", queue.channel).keys)
    add_sha = client.script_load(scripts.SOURCES["add"])
    noop_sha = client.script_load("return '1'")

    def add_args(i: int) -> list[Any]:  # what Queue.add sends for a job with the default options
        head = scripts.add_head(keys, "t", queue.channel)
        return [*head.args, *scripts.add_args(int(time.time() * 1000), json.dumps({"i": i, "t": time.time()}))]

    lines = [
        ("LPUSH (the ceiling's call)", lambda i: client.lpush("x", f'{{"i":{i},"t":{time.time()}}}'), "lpush", fresh),
        ("Queue.add (add.lua)", lambda i: queue.add("t", {"i": i, "t": time.time()}), "evalsha", fresh),
        ("Queue.add, poll_replies=True", lambda i: polling.add("t", {"i": i, "t": time.time()}), "evalsha", fresh),
        ("add.lua's request, no-op script", lambda i: evalsha(noop_sha, add_keys, add_args(i)), "evalsha", fresh),
        ("add.lua, bare EVALSHA", lambda i: evalsha(add_sha, add_keys, add_args(i)), "evalsha", fresh),
    ]
    if BEE_ADD.exists():
        bee_sha = client.script_load(BEE_ADD.read_text())
        bee_keys = ["bq:anatomy:id", "bq:anatomy:jobs", "bq:anatomy:waiting"]
        lines.append(("bee-queue addJob.lua, from redis-py",
                      lambda i: evalsha(bee_sha, bee_keys, ["", json.dumps({"data": {"i": i, "t": time.time()}})]),
                      "evalsha", fresh))
    else:
        print(f"(no {BEE_ADD}: run `npm ci` in bench/node for the bee-queue line)")
    lines.append(("claim of one job (claim.lua)", claim, "evalsha", filled))
    print(f"{'call':36} {'server hot':>11} {'caller hot':>11} {'CPU hot':>8} {'server idle':>12} {'caller idle':>12}"
          "   (µs per call)")
    # the lines take turns, round after round, so that a change in the VM's mood falls on all of them alike
    figures: dict[str, list[tuple[float, ...]]] = {name: [] for name, *_ in lines}
    for _ in range(args.rounds):
        for name, call, command, reset in lines:
            hot = _measure(client, call, command, args.calls, 0.0, reset)
            idle = _measure(client, call, command, args.paced, 0.01, reset)
            figures[name].append((*hot, *idle[:2]))
    for name, rounds in figures.items():
        medians = [statistics.median(r[k] for r in rounds) for k in range(5)]
        print(f"{name:36} {medians[0]:11.1f} {medians[1]:11.1f} {medians[2]:8.1f} {medians[3]:12.1f}"
              f" {medians[4]:12.1f}")
    if args.rounds > 1:
        print(f"(medians of {args.rounds} rounds; caller hot per round: "
              + "; ".join(f"{name.split(' (')[0]} " + ", ".join(f"{r[1]:.0f}" for r in rounds)
                          for name, rounds in figures.items()) + ")")
    conn.disconnect()

    # queuekit's own Python in an add: Queue.add with the lane's round trip replaced by a canned reply (the request
    # is still packed: that is queuekit's work too)
    lane = queue._lane
    if lane:
        fresh()
        real = lane.execute_packed
        lane.execute_packed = lambda packed: "1"  # type: ignore[method-assign]
        try:
            t = time.perf_counter()
            for i in range(args.calls):
                queue.add("t", {"i": i, "t": time.time()})
            own = (time.perf_counter() - t) / args.calls * 1e6
        finally:
            lane.execute_packed = real  # type: ignore[method-assign]
        print(f"\nQueue.add with the round trip left out (queuekit's own Python): {own:.1f} µs per call")

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
    polling.close()


if __name__ == "__main__":
    main()
