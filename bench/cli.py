"""``python -m bench``: run the workloads for each selected system, print a table, write JSON/PNG."""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

import redis

from bench.common import (BENCH_DIR, ROOT, WorkerFailed, base_url, median, percentile, run_worker)
from bench.systems import ALL, adapter_class
from bench.systems.base import Unsupported

WORKLOADS = ["enqueue", "enqueue_bulk", "drain", "latency", "memory"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--jobs", "-n", type=int, default=20000, help="jobs per workload (default 20000)")
    p.add_argument("--systems", default=",".join(ALL),
                   help=f"comma-separated subset of: {','.join(ALL)} (default: all)")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help=f"comma-separated subset of: {','.join(WORKLOADS)}")
    p.add_argument("--runs", type=int, default=3, help="runs per configuration; medians reported (default 3)")
    p.add_argument("--concurrency", default="1,10", help="drain concurrencies (default 1,10)")
    p.add_argument("--latency-jobs", type=int, default=1000, help="jobs in the paced latency run (default 1000)")
    p.add_argument("--latency-rate", type=float, default=100.0, help="arrival rate, jobs/s (default 100)")
    p.add_argument("--no-caps", action="store_true",
                   help="drain the full N for slow configurations too (default: capped, see README)")
    p.add_argument("--json", dest="json_path", help="write the rows as JSON to this file")
    p.add_argument("--chart", help="draw a PNG chart (matplotlib) to this file")
    p.add_argument("--log-dir", default=str(BENCH_DIR / "results" / "logs"), help="worker logs")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    return p.parse_args(argv)


def log(msg, quiet=False):
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- planning
def plan(adapter, workloads, n, concurrencies, args):
    """List of (workload, concurrency, variant, jobs) for one system."""
    out = []
    for w in workloads:
        if w == "enqueue":
            for v in adapter.enqueue_variants:
                out.append((w, 1, v, n))
        elif w == "enqueue_bulk":
            if adapter.has_bulk:
                out.append((w, None, "", n))
        elif w == "drain":
            for c in concurrencies:
                if c not in adapter.drain_concurrencies:
                    continue
                jobs = n if args.no_caps else min(n, adapter.drain_caps.get(c, n))
                for v in adapter.drain_variants:
                    out.append((w, c, v, jobs))
        elif w == "latency":
            for v in adapter.latency_variants:
                out.append((w, adapter.latency_concurrency, v, args.latency_jobs))
        elif w == "memory":
            out.append((w, None, "", n))
    return out


def schedule(adapters, plans, run):
    """Workload-major order: every system does one configuration back to back, so systems are
    compared a few seconds apart rather than minutes (the load of a shared machine drifts);
    the system order rotates from run to run so that no system always goes first."""
    k = (run - 1) % max(1, len(adapters))
    order = adapters[k:] + adapters[:k]
    slots = []
    for a in order:
        for item in plans[a.name]:
            workload, c = item[0], item[1]
            slots.append(((WORKLOADS.index(workload), c or 0), a, item))
    slots.sort(key=lambda x: x[0])  # stable: keeps the rotated system order within a slot
    return [(a, item) for _, a, item in slots]


# --------------------------------------------------------------------------- measuring
def used_memory(client) -> int:
    return int(client.info("memory")["used_memory"])


def keyspace_bytes(client) -> int:
    total = 0
    pipe = client.pipeline(transaction=False)
    for key in client.scan_iter(count=1000):
        pipe.memory_usage(key, samples=0)
        if len(pipe) >= 1000:
            total += sum(x or 0 for x in pipe.execute())
    total += sum(x or 0 for x in pipe.execute())
    return total


def measure(adapter, workload, c, variant, jobs, args, log_dir: Path) -> dict:
    adapter.flush()
    if workload == "enqueue":
        secs = adapter.enqueue_variant(jobs, variant)
        return {"jobs_per_s": jobs / secs}
    if workload == "enqueue_bulk":
        secs = adapter.enqueue_bulk(jobs)
        return {"jobs_per_s": jobs / secs}
    if workload == "memory":
        warm = 10
        adapter.fill(warm)  # creates queue-level structures, loads scripts
        before = used_memory(adapter.client)
        adapter.fill(jobs)
        after = used_memory(adapter.client)
        keys = keyspace_bytes(adapter.client)
        return {"bytes_per_job": (after - before) / jobs, "bytes_per_job_keys": keys / (jobs + warm)}
    env = {"BENCH_URL": adapter.url, "BENCH_MODE": workload, "BENCH_N": jobs}
    argv = adapter.worker_argv(workload, c, variant)
    log_path = log_dir / f"{adapter.row_system(variant)}-{workload}-c{c}.log"
    if workload == "drain":
        adapter.fill_for(jobs, c)
        res = run_worker(argv, env, adapter.client, timeout=jobs / 20 + 60, log_path=log_path)
        return {"jobs_per_s": jobs / (res["end"] - res["start"])}
    if workload == "latency":
        def produce():
            time.sleep(0.5)  # let the worker reach its idle wait
            adapter.produce_paced(jobs, args.latency_rate)
        res = run_worker(argv, env, adapter.client, timeout=60, log_path=log_path, on_ready=produce)
        lat = res["lat"]
        return {"p50_ms": percentile(lat, 50) * 1000, "p99_ms": percentile(lat, 99) * 1000}
    raise ValueError(workload)


# --------------------------------------------------------------------------- reporting
def aggregate(samples, meta):
    rows = []
    for key, info in samples.items():
        system, workload, c = key
        ok = [s for s in info["samples"] if "error" not in s]
        row = {
            "system": system, "workload": workload, "concurrency": c,
            "jobs_per_s": None, "p50_ms": None, "p99_ms": None, "bytes_per_job": None,
            "kind": info["kind"], "version": info["version"], "variant": info["variant"],
            "jobs": info["jobs"], "runs": len(ok),
        }
        for field in ("jobs_per_s", "p50_ms", "p99_ms", "bytes_per_job", "bytes_per_job_keys"):
            vals = [s[field] for s in ok if s.get(field) is not None]
            if vals:
                row[field] = round(median(vals), 3)
                if len(vals) > 1:
                    row[field + "_min"] = round(min(vals), 3)
                    row[field + "_max"] = round(max(vals), 3)
                    # run by run (None where a run failed): the machine's speed drifts between runs, so two
                    # systems are best compared within each run (see per_run_ratios)
                    row[field + "_runs"] = [None if s.get(field) is None else round(s[field], 3)
                                            for s in info["samples"]]
        errors = [s["error"] for s in info["samples"] if "error" in s]
        if errors:
            row["errors"] = errors
        rows.append(row)
    order = {w: i for i, w in enumerate(WORKLOADS)}
    rows.sort(key=lambda r: (order[r["workload"]], r["concurrency"] or 0, _sort_metric(r)))
    add_ratios(rows)
    return rows


def _sort_metric(r):
    if r["jobs_per_s"] is not None:
        return -r["jobs_per_s"]
    if r["p50_ms"] is not None:
        return r["p50_ms"]
    if r["bytes_per_job"] is not None:
        return r["bytes_per_job"]
    return float("inf")


def _group(r):
    # latency rows are compared together whatever the worker concurrency (arq uses 10)
    return (r["workload"], None if r["workload"] == "latency" else r["concurrency"])


METRICS = {"enqueue": ["jobs_per_s"], "enqueue_bulk": ["jobs_per_s"], "drain": ["jobs_per_s"],
           "latency": ["p50_ms", "p99_ms"], "memory": ["bytes_per_job"]}


def _best(vals, metric):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return max(vals) if metric == "jobs_per_s" else min(vals)


def _p50(row: dict) -> float:
    return row["p50_ms"] if row["p50_ms"] is not None else float("inf")


def per_run_ratios(a: dict, b: dict, field: str) -> list[float]:
    """a's value over b's, run by run (runs where either failed are left out): the ratio within one run, where both
    met the same machine, is steadier than the ratio of medians taken from different runs."""
    xs, ys = a.get(field + "_runs") or [], b.get(field + "_runs") or []
    return [x / y for x, y in zip(xs, ys) if x is not None and y]


def add_ratios(rows):
    """Each row gets vs_best_peer: {metric: queuekit value / best peer value} for its group.

    On queuekit rows the numerator is that row; on other rows it is queuekit's best row.
    jobs/s: > 1 means queuekit is faster. ms and bytes: < 1 means queuekit is lower (better).
    """
    groups = {}
    for r in rows:
        groups.setdefault(_group(r), []).append(r)
    for g_rows in groups.values():
        metrics = METRICS[g_rows[0]["workload"]]
        peers = [r for r in g_rows if r["kind"] == "peer"]
        qk = [r for r in g_rows if r["kind"] == "queuekit"]
        for r in g_rows:
            ratios = {}
            for m in metrics:
                best_peer = _best([p[m] for p in peers], m)
                num = r[m] if r["kind"] == "queuekit" else _best([q[m] for q in qk], m)
                if best_peer and num is not None:
                    ratios[m] = round(num / best_peer, 3)
            r["vs_best_peer"] = ratios or None


def fmt_num(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def format_table(rows) -> str:
    head = ["system", "workload", "c", "jobs", "jobs/s", "p50 ms", "p99 ms", "bytes/job", "qk / best peer", "settings"]
    lines = []
    for r in rows:
        ratio = r.get("vs_best_peer") or {}
        rtxt = " ".join(
            f"{'' if k == 'jobs_per_s' else k.split('_')[0] + ' '}{v:.2f}x" for k, v in ratio.items())
        jps = fmt_num(r["jobs_per_s"])
        if r.get("jobs_per_s_min") is not None:
            jps += f" ({fmt_num(r['jobs_per_s_min'])}-{fmt_num(r['jobs_per_s_max'])})"
        if r.get("errors") and r["runs"] == 0:
            jps = "FAILED"
        lines.append([
            r["system"], r["workload"], "-" if r["concurrency"] is None else str(r["concurrency"]),
            fmt_num(r["jobs"]), jps, fmt_num(r["p50_ms"], 2), fmt_num(r["p99_ms"], 2),
            fmt_num(r["bytes_per_job"]), rtxt or "-", r.get("variant") or "",
        ])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    right = {2, 3, 4, 5, 6, 7}
    out = []

    def fmt(cells):
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    out.append(fmt(head))
    out.append("  ".join("-" * w for w in widths))
    prev = None
    for r, cells in zip(rows, lines):
        g = _group(r)
        if prev is not None and g != prev:
            out.append("")
        prev = g
        out.append(fmt(cells))
    out.append("")
    out.append("qk / best peer: queuekit's value divided by the best peer's in that workload "
               "(jobs/s: >1 = queuekit faster; p50/p99 ms and bytes: <1 = queuekit lower). "
               "jobs/s shows median (min-max).")
    return "\n".join(out)


def check_targets(rows) -> list[dict]:
    """Issue 6's targets, judged on this run's medians (queuekit's best variant per workload)."""
    def pick(workload, kind, conc=None):
        return [r for r in rows if r["workload"] == workload and r["kind"] == kind
                and (conc is None or r["concurrency"] == conc)]

    out = []

    def add(name, ok, detail):
        out.append({"target": name, "met": ok, "detail": detail})

    def best(rs, m):
        return _best([r[m] for r in rs], m)

    qk, peers = pick("drain", "queuekit", 10), pick("drain", "peer", 10)
    if qk and peers:
        a, b = best(qk, "jobs_per_s"), best(peers, "jobs_per_s")
        add("drain c=10 ahead of every peer", a is not None and b is not None and a > b,
            f"queuekit {fmt_num(a)}/s vs best peer {fmt_num(b)}/s")
    qk = pick("enqueue_bulk", "queuekit")
    if qk:
        a = best(qk, "jobs_per_s")
        add("bulk enqueue >= 50,000 jobs/s", a is not None and a >= 50000, f"queuekit {fmt_num(a)}/s")
    qk, peers, ceil = pick("enqueue", "queuekit"), pick("enqueue", "peer"), pick("enqueue", "ceiling")
    # the ceiling is the bare redis-py loop, whose client sleeps in its read; redis-py[poll] awaits the reply
    # by polling, as queuekit[poll] (Queue(poll_replies=True)) does, and is judged as a line of its own against it
    bare = [r for r in ceil if "[" not in r["system"]]
    polled = [r for r in ceil if r["system"].endswith("[poll]")]
    top_qk = max(qk, key=lambda r: r["jobs_per_s"] or 0) if qk else None
    if qk and (peers or bare):
        a = best(qk, "jobs_per_s")
        b = best(peers, "jobs_per_s") if peers else None
        c = best(bare, "jobs_per_s") if bare else None
        ok = a is not None and (b is None or a > b) and (c is None or a >= 0.8 * c)
        detail = (f"{top_qk['system']} {fmt_num(a)}/s vs best peer {fmt_num(b)}/s, ceiling {fmt_num(c)}/s"
                  + (f" ({a / c:.0%} of it)" if a and c else ""))
        if bare:
            # the same comparison within each run, for queuekit and for the best peer: shows how much of a miss is
            # the machine drifting between runs, and whether a peer outran the single-round-trip ceiling itself
            top = {top_qk["system"]: top_qk}
            if peers:
                top_peer = max(peers, key=lambda r: r["jobs_per_s"] or 0)
                top[top_peer["system"]] = top_peer
            for name, row in top.items():
                ratios = per_run_ratios(row, bare[0], "jobs_per_s")
                if len(ratios) > 1:
                    detail += f"; {name} per run: " + ", ".join(f"{x:.0%}" for x in ratios) + " of that run's ceiling"
        add("enqueue ahead of every peer and within 20% of the 1-round-trip ceiling", ok, detail)
    # like with like: the polling producer where the run has it (older runs measured only a polling queuekit)
    qk_polled = [r for r in qk if r["system"].endswith("[poll]")] or qk
    if qk_polled and polled:
        top_polled = max(qk_polled, key=lambda r: r["jobs_per_s"] or 0)
        a, c = best(qk_polled, "jobs_per_s"), best(polled, "jobs_per_s")
        ratios = per_run_ratios(top_polled, polled[0], "jobs_per_s")
        add("enqueue within 20% of the polling ceiling (not one of the issue's targets: it compares the producer "
            "that polls, Queue(poll_replies=True))",
            a is not None and c is not None and a >= 0.8 * c,
            f"{top_polled['system']} {fmt_num(a)}/s vs {polled[0]['system']} {fmt_num(c)}/s"
            + (f" ({a / c:.0%} of it)" if a and c else "")
            + (("; per run: " + ", ".join(f"{x:.0%}" for x in ratios)) if len(ratios) > 1 else ""))
    qk, peers = pick("latency", "queuekit"), pick("latency", "peer")
    if qk and peers:
        a50, a99 = best(qk, "p50_ms"), best(qk, "p99_ms")
        b50, b99 = best(peers, "p50_ms"), best(peers, "p99_ms")
        ok = None not in (a50, a99, b50, b99) and a50 < b50 and a99 < b99
        detail = f"queuekit {fmt_num(a50, 2)}/{fmt_num(a99, 2)} ms vs best peer {fmt_num(b50, 2)}/{fmt_num(b99, 2)} ms"
        # run by run for queuekit's and the peers' lowest p50: whether a gap of a few hundredths holds in every run
        for row in (min(qk, key=_p50), min(peers, key=_p50)):
            pairs = [f"{fmt_num(x, 2)}/{fmt_num(y, 2)}" for x, y in
                     zip(row.get("p50_ms_runs") or [], row.get("p99_ms_runs") or []) if x is not None]
            if len(pairs) > 1:
                detail += f"; {row['system']} per run: " + ", ".join(pairs)
        add("latency p50 and p99 below every peer's", ok, detail)
    qk = pick("memory", "queuekit")
    if qk:
        a = best(qk, "bytes_per_job")
        add("memory <= 500 bytes per waiting job", a is not None and a <= 500, f"queuekit {fmt_num(a)} bytes/job")
    return out


def format_targets(targets) -> str:
    if not targets:
        return ""
    lines = ["targets (issue 6), this run:"]
    for t in targets:
        lines.append(f"  [{'met' if t['met'] else 'MISSED'}] {t['target']}: {t['detail']}")
    return "\n".join(lines)


def _loadavg():
    try:
        import os
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def environment(url, queuekit: dict) -> dict:
    """The run's setting; ``queuekit``: what :func:`queuekit_under_test` found when the run started."""
    meta = {"date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "platform": platform.platform()}
    try:
        import redis as _r
        meta["redis_py"] = _r.__version__
    except Exception:  # noqa: BLE001
        pass
    try:
        import hiredis  # noqa: F401
        meta["hiredis"] = True
    except ImportError:
        meta["hiredis"] = False
    try:
        meta["redis_server"] = redis.Redis.from_url(url).info("server")["redis_version"]
    except Exception:  # noqa: BLE001
        pass
    meta["queuekit"] = queuekit
    if shutil.which("node"):
        meta["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    try:
        import os
        meta["cpus"] = os.cpu_count()
    except Exception:  # noqa: BLE001
        pass
    return meta


def queuekit_under_test() -> dict:
    """Which queuekit this run measures: the checkout it was imported from and that checkout's commit.

    The harness and its worker processes import the queuekit next to ``bench/`` (``python -m`` puts the current
    directory first, and the workers get ``ROOT`` first on their path), so another version is measured by running
    ``python -m bench`` from a checkout of it, not by putting it on ``PYTHONPATH``; this record shows which it was.
    """
    try:
        import queuekit
    except Exception as e:  # noqa: BLE001
        return {"error": f"{type(e).__name__}: {e}"}
    where = Path(queuekit.__file__).resolve().parent.parent
    out: dict = {"path": str(where), "same_as_workers": where == ROOT}
    try:
        git = ["git", "-C", str(where)]
        out["commit"] = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                       timeout=10).stdout.strip() or None
        out["dirty"] = bool(subprocess.run(git + ["status", "--porcelain", "--", "queuekit"], capture_output=True,
                                           text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def describe(a, workload, c, variant):
    if workload == "memory" and a.kind != "ceiling":
        via = a.describe("enqueue_bulk" if a.has_bulk else "enqueue", None, "")
        return f"waiting jobs, enqueued with {via}" if via else "waiting jobs"
    return a.describe(workload, c, variant)


# --------------------------------------------------------------------------- main
def _write_json(path, doc):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)


def _sigterm(signum, frame):
    raise KeyboardInterrupt  # unwinds through run_worker's finally: the worker is stopped too


def main(argv=None) -> int:
    import signal
    signal.signal(signal.SIGTERM, _sigterm)
    args = parse_args(argv)
    q = args.quiet
    url = base_url()
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    bad = [s for s in systems if s not in ALL] + [w for w in workloads if w not in WORKLOADS]
    if bad:
        print(f"unknown system/workload: {', '.join(bad)}", file=sys.stderr)
        return 2
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as e:  # noqa: BLE001
        print(f"cannot reach Redis at {url}: {e}", file=sys.stderr)
        return 2

    if any(s in ("bullmq", "bee-queue") for s in systems):
        from bench.systems.node import ensure_node_modules
        ensure_node_modules(lambda m: log(m))

    adapters, skipped = [], {}
    for s in systems:
        a = adapter_class(s)(url)
        why = a.unavailable()
        if why:
            skipped[s] = why
            log(f"note: {s} skipped: {why}")
            a.close()
        else:
            adapters.append(a)

    qk = queuekit_under_test()
    dirty = " (uncommitted changes)" if qk.get("dirty") else ""
    log(f"queuekit under test: {qk.get('path')} at {qk.get('commit')}{dirty}", q)
    if qk.get("same_as_workers") is False:
        log(f"warning: the worker processes import queuekit from {ROOT}, not from {qk.get('path')}: run "
            f"python -m bench from the checkout to be measured", q)
    log_dir = Path(args.log_dir)
    samples = {}
    plans = {a.name: plan(a, workloads, args.jobs, concurrencies, args) for a in adapters}
    t_start = time.time()
    load_start = _loadavg()
    for run in range(1, args.runs + 1):
        for a, (workload, c, variant, jobs) in schedule(adapters, plans, run):
            if True:
                key = (a.row_system(variant), workload, c)
                entry = samples.setdefault(key, {
                    "kind": "peer" if a.kind in ("python", "node") else a.kind,
                    "version": a.version(), "variant": describe(a, workload, c, variant),
                    "jobs": jobs, "samples": []})
                label = f"[run {run}/{args.runs}] {key[0]} {workload}" + (f" c={c}" if c else "")
                try:
                    s = measure(a, workload, c, variant, jobs, args, log_dir)
                except Unsupported:
                    samples.pop(key, None)
                    continue
                except (WorkerFailed, Exception) as e:  # noqa: BLE001 - report and go on
                    s = {"error": f"{type(e).__name__}: {e}"}
                    log(f"{label}: ERROR {s['error']}", q)
                    if not isinstance(e, WorkerFailed):
                        log(traceback.format_exc(), q)
                else:
                    log(f"{label}: " + ", ".join(f"{k}={v:,.2f}" for k, v in s.items()), q)
                entry["samples"].append(s)
                try:
                    a.flush()
                except Exception:  # noqa: BLE001
                    pass
        if args.json_path and run < args.runs:  # partial results survive an interrupted run
            partial = aggregate(samples, {})
            _write_json(args.json_path, {"rows": partial, "targets": check_targets(partial),
                                         "meta": {"partial": True, "runs_done": run, "jobs": args.jobs}})
    for a in adapters:
        a.close()

    meta = environment(url, qk)
    meta.update({"jobs": args.jobs, "runs": args.runs, "latency_jobs": args.latency_jobs,
                 "latency_rate": args.latency_rate, "skipped": skipped,
                 "elapsed_s": round(time.time() - t_start, 1),
                 "loadavg_start": load_start, "loadavg_end": _loadavg()})
    rows = aggregate(samples, meta)
    print(format_table(rows))
    targets = check_targets(rows)
    if targets:
        print("\n" + format_targets(targets))
    print(f"\nload average (1/5/15 min) at start {meta['loadavg_start']}, at end {meta['loadavg_end']} "
          f"on {meta.get('cpus', '?')} CPUs; elapsed {meta['elapsed_s']} s")
    if skipped:
        print("\nskipped: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()))
    if args.json_path:
        _write_json(args.json_path, {"rows": rows, "targets": targets, "meta": meta})
        log(f"wrote {args.json_path}", q)
    if args.chart:
        from bench.chart import draw
        draw(rows, args.chart, meta)
        log(f"wrote {args.chart}", q)
    return 0
