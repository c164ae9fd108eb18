"""Prometheus metrics of every queue on a server, read from Redis when scraped (``GET /metrics``).

Nothing is kept in the exporter's memory: the counters and histograms are written by the scripts that finish jobs
(finish.lua, sweep.lua: see ``tally`` in ``lua/_lib.lua``) into each queue's stats hash, so every exporter of a
server shows the same figures, and a restart of the exporter loses nothing. A scrape costs a few commands per queue
and per job type, whatever the number of jobs.

Served by the dashboard at ``/metrics``, or alone with ``queuekit metrics --port 9790`` (:func:`serve`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from .job import now_ms
from .keys import QUEUES
from .queue import Queue

__all__ = ["TIME_BOUNDS_MS", "QueueCollector", "registry", "render", "serve"]

#: the upper bounds (ms) of the run and wait time histograms, as lua/_lib.lua's TIME_BOUNDS
TIME_BOUNDS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000)
#: the totals finish.lua and sweep.lua count per job type: stats field prefix -> metric name and help
TOTALS = {
    "completed": ("queuekit_jobs_completed", "Jobs completed"),
    "failed": ("queuekit_jobs_failed", "Jobs failed for good (attempts used up, fatal, or stalled too often)"),
    "retried": ("queuekit_job_attempts_retried", "Failed attempts followed by another attempt"),
}
HISTOGRAMS = {
    "run": ("queuekit_job_run_seconds", "Time a job's attempt ran, from its handler's start to its end"),
    "wait": ("queuekit_job_wait_seconds", "Time a job waited from being added to its first attempt's start"),
}
STATES = ("inactive", "active", "delayed", "complete", "failed")


def _stats(raw: dict[str, str]) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], dict[str, float]]]:
    """A queue's stats hash split into totals ``{(kind, type): n}`` and histogram parts ``{(name, type): {part: n}}``
    (parts: the bucket numbers 1.., "sum", "count")."""
    totals: dict[tuple[str, str], int] = {}
    parts: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for field, value in raw.items():
        kind, _, rest = field.partition(":")
        if kind in TOTALS:
            totals[(kind, rest)] = int(value)
        elif kind in HISTOGRAMS:
            job_type, _, part = rest.rpartition(":")  # a type may hold ":"; the part never does
            parts[(kind, job_type)][part] = float(value)
    return totals, parts


def _buckets(parts: dict[str, float]) -> list[tuple[str, float]]:
    """Prometheus's cumulative buckets (seconds) from the per-bucket counts the scripts keep."""
    out, running = [], 0.0
    for k, bound in enumerate(TIME_BOUNDS_MS, start=1):
        running += parts.get(str(k), 0.0)
        out.append((repr(bound / 1000), running))
    running += parts.get(str(len(TIME_BOUNDS_MS) + 1), 0.0)
    out.append(("+Inf", running))
    return out


def _oldest_waiting_ms(queue: Queue, types: Iterable[str]) -> int | None:
    """When the job that has waited longest was added (ms), over the heads of the waiting lines; None if none."""
    heads = [queue.client.zrange(queue.keys.wait(t), 0, 0) for t in types]
    created = [queue.client.hget(queue.keys.job(str(ids[0])), "created") for ids in heads if ids]
    times = [int(c) for c in created if c]
    return min(times) if times else None


class QueueCollector(Collector):
    """Collects the metrics of every queue listed on ``client``'s server (or of ``names`` only)."""

    def __init__(self, client: redis.Redis, names: Iterable[str] | None = None) -> None:
        self.client = client
        self.names = None if names is None else sorted(names)

    def _queues(self) -> list[Queue]:
        names = self.names if self.names is not None else sorted(str(n) for n in self.client.smembers(QUEUES))
        return [Queue(name, client=self.client, events=False) for name in names]

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("queuekit_jobs", "Jobs by queue, type and state", labels=["queue", "type", "state"])
        workers = GaugeMetricFamily("queuekit_workers", "Live workers", labels=["queue"])
        oldest = GaugeMetricFamily("queuekit_oldest_waiting_seconds", "Age of the job that has waited longest",
                                   labels=["queue"])
        totals = {k: CounterMetricFamily(name, text, labels=["queue", "type"]) for k, (name, text) in TOTALS.items()}
        histograms = {k: HistogramMetricFamily(name, text, labels=["queue", "type"])
                      for k, (name, text) in HISTOGRAMS.items()}
        for queue in self._queues():
            types = queue.types()
            for job_type in types:
                counts = queue.counts(type=job_type)
                for state in STATES:
                    jobs.add_metric([queue.name, job_type, state], counts.get(state, 0))
            workers.add_metric([queue.name], len(queue.workers()))
            since = _oldest_waiting_ms(queue, types)
            oldest.add_metric([queue.name], 0.0 if since is None else max(0, now_ms() - since) / 1000)
            raw = queue.client.hgetall(queue.keys.stats)
            counted, parts = _stats({str(k): str(v) for k, v in raw.items()})
            for (kind, job_type), n in sorted(counted.items()):
                totals[kind].add_metric([queue.name, job_type], n)
            for (name, job_type), part in sorted(parts.items()):
                histograms[name].add_metric([queue.name, job_type], _buckets(part), part.get("sum", 0.0) / 1000)
        yield jobs
        yield workers
        yield oldest
        yield from totals.values()
        yield from histograms.values()


def registry(client: redis.Redis, names: Iterable[str] | None = None) -> CollectorRegistry:
    """A registry holding only queuekit's collector (no process or platform metrics of the exporter itself)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(QueueCollector(client, names))
    return reg


def render(client: redis.Redis, names: Iterable[str] | None = None) -> bytes:
    """The metrics in Prometheus's text format."""
    from prometheus_client import generate_latest

    return generate_latest(registry(client, names))


def serve(client: redis.Redis, port: int = 9790, host: str = "127.0.0.1") -> Any:
    """Serve ``/metrics`` over HTTP in a background thread (prometheus-client's server); returns that server.
    Bound to ``host`` (127.0.0.1 unless told otherwise)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=registry(client))
    return server
