"""queuekit on a real Redis Cluster: 3 masters on free loopback ports (no replicas, no persistence), started once
per session and torn down afterwards.

Every key of a queue carries the hash tag ``{name}``, so a queue lives in one slot and each Lua script runs on
one node; different queues spread over the masters. The tests run the core behaviours (enqueue, bulk, custom ids,
claim and complete, retry with backoff, failure, delayed promotion, events over pub/sub, counts, listing, remove,
clean, pause and resume) on queues placed on each master, with a ``redis.cluster.RedisCluster`` client and with
the ``redis+cluster://`` / ``?cluster=true`` URLs, then a multi-process drain through ``queuekit worker``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.cluster

import queuekit.queue
from faults_support import env_int, spawn_cli, stop_process
from queuekit import Queue, Worker, connect
from queuekit.connection import describe_client, is_cluster
from queuekit.errors import JobFailed
from queuekit.keys import QueueKeys

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]


def queue_on_each_master(client: redis.cluster.RedisCluster, prefix: str) -> list[str]:
    """Queue names whose slot sits on each of the 3 masters (so every node runs the scripts)."""
    by_node: dict[str, str] = {}
    k = 0
    while len(by_node) < 3:
        name = f"{prefix}-{k}"
        slot = client.keyslot(QueueKeys(name).active)
        node = client.nodes_manager.get_node_from_slot(slot).name
        by_node.setdefault(node, name)
        k += 1
    return sorted(by_node.values())


@pytest.fixture
def rc(cluster: Cluster) -> Iterator[redis.cluster.RedisCluster]:
    client = cluster.client()
    try:
        yield client
    finally:
        with queuekit.queue._hubs_lock:  # event hubs are cached per process: do not leak them across tests
            hubs = list(queuekit.queue._hubs.values())
            queuekit.queue._hubs.clear()
        for hub in hubs:
            hub.close()
        client.close()


def test_connect_understands_cluster_urls(cluster: Cluster) -> None:
    for url in (cluster.url, f"redis://127.0.0.1:{cluster.ports[1]}/0?cluster=true"):
        client = connect(url)
        try:
            assert is_cluster(client)
            assert client.ping()
            queue = Queue("url-check", client=client)
            assert describe_client(queue.client).startswith("cluster 127.0.0.1:")
            assert is_cluster(queue.sync_client()) and is_cluster(queue.async_client())
        finally:
            client.close()
    queue = Queue("url-check", url=cluster.url)
    assert is_cluster(queue.client) and is_cluster(queue.async_client())


def test_every_key_of_a_queue_is_in_one_slot(rc: redis.cluster.RedisCluster) -> None:
    queue = Queue("one-slot", client=rc)
    queue.obliterate()
    queue.add("a", {"n": 1})
    queue.add("b", {"n": 2}, delay=60_000)
    job = queue.add("a", {"n": 3}, job_id="custom-1")
    job.log("hello")
    Worker(queue, {"a": lambda j: j.data["n"], "b": lambda j: 0}).drain()
    keys = list(rc.scan_iter(match=queue.keys.pattern()))
    assert len(keys) >= 8
    assert {rc.keyslot(k) for k in keys} == {rc.keyslot(queue.keys.active)}
    assert queue.obliterate() == len(keys)


@pytest.mark.parametrize("via", ["client", "url"])
def test_core_behaviours_on_every_master(cluster: Cluster, rc: redis.cluster.RedisCluster, via: str) -> None:
    names = queue_on_each_master(rc, f"core-{via}")
    assert len({rc.nodes_manager.get_node_from_slot(rc.keyslot(QueueKeys(n).active)).name for n in names}) == 3
    for name in names:
        queue = Queue(name, client=rc) if via == "client" else Queue(name, url=cluster.url)
        queue.obliterate()
        check_core(queue)
        queue.obliterate()


def check_core(queue: Queue) -> None:
    seen: list[tuple[str, Any]] = []
    queue.on("job complete", lambda job_id, result: seen.append(("complete", job_id)))
    queue.on("job failed", lambda job_id, error: seen.append(("failed", job_id)))
    queue.on("job promotion", lambda job_id: seen.append(("promotion", job_id)))

    # creating: keyword, fluent, bulk, custom id with de-duplication, validation before writing
    plain = queue.add("double", {"x": 21})
    fluent = queue.create("double", {"x": 5}).priority("high").attempts(2).save()
    bulk = queue.add_bulk([("double", {"x": i}) for i in range(10)])
    first = queue.add("double", {"x": 1}, job_id="only-once")
    again = queue.add("double", {"x": 2}, job_id="only-once")
    assert not first.duplicate and again.duplicate and again.id == "only-once"
    delayed = queue.add("double", {"x": 4}, delay=400)
    flaky = queue.add("flaky", {}, attempts=3, backoff={"type": "fixed", "delay": 50})
    doomed = queue.add("flaky", {"always": True}, attempts=2, backoff=10)
    assert queue.counts() == {"inactive": 15, "active": 0, "delayed": 1, "complete": 0, "failed": 0}
    assert [j.id for j in queue.jobs("inactive", count=2)] == [fluent.id, plain.id]  # priority first
    assert queue.get_job(plain.id).data == {"x": 21} and queue.get_job("no-such-job") is None

    # pause: nothing is claimed; resume: everything runs
    queue.pause()
    assert queue.paused
    attempts: dict[str, int] = {}

    def flaky_handler(job: Any) -> str:
        attempts[job.id] = attempts.get(job.id, 0) + 1
        if job.data.get("always") or attempts[job.id] < 3:
            raise RuntimeError(f"attempt {attempts[job.id]} failed")
        return "third time lucky"

    async def double(job: Any) -> int:
        job.progress(1, 2)
        return job.data["x"] * 2

    worker = Worker(queue, {"double": double, "flaky": flaky_handler}, concurrency=4, lease=5).start()
    try:
        time.sleep(0.3)
        assert queue.counts()["active"] == 0 and queue.counts()["complete"] == 0
        queue.resume()
        assert plain.wait(10) == 42
        assert delayed.wait(10) == 8
        assert flaky.wait(10) == "third time lucky"
        with pytest.raises(JobFailed, match="attempt 2 failed"):
            doomed.wait(10)
        deadline = time.monotonic() + 10
        while queue.counts()["complete"] < 15:
            assert time.monotonic() < deadline, queue.counts()
            time.sleep(0.05)
    finally:
        worker.stop(5)
    assert queue.counts() == {"inactive": 0, "active": 0, "delayed": 0, "complete": 15, "failed": 1}
    assert [a["kind"] for a in queue.get_job(flaky.id).failed_attempts] == ["error", "error"]
    assert queue.get_job(fluent.id).result == 10 and all(queue.get_job(j.id).result == 2 * i
                                                         for i, j in enumerate(bulk))
    # events crossed the cluster's pub/sub (published by scripts on the queue's node)
    deadline = time.monotonic() + 5
    while len([e for e in seen if e[0] == "complete"]) < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert {job_id for e, job_id in seen if e == "complete"} == {j.id for j in
                                                                  [plain, fluent, *bulk, first, delayed, flaky]}
    assert ("failed", doomed.id) in seen and ("promotion", delayed.id) in seen

    # managing: listing, retry, remove, clean
    assert {j.id for j in queue.jobs("complete", count=100)} == {j.id for j in
                                                                  [plain, fluent, *bulk, first, delayed, flaky]}
    assert queue.retry(doomed.id) == 1 and queue.counts()["inactive"] == 1
    assert queue.remove(doomed.id) and queue.get_job(doomed.id) is None
    assert queue.clean("complete", keep=5) == 10 and queue.counts()["complete"] == 5
    assert queue.counts() == {"inactive": 0, "active": 0, "delayed": 0, "complete": 5, "failed": 0}


def test_multi_process_drain_on_the_cluster(cluster: Cluster, rc: redis.cluster.RedisCluster,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n = env_int("QK_CLUSTER_JOBS", 5000)
    processes = 3
    name = queue_on_each_master(rc, "drain")[1]
    runs_key = f"qk-runs:{{{name}}}"
    queue = Queue(name, url=cluster.url)
    queue.obliterate()
    rc.delete(runs_key)
    monkeypatch.setenv("QK_CLUSTER_URL", cluster.url)
    monkeypatch.setenv("QK_RUNS_KEY", runs_key)
    completed: list[str] = []
    queue.on("job complete", lambda job_id, result: completed.append(job_id))
    ids: list[str] = []
    for at in range(0, n, 1000):
        ids += [j.id for j in queue.add_bulk([("record", {"i": i}) for i in range(at, min(n, at + 1000))])]
    procs = [spawn_cli("--url", cluster.url, "worker", "cluster_handlers:handlers", "--queue", name,
                       "--concurrency", "8", log=tmp_path / f"worker-{k}.log") for k in range(processes)]
    started = time.monotonic()
    try:
        while rc.hlen(runs_key) < n or queue.counts()["active"]:
            assert time.monotonic() - started < 120, f"drain too slow: {rc.hlen(runs_key)}/{n}"
            assert all(p.poll() is None for p in procs), "a worker process died; see " + str(tmp_path)
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        for p in procs:
            stop_process(p, timeout=15)
        assert [p.returncode for p in procs] == [0] * processes
        runs = rc.hgetall(runs_key)
        counts = queue.counts()
        deadline = time.monotonic() + 5
        while len(completed) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        print(f"\ncluster drain: jobs={n} processes={processes} in {elapsed:.1f}s; "
              f"events received={len(completed)}; counts={counts}")
        assert sorted(runs) == sorted(ids) and set(runs.values()) == {"1"}, "a handler ran twice or never"
        assert counts["inactive"] == counts["active"] == counts["delayed"] == counts["failed"] == 0
        # retention defaults keep the newest 1,000, applied by the workers about once a second (plus the last second)
        assert min(n, 1000) <= counts["complete"] <= n
        assert sorted(completed) == sorted(ids), "a 'job complete' event was not delivered"
    finally:
        for p in procs:
            stop_process(p, timeout=5)
        queue.obliterate()
        rc.delete(runs_key)
