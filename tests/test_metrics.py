"""Prometheus metrics read from Redis: after a known run, the exporter's figures are the queue's own."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

import queuekit
from queuekit import Queue, Worker
from queuekit.errors import Retry
from queuekit.metrics import TIME_BOUNDS_MS, render


def _families(queue: Queue) -> dict[str, Any]:
    text = render(queue.client).decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def _value(family: Any, sample_name: str, **labels: str) -> float:
    found = [s.value for s in family.samples if s.name == sample_name and all(s.labels.get(k) == v
                                                                             for k, v in labels.items())]
    assert len(found) == 1, (sample_name, labels, family.samples)
    return float(found[0])


def _known_run(queue: Queue) -> None:
    """12 "email" jobs: 9 complete, 3 fail for good; 4 "resize" jobs complete after one retry each."""
    tried: set[str] = set()

    def email(job: Any) -> str:
        if job.data["n"] % 4 == 0:
            raise ValueError("no such mailbox")
        time.sleep(0.02)
        return "sent"

    def resize(job: Any) -> str:
        if job.id not in tried:
            tried.add(job.id)
            raise Retry("busy", delay=0)
        return "done"

    queue.add_bulk([("email", {"n": n}) for n in range(12)])
    queue.add_bulk([{"type": "resize", "data": {"n": n}, "attempts": 2} for n in range(4)])
    Worker(queue, {"email": email, "resize": resize}, concurrency=4).drain(run_delayed=True)


def test_after_a_known_run_the_counters_are_the_queues_counts(queue: Queue) -> None:
    # Given a run whose outcome is known, and two jobs still waiting
    _known_run(queue)
    queue.add("email", {"n": 1})
    queue.add("email", {"n": 2})
    assert queue.counts(type="email") == {"inactive": 2, "active": 0, "delayed": 0, "complete": 9, "failed": 3}

    # When the metrics are scraped and parsed as Prometheus parses them
    families = _families(queue)

    # Then the gauges are queue.counts() by type, the counters are the totals of the run
    jobs = families["queuekit_jobs"]
    for job_type in ("email", "resize"):
        for state, n in queue.counts(type=job_type).items():
            assert _value(jobs, "queuekit_jobs", queue=queue.name, type=job_type, state=state) == n
    completed, failed = families["queuekit_jobs_completed"], families["queuekit_jobs_failed"]
    assert _value(completed, "queuekit_jobs_completed_total", queue=queue.name, type="email") == 9
    assert _value(completed, "queuekit_jobs_completed_total", queue=queue.name, type="resize") == 4
    assert _value(failed, "queuekit_jobs_failed_total", queue=queue.name, type="email") == 3
    retried = families["queuekit_job_attempts_retried"]
    assert _value(retried, "queuekit_job_attempts_retried_total", queue=queue.name, type="resize") == 4

    # ... every attempt that ran is in the run-time histogram (16 first attempts, 4 retries), 9 emails above 20 ms
    run = families["queuekit_job_run_seconds"]
    assert _value(run, "queuekit_job_run_seconds_count", queue=queue.name, type="email") == 12
    assert _value(run, "queuekit_job_run_seconds_count", queue=queue.name, type="resize") == 8
    below_10ms = _value(run, "queuekit_job_run_seconds_bucket", queue=queue.name, type="email", le="0.01")
    assert below_10ms <= 3
    assert _value(run, "queuekit_job_run_seconds_bucket", queue=queue.name, type="email", le="+Inf") == 12
    assert _value(run, "queuekit_job_run_seconds_sum", queue=queue.name, type="email") >= 9 * 0.02
    # ... and each job's first attempt in the wait-time histogram
    wait = families["queuekit_job_wait_seconds"]
    assert _value(wait, "queuekit_job_wait_seconds_count", queue=queue.name, type="email") == 12
    assert _value(wait, "queuekit_job_wait_seconds_count", queue=queue.name, type="resize") == 4

    # ... no worker is live after the drain, and the oldest waiting job is a few moments old
    assert _value(families["queuekit_workers"], "queuekit_workers", queue=queue.name) == 0
    age = _value(families["queuekit_oldest_waiting_seconds"], "queuekit_oldest_waiting_seconds", queue=queue.name)
    assert 0 <= age < 30


def test_the_exporter_and_the_scripts_use_the_same_histogram_bounds() -> None:
    lib = (Path(queuekit.__file__).parent / "lua" / "_lib.lua").read_text()
    bounds = re.search(r"local TIME_BOUNDS = \{([^}]*)\}", lib)
    assert bounds is not None
    assert tuple(int(b) for b in bounds.group(1).split(",")) == TIME_BOUNDS_MS


def test_history_buckets_count_the_minute_and_the_hour(queue: Queue) -> None:
    # Given the known run
    _known_run(queue)

    # Then this minute's and this hour's buckets hold its outcomes (the run may straddle a minute: add both)
    from queuekit.history import history

    minutes = history(queue, "minute", 2)
    hours = history(queue, "hour", 2)
    for buckets in (minutes, hours):
        assert sum(b["completed"] for b in buckets) == 13
        assert sum(b["failed"] for b in buckets) == 3
        assert sum(b["retried"] for b in buckets) == 4
        assert sum(b["runs"] for b in buckets) == 20
    assert all(set(b) >= {"at", "completed", "failed", "retried", "runs", "run_ms"} for b in minutes)
    # ... each expiring: the minute after a day, the hour after a week
    key = queue.keys.minute(str(minutes[-1]["at"] // 60000))
    assert 0 < queue.client.pttl(key) <= 90_000_000


@pytest.mark.parametrize("span", ["day", "", None])
def test_history_refuses_an_unknown_span(queue: Queue, span: Any) -> None:
    from queuekit.errors import ValidationError
    from queuekit.history import history

    with pytest.raises(ValidationError, match="span"):
        history(queue, span, 5)
