"""The core suite's queue and worker tests (tests/test_queue.py, tests/test_worker.py and the backend-dependent ones
of tests/test_extras.py: patterns, test/eager mode, pub/sub helper, `queuekit info`, display), run unchanged on the
3-master Redis Cluster: their ``backend`` fixture is replaced here by one pointing at the cluster through a
``redis+cluster://`` URL (so ``make_queue`` builds ``Queue(name, url=...)`` and every worker uses the asyncio
cluster client)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

import queuekit.queue
from fixtures import Backend
from queuekit import Subscriber, connect, publish
from test_queue import *  # noqa: F401,F403 - the tests to run again
from test_worker import *  # noqa: F401,F403
import test_extras
from test_extras import (  # noqa: F401 - the backend-dependent ones
    test_a_blocking_subscriber_stops_on_its_stop_message, test_eager_mode_runs_jobs_inline_retries_included,
    test_kue_test_mode_captures_jobs_without_storing_them, test_queuekit_info_prints_counts_and_live_workers,
    test_rich_display_of_queue_job_and_worker, test_test_mode_with_process_stores_and_captures,
    test_the_registry_submits_jobs_with_their_title_and_finds_them_by_id,
    test_the_registry_validates_workers_with_openpaas_messages, test_the_script_queue_runs_registered_scripts_only)

WRITTEN: list[int] = []


def test_the_core_tests_really_ran_on_the_cluster() -> None:
    """Runs last in this module: most core tests left keys in the cluster before their teardown flushed them."""
    if len(WRITTEN) < 10:
        pytest.skip("only meaningful after the core tests of this module ran")
    assert len(WRITTEN) >= 40 and sum(1 for n in WRITTEN if n) >= 0.8 * len(WRITTEN), WRITTEN


pytestmark = [pytest.mark.cluster, pytest.mark.timeout(60)]


# One pub/sub helper test does not hold on a cluster (PUBLISH counts per node). It runs here as a strict xfail (new functions: marking the
# imported ones would mark the originals too), so fixing the gap turns them into failures that ask for removal.

@pytest.mark.xfail(strict=True, reason="on a cluster PUBLISH returns the receivers on the node it ran on only, so "
                                       "the test's `publish(...) == 1` for a channel of another node's slot is 0; "
                                       "the messages themselves are delivered")
def test_a_background_subscriber_starts_and_stops_on_cluster(backend: Backend) -> None:
    test_extras.test_a_background_subscriber_starts_and_stops(backend)


def test_an_asyncio_subscriber_on_cluster(backend: Backend, queue: Any) -> None:
    """tests/test_extras.py::test_an_asyncio_subscriber on a cluster client (Subscriber.run_async initializes
    it first), bounded: before that fix it waited forever for a subscription that never came (and a
    pytest-timeout interrupt there upsets CPython's parser for the rest of the session)."""
    async def main() -> list[str]:
        received: list[str] = []
        client = queue.async_client()
        try:
            sub = Subscriber("news", received.append, stop_on="bye", client=client)
            task = asyncio.create_task(sub.run_async())
            for _ in range(300):
                if sub.subscribed.is_set() or task.done():
                    break
                await asyncio.sleep(0.01)
            assert sub.subscribed.is_set(), \
                f"the asyncio subscriber did not start: {task.done() and task.exception()!r}"
            publish("news", "hello", backend.client)
            publish("news", "bye", backend.client)
            await asyncio.wait_for(task, 5)
            return received
        finally:
            await client.aclose()  # the client is ours: its node connections outlive the subscription

    assert asyncio.run(main()) == ["hello", "bye"]


@pytest.fixture
def backend(cluster: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    url = cluster.url  # type: ignore[attr-defined]
    monkeypatch.setenv("REDIS_URL", url)
    client = connect(url)
    client.flushdb(target_nodes="primaries")
    try:
        yield Backend("cluster", url, client)
    finally:
        with queuekit.queue._hubs_lock:
            hubs = list(queuekit.queue._hubs.values())
            queuekit.queue._hubs.clear()
        for hub in hubs:
            hub.close()
        WRITTEN.append(len(list(client.scan_iter(count=1000))))  # keys the test left, on every master
        client.flushdb(target_nodes="primaries")
        client.close()
