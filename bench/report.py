"""Re-print a saved run: ``python -m bench.report FILE.json [--markdown]``."""
from __future__ import annotations

import argparse
import json

import re

from bench.cli import (aggregate, check_targets, describe, fmt_num, format_table, format_targets)

LINE = re.compile(r"^\[run (\d+)/(\d+)\] (\S+) (\S+)(?: c=(\d+))?: (.*)$")


def rows_from_log(path, jobs):
    """Rebuild rows from the progress lines of a run (e.g. an interrupted one): its stderr."""
    from bench.common import DEFAULT_URL
    from bench.systems import adapter_class
    adapters, samples, runs = {}, {}, 0
    for line in open(path):
        m = LINE.match(line.strip())
        if not m:
            continue
        run, total, system, workload, c, rest = m.groups()
        runs = max(runs, int(run))
        base, _, variant = system.partition("[")
        variant = variant.rstrip("]")
        if base == "queuekit" and not variant:
            variant = "sync" if workload in ("drain", "latency") else ""
        if base not in adapters:
            adapters[base] = adapter_class(base)(DEFAULT_URL)
        a = adapters[base]
        conc = int(c) if c else None
        if workload == "enqueue":
            conc = 1
        n = jobs
        if workload == "drain":
            n = min(jobs, a.drain_caps.get(conc, jobs))
        elif workload == "latency":
            n = 1000
        key = (system, workload, conc)
        entry = samples.setdefault(key, {"kind": "peer" if a.kind in ("python", "node") else a.kind,
                                         "version": a.version(), "variant": describe(a, workload, conc, variant),
                                         "jobs": n, "samples": []})
        if rest.startswith("ERROR"):
            entry["samples"].append({"error": rest})
            continue
        entry["samples"].append({k: float(v.replace(",", "")) for k, v in
                                 (kv.split("=") for kv in rest.split(", "))})
    return aggregate(samples, {}), runs


def format_markdown(rows) -> str:
    out = ["| system | workload | c | jobs | jobs/s median (min–max) | p50 ms | p99 ms | bytes/job | queuekit / best peer | settings |",
           "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        jps = fmt_num(r["jobs_per_s"])
        if r.get("jobs_per_s_min") is not None:
            jps += f" ({fmt_num(r['jobs_per_s_min'])}–{fmt_num(r['jobs_per_s_max'])})"
        ratio = r.get("vs_best_peer") or {}
        rtxt = " ".join(f"{'' if k == 'jobs_per_s' else k.split('_')[0] + ' '}{v:.2f}×" for k, v in ratio.items())
        name = f"**{r['system']}**" if r["kind"] == "queuekit" else r["system"]
        out.append(f"| {name} | {r['workload']} | {'–' if r['concurrency'] is None else r['concurrency']} | "
                   f"{fmt_num(r['jobs'])} | {jps} | {fmt_num(r['p50_ms'], 2)} | {fmt_num(r['p99_ms'], 2)} | "
                   f"{fmt_num(r['bytes_per_job'])} | {rtxt or '–'} | {r.get('variant') or ''} |")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.report")
    p.add_argument("file", help="a --json file, or with --from-log the stderr of a run")
    p.add_argument("--markdown", action="store_true")
    p.add_argument("--chart", help="redraw the PNG chart from the file")
    p.add_argument("--from-log", action="store_true", help="rebuild from progress lines")
    p.add_argument("--jobs", type=int, default=20000, help="N of that run (with --from-log)")
    p.add_argument("--json", dest="json_path", help="with --from-log: write the rebuilt JSON here")
    args = p.parse_args(argv)
    if args.from_log:
        rows, runs = rows_from_log(args.file, args.jobs)
        doc = {"rows": rows, "targets": check_targets(rows),
               "meta": {"jobs": args.jobs, "runs_seen": runs, "rebuilt_from": args.file}}
        if args.json_path:
            with open(args.json_path, "w") as f:
                json.dump(doc, f, indent=1)
    else:
        with open(args.file) as f:
            doc = json.load(f)
    rows = doc["rows"]
    if args.chart:
        from bench.chart import draw
        draw(rows, args.chart, doc.get("meta"))
    print(format_markdown(rows) if args.markdown else format_table(rows))
    if doc.get("targets"):
        print()
        print(format_targets(doc["targets"]))
    meta = doc.get("meta") or {}
    if meta:
        print("\n" + ", ".join(f"{k}={v}" for k, v in meta.items() if k != "skipped"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
