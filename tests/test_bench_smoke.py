"""Smoke test of the benchmark harness (bench/): tiny N, one run, JSON shape.

Runs the bare redis-py ceiling rows plus queuekit and the Python peers that happen to be
importable (huey, rq; the bench extra is not required), never the Node peers. Uses the
real Redis (REDIS_URL or 127.0.0.1:6379), databases 8-15 only. Benchmarks proper never run
in CI: this only checks that the harness works end to end.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"

pytestmark = [pytest.mark.realredis, pytest.mark.timeout(120)]


def _redis_ok() -> bool:
    try:
        import redis
        redis.Redis.from_url(URL, socket_connect_timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


def _queuekit_ready() -> bool:
    try:
        from queuekit import Queue, Worker  # noqa: F401
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.skipif(not _redis_ok(), reason=f"no Redis at {URL}")
def test_bench_smoke(tmp_path):
    systems = ["redis-py"]
    if _queuekit_ready():
        systems.append("queuekit")
    systems += [s for s in ("huey", "rq") if importlib.util.find_spec(s) is not None]
    out = tmp_path / "bench.json"
    chart = tmp_path / "bench.png"
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--jobs", "200", "--runs", "1", "--concurrency", "1",
         "--latency-jobs", "20", "--latency-rate", "200", "--systems", ",".join(systems),
         "--json", str(out), "--chart", str(chart), "--log-dir", str(tmp_path / "logs"), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=110)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "qk / best peer" in proc.stdout

    doc = json.loads(out.read_text())
    rows = doc["rows"]
    assert isinstance(rows, list) and rows
    keys = {"system", "workload", "concurrency", "jobs_per_s", "p50_ms", "p99_ms", "bytes_per_job"}
    for r in rows:
        assert keys <= set(r), r
        assert r["workload"] in {"enqueue", "enqueue_bulk", "drain", "latency", "memory"}
        assert not r.get("errors"), r
    got = {(r["system"], r["workload"]) for r in rows}
    for w in ("enqueue", "enqueue_bulk", "drain", "latency", "memory"):
        assert ("redis-py", w) in got
    by = {(r["system"], r["workload"]): r for r in rows}
    assert by[("redis-py", "enqueue")]["jobs_per_s"] > 0
    assert by[("redis-py", "enqueue_bulk")]["jobs_per_s"] > 0
    assert by[("redis-py", "drain")]["jobs_per_s"] > 0
    assert 0 < by[("redis-py", "latency")]["p50_ms"] <= by[("redis-py", "latency")]["p99_ms"]
    assert by[("redis-py", "memory")]["bytes_per_job"] is not None
    for s in systems[1:]:
        name = "queuekit" if s == "queuekit" else s
        assert (name, "drain") in got and (name, "enqueue") in got
    if "queuekit" in systems:
        # enqueue is reported both ways: the default producer, and the one that polls for its replies (opt-in)
        assert by[("queuekit", "enqueue")]["variant"] == "Queue.add"
        assert by[("queuekit[poll]", "enqueue")]["variant"] == "Queue(poll_replies=True).add"
        assert by[("queuekit", "enqueue")]["jobs_per_s"] > 0 and by[("queuekit[poll]", "enqueue")]["jobs_per_s"] > 0
    assert chart.exists() and chart.stat().st_size > 1000
    assert elapsed < 60, f"smoke run took {elapsed:.1f}s"
    # the run records which queuekit it measured: this checkout, the one its worker processes import too
    measured = doc["meta"]["queuekit"]
    assert Path(measured["path"]) == ROOT and measured["same_as_workers"] is True, measured


@pytest.mark.skipif(not _redis_ok(), reason=f"no Redis at {URL}")
def test_anatomy_smoke(monkeypatch):
    # When the anatomy tool runs with tiny counts
    proc = subprocess.run([sys.executable, "-m", "bench.anatomy", "--calls", "20", "--paced", "5", "--bulk", "200",
                           "--rounds", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # Then it prints a server and a caller time, back to back and idle, for each call it measures
    names = ["LPUSH", "Queue.add (add.lua)", "Queue.add, poll_replies=True", "add.lua's request, no-op script", "add.lua, bare EVALSHA",
             "claim of one job"]
    # (bee-queue's add script is compared too, when bench/node's npm packages are there to read it from)
    monkeypatch.syspath_prepend(str(ROOT))  # bench/ is a folder of the repository, not an installed package
    from bench.anatomy import BEE_ADD
    if BEE_ADD.exists():
        names.append("bee-queue addJob.lua, from redis-py")
    else:
        assert "for the bee-queue line" in proc.stdout
    for name in names:
        line = next(line for line in proc.stdout.splitlines() if line.startswith(name))
        figures = [float(x) for x in line.split()[-4:]]
        assert all(f > 0 for f in figures), line
    # And queuekit's own Python in an add, the round trip left out
    own = next(line for line in proc.stdout.splitlines() if line.startswith("Queue.add with the round trip left out"))
    assert float(own.split(": ")[1].split()[0]) > 0, own
    # And the bulk add, split into Redis and Python time
    assert "add_bulk of 200 jobs" in proc.stdout and "in Redis (enqueue.lua)" in proc.stdout


def test_a_run_says_when_it_would_measure_another_queuekit_than_its_workers(tmp_path):
    # Given a queuekit other than this checkout's, first on the path of the process that runs the harness
    other = tmp_path / "other"
    (other / "queuekit").mkdir(parents=True)
    (other / "queuekit" / "__init__.py").write_text("")
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import queuekit; sys.path.insert(0, sys.argv[2]); "
            "from bench.cli import queuekit_under_test; print(json.dumps(queuekit_under_test()))")

    # When the harness records what it measures
    proc = subprocess.run([sys.executable, "-c", code, str(other), str(ROOT)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    measured = json.loads(proc.stdout)

    # Then it names that other checkout and says the worker processes would not import it
    assert Path(measured["path"]) == other.resolve()
    assert measured["same_as_workers"] is False


def test_the_enqueue_verdict_also_compares_each_run_with_its_own_ceiling(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # bench/ is a folder of the repository, not an installed package
    from bench.cli import aggregate, check_targets

    # Given three runs on a machine whose speed drifted (run 2 was slow for everyone) and a peer that failed once
    def entry(kind, values):
        return {"kind": kind, "version": "test", "variant": "", "jobs": 100,
                "samples": [{"error": "boom"} if v is None else {"jobs_per_s": v} for v in values]}

    samples = {("redis-py", "enqueue", 1): entry("ceiling", [100.0, 50.0, 80.0]),
               ("queuekit", "enqueue", 1): entry("queuekit", [90.0, 40.0, 60.0]),
               ("bee-queue", "enqueue", 1): entry("peer", [120.0, 45.0, None])}

    # When the rows are aggregated
    rows = {r["system"]: r for r in aggregate(samples, {})}

    # Then each row keeps its runs in order, with None where a run failed
    assert rows["queuekit"]["jobs_per_s_runs"] == [90.0, 40.0, 60.0]
    assert rows["bee-queue"]["jobs_per_s_runs"] == [120.0, 45.0, None]

    # And the verdict is still judged on medians (queuekit 60 of a ceiling of 80 = 75%: missed)...
    verdict = next(t for t in check_targets(list(rows.values())) if t["target"].startswith("enqueue"))
    assert verdict["met"] is False
    assert "(75% of it)" in verdict["detail"]
    # ...and shows the same ratio run by run, for queuekit and for the best peer (failed runs left out)
    assert "queuekit per run: 90%, 80%, 75% of that run's ceiling" in verdict["detail"]
    assert "bee-queue per run: 120%, 90% of that run's ceiling" in verdict["detail"]



def test_queuekit_is_judged_against_the_polling_ceiling_on_a_line_of_its_own(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from bench.cli import aggregate, check_targets

    # Given a run where the polling ceiling (how queuekit's producer waits) is far above the bare, sleeping one
    def entry(kind, value):
        return {"kind": kind, "version": "test", "variant": "", "jobs": 100, "samples": [{"jobs_per_s": value}]}

    samples = {("redis-py", "enqueue", 1): entry("ceiling", 100.0),
               ("redis-py[poll]", "enqueue", 1): entry("ceiling", 200.0),
               ("queuekit", "enqueue", 1): entry("queuekit", 150.0),
               ("bee-queue", "enqueue", 1): entry("peer", 110.0)}

    def verdicts():
        targets = check_targets(aggregate(samples, {}))
        return {t["target"].split(" (")[0]: t for t in targets if t["target"].startswith("enqueue")}

    # When the targets are judged
    issue, polling = (verdicts()[name] for name in ("enqueue ahead of every peer and within 20% of the "
                                                    "1-round-trip ceiling", "enqueue within 20% of the polling ceiling"))

    # Then the issue's target is judged against the bare loop (met: ahead of the peer, 150% of it)...
    assert issue["met"] is True and "ceiling 100/s (150% of it)" in issue["detail"]
    # ...and the polling ceiling's line says queuekit is 75% of that one: missed
    assert polling["met"] is False and "redis-py[poll] 200/s (75% of it)" in polling["detail"]

    # And at 170/s (85% of the polling ceiling) that line is met too
    samples[("queuekit", "enqueue", 1)] = entry("queuekit", 170.0)
    assert verdicts()["enqueue within 20% of the polling ceiling"]["met"] is True

def test_the_polling_ceiling_is_compared_with_the_producer_that_polls_when_the_run_has_it(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from bench.cli import aggregate, check_targets

    # Given a run with both producers: the default one, which blocks for its replies, faster here than the one that
    # polls (Queue(poll_replies=True))
    def entry(kind, value):
        return {"kind": kind, "version": "test", "variant": "", "jobs": 100, "samples": [{"jobs_per_s": value}]}

    samples = {("redis-py", "enqueue", 1): entry("ceiling", 100.0),
               ("redis-py[poll]", "enqueue", 1): entry("ceiling", 200.0),
               ("queuekit", "enqueue", 1): entry("queuekit", 190.0),
               ("queuekit[poll]", "enqueue", 1): entry("queuekit", 150.0)}

    # When the targets are judged
    targets = {t["target"].split(" (")[0]: t for t in check_targets(aggregate(samples, {}))}

    # Then the polling ceiling's line judges the polling producer (75% of it: missed), not the faster default one
    polling = targets["enqueue within 20% of the polling ceiling"]
    assert polling["met"] is False and polling["detail"].startswith("queuekit[poll] 150/s vs redis-py[poll] 200/s")
    # ...and the bare ceiling's line names the row it judged, queuekit's best
    bare = targets["enqueue ahead of every peer and within 20% of the 1-round-trip ceiling"]
    assert bare["detail"].startswith("queuekit 190/s")


def test_the_latency_verdict_shows_each_run_of_the_two_lowest_p50s(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from bench.cli import aggregate, check_targets

    # Given three latency runs of queuekit (two variants) and two peers
    def entry(kind, values):
        return {"kind": kind, "version": "test", "variant": "", "jobs": 100,
                "samples": [{"p50_ms": p50, "p99_ms": p99} for p50, p99 in values]}

    samples = {("queuekit", "latency", 1): entry("queuekit", [(0.9, 2.0), (0.95, 2.5), (1.0, 2.2)]),
               ("queuekit[async]", "latency", 1): entry("queuekit", [(0.70, 1.49), (0.73, 1.27), (0.76, 1.17)]),
               ("huey", "latency", 1): entry("peer", [(0.66, 1.59), (0.67, 3.25), (0.54, 0.85)]),
               ("bee-queue", "latency", 1): entry("peer", [(1.44, 34.0), (0.82, 24.1), (0.80, 3.7)])}

    # When the target is judged
    verdict = next(t for t in check_targets(aggregate(samples, {})) if t["target"].startswith("latency"))

    # Then it is missed on the medians (0.73 against Huey's 0.66)...
    assert verdict["met"] is False
    assert "queuekit 0.73/1.27 ms vs best peer 0.66/1.59 ms" in verdict["detail"]
    # ...and the detail gives each run of queuekit's best variant and of the best peer, in run order
    assert "queuekit[async] per run: 0.70/1.49, 0.73/1.27, 0.76/1.17" in verdict["detail"]
    assert "huey per run: 0.66/1.59, 0.67/3.25, 0.54/0.85" in verdict["detail"]
