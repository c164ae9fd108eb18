"""Admin reads page in Redis: a page of a line costs O(log N + page) and counts by type read no finished job.

What a call costs is measured as what the client sends and reads (commands, and the items of their replies), never
as time, so the same bounds hold on the embedded server and on the real Redis. The listings must stay exactly as
they were: ``_old_ids`` is the former implementation (load each line whole, sort by (score, member) in Python,
filter finished and active jobs by their type), and every page is compared against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fixtures import make_queue

from queuekit import Queue, Worker, scripts
from queuekit.job import now_ms

FINISHED = ("active", "complete", "failed")
STATES = ("inactive", "delayed", *FINISHED)
#: what the big data set holds: 100,000 finished jobs, a quarter of them of type "b", an eighth of those failed
BIG = 100_000


@dataclass
class Cost:
    """What the client sent and read while counted: commands, items of their replies (a hash counts 2 a field), and
    the bytes of the replies' strings and numbers (as text)."""

    commands: int = 0
    items: int = 0
    bytes: int = 0


def _items(reply: Any) -> int:
    if isinstance(reply, dict):
        return sum(1 + _items(v) for v in reply.values())
    if isinstance(reply, (list, tuple)):
        return sum(_items(x) for x in reply)
    return 1


def _bytes(reply: Any) -> int:
    if isinstance(reply, dict):
        return sum(_bytes(k) + _bytes(v) for k, v in reply.items())
    if isinstance(reply, (list, tuple)):
        return sum(_bytes(x) for x in reply)
    if isinstance(reply, bytes):
        return len(reply)
    return len(str(reply).encode("utf-8")) if reply is not None else 0


@contextmanager
def counted(queue: Queue) -> Iterator[Cost]:
    """Count every command ``queue.client`` sends (alone or in a pipeline) and the items of the replies."""
    cost = Cost()
    client = queue.client
    send, make_pipeline = client.execute_command, client.pipeline

    def execute_command(*args: Any, **options: Any) -> Any:
        reply = send(*args, **options)
        cost.commands += 1
        cost.items += _items(reply)
        cost.bytes += _bytes(reply)
        return reply

    def pipeline(*args: Any, **options: Any) -> Any:
        pipe = make_pipeline(*args, **options)
        run = pipe.execute

        def execute(*eargs: Any, **eoptions: Any) -> Any:
            cost.commands += len(pipe.command_stack)
            replies = run(*eargs, **eoptions)
            cost.items += _items(replies)
            cost.bytes += _bytes(replies)
            return replies

        pipe.execute = execute
        return pipe

    client.execute_command = execute_command  # type: ignore[method-assign]
    client.pipeline = pipeline  # type: ignore[method-assign]
    try:
        yield cost
    finally:
        del client.execute_command, client.pipeline


def _old_ids(queue: Queue, state: str, type: str | None, start: int, count: int | None,
             desc: bool = False) -> list[str]:
    """The ids the former implementation listed (the reference for order, ties included)."""
    keys, client = queue.keys, queue.client
    if state in ("inactive", "delayed"):
        lines = [keys.wait(t) if state == "inactive" else keys.delayed(t)
                 for t in ([type] if type else sorted(client.smembers(keys.types)))]
    else:
        lines = [getattr(keys, state)]
    scored: list[tuple[float, str]] = []
    for key in lines:
        scored += [(score, member) for member, score in client.zrange(key, 0, -1, withscores=True)]
    scored.sort(reverse=desc)
    ids = [member for _, member in scored]
    if type is not None and state not in ("inactive", "delayed"):
        ids = [job_id for job_id in ids if client.hget(keys.job(job_id), "type") == type]
    return ids[start:] if count is None else ids[start:start + count]


def _old_counts(queue: Queue, type: str | None) -> dict[str, int]:
    return {s: len(_old_ids(queue, s, type, 0, None)) for s in STATES}


def _fail_some(job: Any) -> int:
    if job.data["n"] % 4 == 1:
        raise ValueError("failed on purpose")
    return job.data["n"]


@pytest.fixture
def big(real_redis: Any) -> Queue:
    """A queue holding 100,000 finished jobs of types "a" and "b" (some "b" failed), stored by a real worker, on the
    real Redis (what is counted is the commands and items read, the same on either backend; storing 100,000 jobs
    through the embedded server's Lua takes minutes)."""
    queue = make_queue(real_redis, "big", events=False, keep_complete=None, keep_complete_age=None, keep_failed=None,
                       keep_failed_age=None)
    handlers = {"a": lambda job: job.data["n"], "b": lambda job: 1 // (job.data["n"] % 32)}
    for first in range(0, BIG, 20_000):
        queue.add_bulk(("b" if n % 4 == 0 else "a", {"n": n}) for n in range(first, first + 20_000))
        Worker(queue, handlers, concurrency=64).drain()
    return queue


@pytest.mark.realredis
def test_a_page_of_100000_finished_jobs_reads_the_page_only(big: Queue) -> None:
    # Given 100,000 finished jobs (75,000 "a", 21,875 "b" complete, 3,125 "b" failed)
    expected_counts = {"inactive": 0, "delayed": 0, "active": 0, "complete": BIG - BIG // 32, "failed": BIG // 32}
    # Then the counts read a few items, overall and by type
    costs: dict[str, Cost] = {}
    for type, expected in ((None, expected_counts), ("a", {**expected_counts, "complete": 75_000, "failed": 0}),
                           ("b", {**expected_counts, "complete": 21_875})):
        with counted(big) as costs[f"counts({type!r})"]:
            assert big.counts(type) == expected
    # ... and a page of 50 from anywhere in a finished line, either way, of any type, reads that page only
    for state, type, start, desc in (("complete", None, 60_000, False), ("complete", None, 0, True),
                                     ("complete", "a", 40_000, True), ("complete", "b", 20_000, False),
                                     ("failed", "b", 3_000, True), ("failed", None, 100, False)):
        with counted(big) as costs[f"jobs({state!r}, {type!r}, {start}, desc={desc})"]:
            page = big.jobs(state, type=type, start=start, count=50, desc=desc)
        # ... and it is the page the former implementation listed
        assert [j.id for j in page] == _old_ids(big, state, type, start, 50, desc)
        assert {j.state for j in page} == {state} and (type is None or {j.type for j in page} == {type})
    too_dear = {call: cost for call, cost in costs.items()
                if cost.commands > (12 if call.startswith("counts") else 60)
                or cost.items > (12 if call.startswith("counts") else 2_500)}
    assert too_dear == {}


def _small(queue: Queue) -> None:
    """Jobs in every state, of three types, with ties in score inside a line and across lines."""
    queue.add_bulk([("x" if n % 3 else "y", {"n": n}) for n in range(30)])
    queue.add_bulk([{"type": t, "data": {"n": n}, "delay": 60_000} for n in range(12) for t in ("x", "y", "z")])
    queue.add_bulk([{"type": "z", "data": {"n": n}, "priority": "high"} for n in range(4)])
    Worker(queue, {"x": _fail_some, "y": _fail_some}, concurrency=8).drain()
    queue.add_bulk([("x", {"n": n}) for n in range(5)])
    queue.add_bulk([("y", {"n": n}) for n in range(5)])
    queue.add_bulk([{"type": "z", "data": {"n": n}, "priority": "low"} for n in range(5)])
    # three "x" jobs stay active, claimed under a lease that holds through the test
    scripts.run(queue.client, scripts.claim(queue.keys, "w", ["x"], now=now_ms(), want=3, lease_ms=600_000,
                                            token="tok", channel="", promote_until=now_ms()))


def test_every_listing_and_count_is_the_same_as_before(queue: Queue) -> None:
    # Given jobs in every state, of three types, with ties
    _small(queue)
    # Then every page, by any type, from any start, either way, lists the ids the former code listed
    for state in STATES:
        for type in (None, "x", "y", "z", "none"):
            for start, count in ((0, 50), (0, 1), (1, 2), (3, 7), (40, 50)):
                for desc in (False, True):
                    got = [j.id for j in queue.jobs(state, type=type, start=start, count=count, desc=desc)]
                    assert got == _old_ids(queue, state, type, start, count, desc), (state, type, start, desc)
            # ... and the counts are the same
            assert queue.counts(type if type != "none" else None) == _old_counts(
                queue, type if type != "none" else None)


def test_finished_jobs_stored_before_the_type_index_are_still_listed_and_counted(queue: Queue) -> None:
    # Given finished jobs written by the former scripts, which kept no index of finished jobs by type
    _small(queue)
    for key in queue.client.scan_iter(match=queue.keys.pattern()):
        if key.startswith((queue.keys.done(""), queue.keys.dead(""))):
            queue.client.delete(key)
    # ... and some finished since the upgrade
    queue.add_bulk([("y", {"n": n}) for n in range(6)])
    Worker(queue, {"y": _fail_some}).drain()
    # Then counts and pages by type are the same as the former code's
    for type in ("x", "y", "z"):
        assert queue.counts(type) == _old_counts(queue, type)
        for state in ("complete", "failed"):
            for desc in (False, True):
                got = [j.id for j in queue.jobs(state, type=type, start=1, count=4, desc=desc)]
                assert got == _old_ids(queue, state, type, 1, 4, desc)


def test_the_index_by_type_follows_every_move_out_of_the_finished_lines(queue: Queue) -> None:
    # Given finished jobs
    _small(queue)
    failed = _old_ids(queue, "failed", None, 0, None)
    complete = _old_ids(queue, "complete", None, 0, None)
    # When some are retried, removed, cleaned
    queue.retry(failed[0])
    queue.remove(failed[1])
    queue.remove(complete[0])
    queue.clean("complete", keep=5)
    # Then counts and pages by type still match the lines themselves
    for type in ("x", "y", "z"):
        assert queue.counts(type) == _old_counts(queue, type)
        for state in ("complete", "failed"):
            assert [j.id for j in queue.jobs(state, type=type, count=100)] == _old_ids(queue, state, type, 0, 100)
    # ... and removing every finished job leaves no index behind
    queue.clean("complete")
    queue.clean("failed")
    leftovers = [k for k in queue.client.scan_iter(match=queue.keys.pattern())
                 if k.startswith((queue.keys.done(""), queue.keys.dead("")))]
    assert leftovers == []
