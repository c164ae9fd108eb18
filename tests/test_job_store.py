"""A Job talks to its queue through the JobStore protocol, and carries the lease of the worker running it."""

from __future__ import annotations

import time

from fixtures import wait_until

from queuekit.job import DEFAULT_LEASE_MS, Job, JobStore


def test_the_queue_is_the_job_store(queue) -> None:
    # Every member of the protocol is on Queue (mypy --strict checks their types where a Job is built)
    methods = ["save", "remove", "retry", "report_progress", "append_log", "extend_lease", "load_job",
               "finished_state", "attempt_history", "log_lines", "_where"]
    assert all(callable(getattr(JobStore, name)) and callable(getattr(queue, name)) for name in methods)
    assert isinstance(queue.max_data_bytes, int) and isinstance(queue.backoffs, dict) and queue.events is not None


def test_a_heartbeat_renews_the_lease_of_the_worker_running_the_job(backend, queue, worker) -> None:
    # Given a handler that records its job's lease, renews it by hand, and refreshes the job
    seen: list[tuple] = []

    def handler(job: Job) -> None:
        lease = job.lease_ms
        job.heartbeat()
        deadline = backend.client.zscore(queue.keys.active, job.id)
        job.refresh()
        seen.append((lease, deadline - time.time() * 1000, job.lease_ms))

    # When it runs under a worker with a 5 s lease
    queue.add("t")
    worker({"t": handler}, lease=5)

    # Then the job carried the worker's lease, the heartbeat renewed that lease (not the default), and refresh kept it
    wait_until(lambda: seen, message="the handler ran")
    lease, left_ms, after_refresh = seen[0]
    assert lease == 5000 and after_refresh == 5000
    assert 3000 < left_ms <= 5100


def test_a_job_read_outside_a_worker_has_no_lease_of_its_own(queue) -> None:
    job = queue.add("t")
    assert job.lease_ms is None and queue.get_job(job.id).lease_ms is None
    assert DEFAULT_LEASE_MS == 30_000
    assert "lease_ms" not in repr(job) and "lease_ms" not in job.to_dict()
