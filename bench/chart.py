"""PNG chart of the benchmark rows (matplotlib, Agg backend)."""
from __future__ import annotations


def draw(rows, path, meta=None) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("enqueue, one call at a time (jobs/s)", [r for r in rows if r["workload"] == "enqueue"], ["jobs_per_s"]),
        ("bulk enqueue (jobs/s)", [r for r in rows if r["workload"] == "enqueue_bulk"], ["jobs_per_s"]),
        ("drain, one worker, c=1 (jobs/s)",
         [r for r in rows if r["workload"] == "drain" and r["concurrency"] == 1], ["jobs_per_s"]),
        ("drain, one worker, c=10 (jobs/s)",
         [r for r in rows if r["workload"] == "drain" and r["concurrency"] == 10], ["jobs_per_s"]),
        ("enqueue-to-start latency (ms, lower is better)",
         [r for r in rows if r["workload"] == "latency"], ["p50_ms", "p99_ms"]),
        ("Redis memory per waiting job (bytes, lower is better)",
         [r for r in rows if r["workload"] == "memory"], ["bytes_per_job"]),
    ]
    fig, axes = plt.subplots(3, 2, figsize=(13, 13))
    colors = {"queuekit": "#d62728", "peer": "#1f77b4", "ceiling": "#7f7f7f"}
    for ax, (title, rs, metrics) in zip(axes.flat, panels):
        ax.set_title(title, fontsize=10)
        rs = [r for r in rs if any(r.get(m) is not None for m in metrics)]
        if not rs:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        labels = [r["system"] for r in rs]
        height = 0.8 / len(metrics)
        for k, m in enumerate(metrics):
            ys = [i + (k - (len(metrics) - 1) / 2) * height for i in range(len(rs))]
            vals = [r.get(m) or 0 for r in rs]
            if "p50_ms" in metrics:
                vals = [max(v, 0.01) for v in vals]
            cols = [colors.get(r["kind"], "#1f77b4") for r in rs]
            bars = ax.barh(ys, vals, height=height * 0.95, color=cols, alpha=1.0 if k == 0 else 0.55)
            for b, v in zip(bars, vals):
                txt = f"{v:,.0f}" if m in ("jobs_per_s", "bytes_per_job") else f"{v:.2f}"
                if len(metrics) > 1:
                    txt = f"{m.split('_')[0]} {txt}"
                ax.text(b.get_width(), b.get_y() + b.get_height() / 2, " " + txt, va="center", fontsize=7)
        if "p50_ms" in metrics:
            ax.set_xscale("log")  # a backlogged worker (seconds) would flatten everyone else
            ax.set_title(title.replace("lower is better", "log scale, lower is better"), fontsize=10)
        ax.set_yticks(range(len(rs)))
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        ax.margins(x=0.25)
        ax.tick_params(axis="x", labelsize=7)
    sub = ""
    if meta:
        sub = (f"N={meta.get('jobs'):,} jobs, medians of {meta.get('runs')} runs; Redis {meta.get('redis_server', '?')}, "
               f"Python {meta.get('python', '?')}, redis-py {meta.get('redis_py', '?')}, node {meta.get('node', '-')}, "
               f"{meta.get('cpus', '?')} CPUs. red = queuekit, blue = peers, grey = bare redis-py ceiling")
    fig.suptitle("queuekit vs peers (one Redis, one worker process)\n" + sub, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)
