"""The consumer's side in one process: failures, retries and backoff, ttl, progress and logs, waiting for results,
concurrency, async handlers, several types, start/stop, leases (renewal, the token check, manual heartbeat),
Kue-style ``done`` handlers, and the blocking wait that wakes a worker."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any

import pytest
import redis
import redis.asyncio
from fixtures import wait_until

from queuekit import Worker, scripts
from queuekit.errors import JobFailed, Retry, ValidationError, WaitTimeout
from queuekit.job import backoff_delay, now_ms
from queuekit.lane import AsyncLane
from queuekit.worker import Kind, Outcome

pytestmark = pytest.mark.timeout(30)


# ---- a handler that raises ------------------------------------------------------------------------------------------

def test_a_failing_handler_is_retried_per_its_backoff_then_fails_for_good_and_the_worker_goes_on(queue, worker):
    # Given a job allowed 3 attempts, 300 ms apart, whose handler always raises
    calls: list[float] = []
    events: list[tuple] = []
    queue.on("job failed attempt", lambda job_id, error, attempt: events.append(("attempt", error, attempt)))
    queue.on("job failed", lambda job_id, error: events.append(("failed", error)))

    def flaky(job):
        calls.append(time.monotonic())
        raise ValueError(f"boom {len(calls)}")

    job = queue.add("flaky", attempts=3, backoff=300)

    # When a worker runs it
    w = worker({"flaky": flaky, "ok": lambda job: "still working"})

    # Then each failed attempt is recorded with its message and traceback
    with pytest.raises(JobFailed, match="boom 3"):
        job.wait(timeout=10)
    history = job.failed_attempts
    assert [(a["attempt"], a["kind"], a["error"]) for a in history] == [(1, "error", "boom 1"),
                                                                          (2, "error", "boom 2"),
                                                                          (3, "error", "boom 3")]
    assert all("Traceback" in a["traceback"] and "in flaky" in a["traceback"] for a in history)
    assert "ValueError: boom 2" in history[1]["traceback"]
    # ... retries came no sooner than the backoff
    assert all(b - a >= 0.29 for a, b in zip(calls, calls[1:])), [b - a for a, b in zip(calls, calls[1:])]
    # ... it failed for good after the last attempt
    job.refresh()
    assert job.state == "failed" and job.failures == 3 and job.attempts_made == 3 and job.error == "boom 3"
    wait_until(lambda: len(events) == 3, message="the failure events")
    assert events == [("attempt", "boom 1", 1), ("attempt", "boom 2", 2), ("failed", "boom 3")]
    # ... and the worker keeps running
    assert queue.add("ok").wait(timeout=5) == "still working"
    assert w.running and w.stats["failed"] == 3


@pytest.mark.parametrize("backoff, gaps", [
    ({"type": "fixed", "delay": 200}, [0.2, 0.2]),
    ({"type": "exponential", "delay": 150}, [0.15, 0.3]),
    ({"type": "linear", "delay": 150}, [0.15, 0.3]),
], ids=["fixed", "exponential", "custom"])
def test_retries_wait_at_least_their_backoff(queue, worker, backoff, gaps):
    # Given a custom backoff registered on the queue (failures * delay), and a job failing twice
    queue.register_backoff("linear", lambda failures, delay: failures * delay)
    calls: list[float] = []

    def twice(job):
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise RuntimeError("not yet")
        return "third"

    job = queue.add("t", attempts=3, backoff=backoff)

    # When a worker runs it
    worker({"t": twice})

    # Then each retry waited at least its backoff
    assert job.wait(timeout=10) == "third"
    waited = [b - a for a, b in zip(calls, calls[1:])]
    assert all(w >= g - 0.01 for w, g in zip(waited, gaps)), waited


def test_exponential_backoff_doubles_and_jitter_stays_within_its_bounds():
    spec = {"type": "exponential", "delay": 100}
    assert [backoff_delay(spec, n) for n in (1, 2, 3, 4)] == [100, 200, 400, 800]
    jittered = {"type": "exponential", "delay": 100, "jitter": 0.5}
    for failures, full in ((1, 100), (3, 400)):
        values = [backoff_delay(jittered, failures) for _ in range(300)]
        assert all(full * 0.5 <= v <= full for v in values)
        assert len(set(values)) > 10  # really random


def test_an_unknown_backoff_name_is_refused(queue):
    with pytest.raises(ValidationError, match="unknown backoff type 'nope'"):
        queue.add("t", attempts=2, backoff={"type": "nope"})


# ---- ttl ------------------------------------------------------------------------------------------------------------

def test_ttl_fails_a_sync_attempt_that_runs_too_long(queue, worker):
    job = queue.add("slow", ttl=300)
    worker({"slow": lambda job: time.sleep(3) or "too late"})
    with pytest.raises(JobFailed, match="TTL exceeded"):
        job.wait(timeout=10)
    assert job.failed_attempts[0]["error"] == "TTL exceeded"


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_sync_handler_stuck_past_its_ttl_gives_its_slot_back_and_the_next_jobs_run(queue, worker, caplog,
                                                                                    concurrency):
    # Given a worker whose every slot runs a sync handler that cannot be interrupted and overruns its ttl
    release = threading.Event()
    ran: list[str] = []

    def stuck(job):
        release.wait(20)
        return "too late"

    def quick(job):
        ran.append(job.id)
        return "done"

    stuck_jobs = [queue.add("stuck", ttl=200) for _ in range(concurrency)]
    w = worker({"stuck": stuck, "quick": quick}, concurrency=concurrency)
    try:
        for job in stuck_jobs:
            with pytest.raises(JobFailed, match="TTL exceeded"):
                job.wait(timeout=10)

        # When more jobs arrive while those threads are still stuck
        later = [queue.add("quick") for _ in range(2 * concurrency)]

        # Then they run now, on threads that took the stuck ones' places (not after the stuck ones return)
        assert [job.wait(timeout=5) for job in later] == ["done"] * len(later)
        assert sorted(ran) == sorted(job.id for job in later)
        # and the worker says what it gave up: in its stats and its log
        assert w.stats["abandoned"] == concurrency
        assert any("abandon" in r.getMessage() for r in caplog.records if r.name.startswith("queuekit"))
    finally:
        release.set()


def test_ttl_cancels_an_async_handler(queue, worker):
    # Given an async handler that notices being cancelled
    cancelled = threading.Event()

    async def slow(job):
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "too late"

    job = queue.add("slow", ttl=200)

    # When it runs past its ttl
    worker({"slow": slow})

    # Then the attempt fails with "TTL exceeded" and the handler was cancelled
    with pytest.raises(JobFailed, match="TTL exceeded"):
        job.wait(timeout=10)
    assert cancelled.wait(2)


# ---- progress, logs, result, waiting ------------------------------------------------------------------------------

def test_progress_logs_and_result_are_stored_and_announced(queue, worker):
    # Given listeners on progress
    seen: list[tuple] = []
    queue.on("job progress", lambda job_id, percent, data: seen.append(("queue", percent, data)))
    job = queue.create("t").on("progress", lambda percent, data: seen.append(("job", percent, data))).save()

    def handler(job):
        job.progress(1, 4, {"step": "one"})
        job.log("resized %s to %dpx", "cat.png", 400)
        job.progress(4, 4)
        return {"width": 400}

    # When a handler reports progress and logs
    worker({"t": handler})

    # Then the result, the log and the progress are kept, and the progress was announced
    assert job.wait(timeout=10) == {"width": 400}
    job.refresh()
    assert job.percent == 100 and job.logs == ["resized cat.png to 400px"] and job.state == "complete"
    wait_until(lambda: len(seen) == 4, message="four progress events")
    assert sorted(seen, key=str) == sorted([("queue", 25, {"step": "one"}), ("job", 25, {"step": "one"}),
                                            ("queue", 100, None), ("job", 100, None)], key=str)


def test_wait_returns_the_result_raises_job_failed_or_times_out(queue, worker):
    worker({"ok": lambda job: [1, 2], "bad": lambda job: 1 / 0})
    assert queue.add("ok").wait(timeout=5) == [1, 2]
    with pytest.raises(JobFailed) as failed:
        queue.add("bad").wait(timeout=5)
    assert "division by zero" in failed.value.error
    # a type no worker handles never finishes
    began = time.monotonic()
    with pytest.raises(WaitTimeout):
        queue.add("nobody").wait(timeout=0.3)
    assert 0.25 <= time.monotonic() - began < 3


def test_a_result_that_is_not_json_fails_the_attempt_clearly(queue, worker):
    worker({"t": lambda job: {1, 2}})
    with pytest.raises(JobFailed, match="not JSON-serializable"):
        queue.add("t").wait(timeout=5)


# ---- concurrency, async handlers, several types, start/stop ---------------------------------------------------------

def test_sync_handlers_with_concurrency_n_really_overlap(queue, worker):
    # Given three jobs whose handlers can only get past a barrier all together
    barrier = threading.Barrier(3, timeout=5)
    jobs = [queue.add("t") for _ in range(3)]

    # When a worker of concurrency 3 runs them
    worker({"t": lambda job: barrier.wait() is not None}, concurrency=3)

    # Then all three were running at the same time
    assert [j.wait(timeout=10) for j in jobs] == [True, True, True]


def test_a_worker_never_holds_more_jobs_than_its_concurrency_while_an_outcome_waits_to_be_reported(
        queue, worker, monkeypatch):
    # Given a worker of concurrency 2 whose outcomes wait 3 s for others before they are reported (the batch
    # window, stretched so that the wait is certain), one job that runs until released, and one that ends at once
    from queuekit.worker import loop as worker_loop

    monkeypatch.setattr(worker_loop, "BATCH_WINDOW", 3.0)
    release = threading.Event()
    states_when_third_claimed: list[tuple[str | None, int]] = []
    third: list[str] = []

    class Watching(Worker):
        def on_claim(self, job_id: str, token: str) -> None:
            if third and job_id == third[0]:
                # what Redis shows when the third job is taken: the second finished, two jobs active at most
                states_when_third_claimed.append((queue.get_job(second.id).state, queue.counts()["active"]))

    def handler(job, done):
        job.progress(0, 100)
        if job.data["n"] == 1:
            release.wait(10)
        done()

    first = queue.add("t", {"n": 1})
    second = queue.add("t", {"n": 2})
    w = Watching(queue, {"t": handler}, concurrency=2).start()
    try:
        assert wait_until(lambda: first.refresh().state == "active" and second.refresh().state in ("active",
                          "complete"), timeout=5, message="both jobs taken")
        third.append(queue.add("t", {"n": 3}).id)

        # When the second job ends while the first still runs
        # Then the third is taken only once the second's outcome is in Redis: the worker never holds three
        assert wait_until(lambda: bool(states_when_third_claimed), timeout=8, message="the third job claimed")
        assert states_when_third_claimed == [("complete", 2)], states_when_third_claimed
    finally:
        release.set()
        w.stop(timeout=5)


def test_async_handlers_run_concurrently_on_the_worker_loop(queue, worker):
    running: list[int] = [0]
    peak: list[int] = [0]

    async def handler(job):
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        await asyncio.sleep(0.3)
        running[0] -= 1
        return job.data["n"]

    jobs = [queue.add("t", {"n": n}) for n in range(4)]
    worker({"t": handler}, concurrency=4)
    assert [j.wait(timeout=10) for j in jobs] == [0, 1, 2, 3]
    assert peak[0] == 4


def test_one_worker_serves_several_types_sync_and_async(queue, worker):
    async def resize(job):
        await asyncio.sleep(0.01)
        return "resized"

    worker({"email": lambda job: "sent", "resize": resize}, concurrency=2)
    assert queue.add("email").wait(timeout=5) == "sent"
    assert queue.add("resize").wait(timeout=5) == "resized"


def test_a_worker_starts_and_stops_in_the_background(queue):
    # Given a started worker
    w = Worker(queue, {"t": lambda job: "done"}).start()
    try:
        assert w.running
        assert queue.add("t").wait(timeout=5) == "done"
        assert [info["id"] for info in queue.workers()] == [w.id]

        # When it is stopped, it stops, unregisters, and takes no more jobs
        w.stop()
        assert not w.running and queue.workers() == []
        later = queue.add("t")
        time.sleep(0.5)
        assert later.refresh().state == "inactive"

        # ... until it is started again
        w.start()
        assert later.wait(timeout=5) == "done"
    finally:
        w.stop(timeout=2)


def test_kue_style_done_callbacks(queue, worker):
    def handler(job, done):
        kind = job.data["kind"]
        if kind == "ok":
            done(None, 42)
        elif kind == "exception":
            done(ValueError("bad input"))
        else:
            done("a plain message")

    worker({"t": handler})
    assert queue.add("t", {"kind": "ok"}).wait(timeout=5) == 42
    with pytest.raises(JobFailed, match="bad input"):
        queue.add("t", {"kind": "exception"}).wait(timeout=5)
    with pytest.raises(JobFailed, match="a plain message"):
        queue.add("t", {"kind": "message"}).wait(timeout=5)


# ---- leases -------------------------------------------------------------------------------------------------------

def test_a_job_running_longer_than_its_lease_is_not_stolen(backend, queue, worker):
    # Given two workers with a 1 s lease (each sweeps for expired leases every 0.5 s)
    runs: list[str] = []

    def long(job):
        runs.append(threading.current_thread().name)
        time.sleep(3)
        return "done"

    job = queue.add("long")
    worker({"long": long}, lease=1)
    worker({"long": long}, lease=1)

    # When the job runs three times as long as the lease
    assert job.wait(timeout=15) == "done"

    # Then the heartbeats kept it: it ran once, never stalled
    job.refresh()
    assert len(runs) == 1 and job.stalls == 0 and job.failed_attempts == []


def test_a_worker_that_lost_its_lease_cannot_record_its_outcome(backend, queue, worker):
    # Given worker A running a job, and then frozen past its lease (its deadline in the past), so that worker B
    # recovers the job and runs it too
    a_started, release_a, b_started, release_b = (threading.Event() for _ in range(4))

    def handler_a(job):
        a_started.set()
        release_a.wait(10)
        return "from A"

    def handler_b(job):
        b_started.set()
        release_b.wait(10)
        return "from B"

    job = queue.add("t")
    a = worker({"t": handler_a}, lease=30, prefetch=0)  # A, "frozen", must not take the job back itself
    assert a_started.wait(5)
    backend.client.zadd(queue.keys.active, {job.id: 0})  # A's lease ran out...
    backend.client.delete(queue.keys.sweep)  # ... and the sweep interval too
    b = worker({"t": handler_b}, lease=30)
    assert b_started.wait(5)

    # When A finishes while B holds the job
    release_a.set()
    wait_until(lambda: a.stats["lost"] == 1, message="A's outcome refused")

    # Then A's result was dropped: the job is still B's
    job.refresh()
    assert job.state == "active" and job.result is None and job.worker == b.id
    release_b.set()
    assert job.wait(timeout=5) == "from B"
    assert [a["kind"] for a in job.failed_attempts] == ["stalled"]
    assert queue.counts()["complete"] == 1


def test_a_manual_heartbeat_renews_the_lease(backend, queue, worker):
    # Given a handler that renews its own lease (as a long CPU-bound handler would), then loses it
    seen: list[tuple] = []

    def handler(job):
        before = backend.client.zscore(queue.keys.active, job.id)
        time.sleep(0.2)
        renewed = job.heartbeat()
        after = backend.client.zscore(queue.keys.active, job.id)
        backend.client.hset(queue.keys.job(job.id), "token", "someone else")  # the lease is taken away
        seen.append((renewed, after - before, job.heartbeat()))

    # When it runs under a worker with a 30 s lease (whose own heartbeat comes only every 10 s)
    queue.add("t")
    worker({"t": handler}, lease=30)

    # Then the manual heartbeat pushed the deadline forward, and reports the lease once lost
    wait_until(lambda: seen, message="the handler ran")
    renewed, moved_ms, after_loss = seen[0]
    assert renewed is True and moved_ms >= 150 and after_loss is False


# ---- blocking waits -------------------------------------------------------------------------------------------------

def test_the_wake_up_wait_blocks_for_its_timeout_when_nothing_arrives(backend, queue):
    # Given the marker list a worker blocks on, empty
    mark = queue.keys.mark("t")

    # When waiting on it for 1 s with the sync and the asyncio client
    began = time.monotonic()
    assert backend.client.blpop([mark], timeout=1) is None
    sync_waited = time.monotonic() - began

    async def wait_async():
        client = queue.async_client()
        try:
            began = time.monotonic()
            assert await client.blpop([mark], timeout=1) is None
            return time.monotonic() - began
        finally:
            await client.aclose()

    async_waited = asyncio.run(wait_async())

    # Then both really blocked for the timeout (they did not return at once)
    assert 0.9 <= sync_waited < 5 and 0.9 <= async_waited < 5


def test_the_wake_up_wait_returns_as_soon_as_a_job_is_added(backend, queue):
    # Given a blocking wait on the marker, and a job added 0.3 s later from another thread
    threading.Timer(0.3, lambda: queue.add("t")).start()

    # When waiting with a 5 s timeout
    began = time.monotonic()
    got = backend.client.blpop([queue.keys.mark("t")], timeout=5)

    # Then it returned when the job arrived, long before the timeout
    assert got == (queue.keys.mark("t"), "1") or got == [queue.keys.mark("t"), "1"]
    assert 0.25 <= time.monotonic() - began < 2


def test_an_idle_worker_picks_up_a_new_job_at_once(queue, worker):
    # Given an idle worker that checks the queue on its own only every 5 s
    worker({"t": lambda job: time.monotonic()}, block_timeout=5)
    time.sleep(0.5)  # it is now blocked, waiting

    # When a job is added
    added = time.monotonic()
    job = queue.add("t")

    # Then the worker woke up and ran it well within its 5 s idle wait
    started = job.wait(timeout=10)
    assert started - added < 1.5


def test_a_delayed_job_runs_on_time_while_an_idle_worker_waits(queue, worker):
    # Given an idle worker whose blocking wait lasts 5 s
    w = worker({"t": lambda job: time.time()}, block_timeout=5)
    time.sleep(0.3)  # it is now blocked, waiting

    # When a job delayed by 400 ms is added
    job = queue.add("t", delay=400)

    # Then it runs when due, not when the worker's wait ends
    ran_at = job.wait(timeout=3)
    assert ran_at * 1000 >= job.created_at + 400
    assert w.stats["completed"] == 1


def test_stopping_an_idle_worker_ends_its_wait_and_it_claims_nothing_more(backend, queue, worker):
    # Given an idle worker whose blocking wait lasts 20 s
    w = worker({"t": lambda job: "ran"}, block_timeout=20)
    time.sleep(0.3)

    # When it is stopped
    began = time.monotonic()
    w.stop()

    # Then it stopped without waiting out its wait, cleaned up after itself, and a job added afterwards stays in line
    assert time.monotonic() - began < 5
    assert not backend.client.exists(queue.keys.stop(w.id)) and queue.workers() == []
    job = queue.add("t")
    time.sleep(0.3)
    assert queue.get_job(job.id).state == "inactive"


def test_a_listener_wait_cut_off_before_its_reply_leaves_nothing_behind_for_the_next_call(real_redis):
    # Given a listener's own connection (queuekit.lane.AsyncLane), blocked in a pop on an empty list
    async def story() -> tuple[Any, int]:
        client = redis.asyncio.Redis.from_url(real_redis.url, decode_responses=True)
        lane = AsyncLane(client)
        assert lane._conn is not None  # a plain client: the lane keeps a connection of its own
        try:
            wait = asyncio.create_task(lane.call("BLPOP", "qk-test:lane", 5, timeout=10))
            await asyncio.sleep(0.2)

            # When the wait is cancelled (the worker stopping), and an item arrives right after
            wait.cancel()
            with pytest.raises(asyncio.CancelledError):
                await wait
            await asyncio.sleep(0.1)
            await client.rpush("qk-test:lane", "late")

            # Then the next call reads its own reply, and no pop left behind on the server took the item
            return await lane.call("PING"), await client.llen("qk-test:lane")
        finally:
            await lane.close()
            await client.delete("qk-test:lane")
            await client.aclose()

    assert asyncio.run(story()) == ("PONG", 1)


def test_a_listener_wait_that_outlasts_its_own_deadline_leaves_no_reply_for_the_next_call(real_redis):
    # Given a listener's own connection, whose pop the server answers (empty) only after the client gave up on it:
    # what a worker frozen by SIGSTOP, or an event loop blocked by a handler, sees when it resumes
    async def story() -> tuple[Any, Any]:
        client = redis.asyncio.Redis.from_url(real_redis.url, decode_responses=True)
        lane = AsyncLane(client)
        assert lane._conn is not None
        try:
            # When the pop's deadline passes first (0.2 s, while the server waits 0.6 s before it answers)
            with pytest.raises(redis.TimeoutError):
                await lane.call("BLPOP", "qk-test:lane", 0.6, timeout=0.2)
            await asyncio.sleep(0.8)  # the server's late answer has arrived by now
            # Then the next calls read their own replies, not the previous call's
            return await lane.call("ECHO", "mine"), await lane.call("ECHO", "next")
        finally:
            await lane.close()
            await client.aclose()

    assert asyncio.run(story()) == ("mine", "next")


def test_a_workers_connections_give_up_on_a_dead_link_instead_of_waiting_forever(real_redis):
    # Given a queue on a real server, by URL
    from queuekit import Queue
    from queuekit.connection import CONNECT_TIMEOUT, SOCKET_TIMEOUT

    queue = Queue("test", url=real_redis.url)

    # When a worker makes its asyncio client (its loop's round trips and its listener's claims use it)
    client = queue.async_client()
    kwargs = client.connection_pool.connection_kwargs

    # Then a reply that never comes, or a server that never accepts, ends in an error within the usual bounds
    assert kwargs.get("socket_timeout") == SOCKET_TIMEOUT
    assert kwargs.get("socket_connect_timeout") == CONNECT_TIMEOUT
    asyncio.run(client.aclose())


def test_an_error_reply_leaves_the_listener_on_its_connection(real_redis):
    # Given a listener's own connection
    async def story() -> bool:
        client = redis.asyncio.Redis.from_url(real_redis.url, decode_responses=True)
        lane = AsyncLane(client)
        assert lane._conn is not None  # a plain client: the lane keeps a connection of its own
        try:
            await lane.call("PING")
            first = lane._conn
            # When a call is answered with an error (a script the server forgot after a restart)
            with pytest.raises(redis.exceptions.NoScriptError):
                await lane.call("EVALSHA", "0" * 40, 0)
            # Then the error was read in full: the next call uses the same connection
            return await lane.call("PING") == "PONG" and lane._conn is first
        finally:
            await lane.close()
            await client.aclose()

    assert asyncio.run(story())


# ---- an idle worker is handed its next job by the add itself -------------------------------------------------------

def leave_an_offer(queue, name="gone", types=("t",), lease=1.0):
    """What an idle worker leaves behind if it dies while it waits: its offer to take the next job, and its id in
    the idle list of each of its types. Made the way a live worker makes it: by its listener's claim, which found
    nothing to claim. Returns that worker (never started)."""
    ghost = Worker(queue, {t: lambda job: None for t in types}, name=name, lease=lease)
    reply = scripts.run(queue.client, scripts.claim(queue.keys, name, sorted(types), now=now_ms(), want=1,
                                                    lease_ms=int(lease * 1000), token=f"{name}:1", channel=queue.channel,
                                                    promote_until=now_ms(), offer_ms=int(ghost.block_timeout * 1000) + 1000))
    assert '"gone"' not in reply and queue.client.exists(queue.keys.ready(name))
    return ghost


def test_a_job_added_for_an_idle_worker_is_handed_to_it_already_claimed(queue, worker):
    # Given an idle worker, blocked in its wait, and listeners for the queue's events
    heard: list[tuple] = []
    for name in ("job enqueue", "job start", "job complete"):
        queue.on(name, lambda job_id, *args, name=name: heard.append((name, job_id, *args)))
    w = worker({"t": lambda job: job.data["n"] * 2}, block_timeout=5)
    wait_until(lambda: queue.client.exists(queue.keys.ready(w.id)), message="the worker's offer")

    # When a job is added
    job = queue.add("t", {"n": 21})

    # Then the add itself made it active, for that worker (no claim ran in between), and the worker ran it
    assert job.state == "active"
    assert job.wait(timeout=5) == 42
    job.refresh()
    assert job.worker == w.id and job.attempts_made == 1 and job.failed_attempts == []
    assert not queue.client.exists(queue.keys.inbox(w.id))
    # ... announcing it as enqueued and started, as a claimed job is
    wait_until(lambda: len(heard) == 3, message="the three events")
    assert sorted(heard) == sorted([("job enqueue", job.id, "t"), ("job start", job.id, "t"),
                                    ("job complete", job.id, 42)])


def test_a_job_handed_to_a_worker_that_died_waiting_runs_elsewhere_once_its_lease_ends_with_no_stall(queue, worker):
    # Given a worker that offered to take the next job, then died (lease 1 s)
    leave_an_offer(queue, "gone", lease=1.0)

    # When a job is added, it is handed to that worker, which never takes it
    job = queue.add("t", {"n": 1})
    assert job.state == "active" and queue.client.llen(queue.keys.inbox("gone")) == 1

    # Then a live worker runs it once the lease has run out: it never started, so no stall and no attempt count
    began = time.monotonic()
    worker({"t": lambda job: "ran"}, lease=1.0)
    assert job.wait(timeout=10) == "ran"
    assert time.monotonic() - began >= 0.3  # not before the dead worker's lease could run out
    job.refresh()
    assert (job.stalls, job.attempts_made, job.failed_attempts) == (0, 1, [])
    assert not queue.client.exists(queue.keys.inbox("gone"))


def test_a_stopping_worker_puts_a_job_handed_to_it_but_not_taken_back_in_line(backend, queue):
    # Given a worker that offered to take the next job and was handed one
    ghost = leave_an_offer(queue, "stopping")
    job = queue.add("t")
    assert job.state == "active"

    # When it leaves the queue the way a stopping worker does
    asyncio.run(_leave(ghost))

    # Then the job is back in line as if just added, and nothing of the worker is left
    job.refresh()
    assert (job.state, job.attempts_made, job.worker, job.started_at) == ("inactive", 0, None, None)
    assert queue.counts()["inactive"] == 1 and queue.counts()["active"] == 0
    assert [k for k in backend.keys() if "stopping" in k] == []


async def _leave(w: Worker) -> None:
    client = w.queue.async_client()
    try:
        await w._unregister(client)
    finally:
        await client.aclose()


def test_inbox_entries_that_are_not_handed_jobs_stop_neither_a_worker_nor_the_sweep(queue, worker):
    # Given a dead worker's inbox holding garbage in front of the job handed to it
    leave_an_offer(queue, "gone", lease=1.0)
    queue.client.rpush(queue.keys.inbox("gone"), "not json", '["1"]')
    job = queue.add("t")
    assert job.state == "active"

    # When a live worker sweeps, and is itself sent garbage while it waits
    w = worker({"t": lambda job: "ran"}, lease=4.0, block_timeout=5)
    assert job.wait(timeout=10) == "ran"
    job.refresh()
    assert job.stalls == 0  # the sweep found the job behind the garbage: it never started
    wait_until(lambda: queue.client.exists(queue.keys.ready(w.id)), message="the live worker's offer")
    queue.client.rpush(queue.keys.inbox(w.id), "{broken")

    # Then the worker drops it and goes on serving: the next job is handed over and runs at once (not after its
    # 4 s lease, as it would if a sweep had to rescue it from a worker that stopped listening)
    assert queue.add("t").wait(timeout=2) == "ran" and w.running


def test_a_job_is_handed_over_only_when_none_is_ahead_of_it_in_line(queue):
    # Given an idle worker's offer, and jobs that went in line meanwhile (a bulk add does not hand jobs over)
    leave_an_offer(queue, "idle")
    first = queue.add_bulk([("t", {"n": n}) for n in range(3)])

    # When one more job is added
    job = queue.add("t", {"n": 3})

    # Then it waits behind them, and the offer still stands for the worker to come and take the line
    assert job.state == "inactive" and all(j.state == "inactive" for j in first)
    assert queue.client.exists(queue.keys.ready("idle")) and queue.client.lrange(queue.keys.idle("t"), 0, -1) == ["idle"]


def test_a_paused_queue_hands_nothing_over(queue):
    leave_an_offer(queue, "idle")
    queue.pause()
    job = queue.add("t")
    assert job.state == "inactive" and not queue.client.exists(queue.keys.inbox("idle"))


def test_removing_a_handed_job_takes_it_out_of_the_inbox_so_it_never_starts(queue):
    leave_an_offer(queue, "idle")
    job = queue.add("t")
    assert job.state == "active"
    assert job.remove()
    assert not queue.client.exists(queue.keys.inbox("idle")) and queue.get_job(job.id) is None


def test_ids_left_by_workers_that_are_gone_are_passed_over(queue, worker):
    # Given ids in the idle list with no offer behind them (workers that took a job, stopped or died long ago)
    queue.client.rpush(queue.keys.idle("t"), "gone-1", "gone-2")
    w = worker({"t": lambda job: "ran"}, block_timeout=5)
    wait_until(lambda: queue.client.exists(queue.keys.ready(w.id)), message="the live worker's offer")

    # When a job is added, it goes to the live worker behind them
    job = queue.add("t")
    assert job.state == "active" and job.wait(timeout=5) == "ran"
    job.refresh()
    assert job.worker == w.id


@pytest.mark.parametrize("arrival", ["handed over", "through the line"])
def test_a_worker_of_two_types_busy_with_one_is_handed_nothing_of_the_other(queue, worker, arrival):
    # Given an idle worker of types a and b, one job at a time, that offered to take the next job
    started, release = threading.Event(), threading.Event()

    def slow_a(job):
        started.set()
        return release.wait(10) and "a"

    w = worker({"a": slow_a, "b": lambda job: "b"}, block_timeout=5)
    wait_until(lambda: queue.client.exists(queue.keys.ready(w.id)), message="the worker's offer")

    # When it gets busy with a slow job of type a: handed over by the add, or claimed from the line (a bulk add of
    # several jobs puts them in line and wakes the worker; a bulk of one is a plain add). A handed job is active
    # as soon as it is added, before the worker takes it from its inbox: the handler starting shows the worker busy.
    slow = queue.add("a") if arrival == "handed over" else queue.add_bulk([("a", {}), ("a", {})])[0]
    assert started.wait(5), "the slow job starting"
    # ... and a job of type b is added meanwhile (the worker's id is still in b's idle list)
    other = queue.add("b")

    # Then that one is not handed over (the offer went with the first job, or was withdrawn when the worker found
    # work): it waits in line until the worker is free
    assert other.state == "inactive" and not queue.client.exists(queue.keys.inbox(w.id))
    release.set()
    assert slow.wait(timeout=5) == "a" and other.wait(timeout=5) == "b"


# ---- ids that read like another job's keys ------------------------------------------------------------------------

#: custom ids spelling another job's key names, and the separators the key layout uses
LOOKALIKE_IDS = ["x", "x:errs", "x:log", "job:x", "log:x", "errs:x", "x:job", "log:x:errs", "y", "y:log", "y:errs",
                 "z", "z:log", "z:errs", ":", "::", "x:", ":x", "é:ü", "wait:t", "active", "inbox:dead"]
FAILING = {"x", "y", "z:errs", "x:job", "log:x", "::", ":x", "é:ü", "inbox:dead"}


def test_jobs_whose_ids_read_like_each_others_keys_keep_their_own_logs_histories_and_lines(backend, queue, caplog):
    caplog.set_level(logging.WARNING)

    # Given jobs whose ids spell each other's keys, each allowed two attempts and logging a line under its own id
    # each run; some always fail, the others complete, and z is removed once complete
    def handler(job):
        job.log(f"run of {job.id}")
        if job.id in FAILING:
            raise ValueError(f"{job.id} failed")
        return job.id

    for job_id in LOOKALIKE_IDS:
        queue.add("t", job_id=job_id, attempts=2, remove_on_complete=job_id == "z")
    # ... and a worker that died holding the first four, its lease run out (their stall goes in their history)
    scripts.run(queue.client, scripts.claim(queue.keys, "dead", ["t"], now=now_ms(), want=4, lease_ms=1,
                                            token="dead:1", channel=queue.channel, promote_until=now_ms()))
    time.sleep(0.01)

    # When a worker runs them all
    Worker(queue, {"t": handler}, concurrency=4).drain(run_delayed=True, timeout=20)

    # Then each job is in exactly one line, the one its handler earned, and z is gone with all of its keys
    done = [i for i in LOOKALIKE_IDS if i not in FAILING and i != "z"]
    assert sorted(j.id for j in queue.jobs("complete", count=100)) == sorted(done)
    assert sorted(j.id for j in queue.jobs("failed", count=100)) == sorted(FAILING)
    assert queue.counts() == {"inactive": 0, "active": 0, "delayed": 0, "complete": len(done),
                              "failed": len(FAILING)}
    assert backend.client.exists(queue.keys.job("z"), queue.keys.log("z"), queue.keys.errs("z")) == 0
    # ... each with its own log lines, its own attempt history and its own result
    for n, job_id in enumerate(LOOKALIKE_IDS):
        if job_id == "z":
            continue
        job, failing = queue.get_job(job_id), job_id in FAILING
        assert job.logs == [f"run of {job_id}"] * (2 if failing else 1), job_id
        history = [a["kind"] if a["kind"] == "stalled" else a["error"] for a in job.failed_attempts]
        assert history == ["stalled"] * (n < 4) + [f"{job_id} failed"] * (2 if failing else 0), job_id
        assert job.result == (None if failing else job_id), job_id
    assert "WRONGTYPE" not in caplog.text

    # When x is removed, then both finished lines are cleaned
    assert queue.remove("x") is True
    assert queue.get_job("x:log").logs == ["run of x:log"] and len(queue.get_job("x:errs").failed_attempts) == 1
    queue.clean("complete")
    queue.clean("failed")

    # Then nothing of any job is left
    keys = queue.keys
    assert not [k for k in backend.keys() if k.startswith((keys.job(""), keys.log(""), keys.errs("")))]


# ---- events ---------------------------------------------------------------------------------------------------------

def test_job_and_queue_events_carry_kues_names(queue, worker):
    # Given listeners for the whole life of a job, on the queue and on the job
    heard: list[tuple] = []
    for name in ("job enqueue", "job start", "job complete", "job remove"):
        queue.on(name, lambda job_id, *args, name=name: heard.append((name, job_id, *args)))
    job = queue.create("t", {"n": 1})
    for name in ("enqueue", "start", "complete"):
        job.on(name, lambda *args, name=name: heard.append((name, *args)))

    # When it is saved, run and removed
    job.save()
    worker({"t": lambda job: "result"})
    job.wait(timeout=5)
    job.remove()

    # Then every event was heard, with Kue's names and arguments
    expected = [("job enqueue", job.id, "t"), ("enqueue", "t"), ("job start", job.id, "t"), ("start", "t"),
                ("job complete", job.id, "result"), ("complete", "result"), ("job remove", job.id, "t")]
    wait_until(lambda: len(heard) == len(expected), message="every event")
    assert sorted(heard) == sorted(expected)
    # ... and an unknown event name is refused
    with pytest.raises(ValidationError, match="unknown event 'done'"):
        queue.on("done", print)


# ---- the hooks: what a subclass sees of each job's way through the worker ---------------------------------------------

class _Recording(Worker):
    """Notes every hook call (they all run on the worker's loop, one at a time)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple] = []

    def on_claim(self, job_id: str, token: str) -> None:
        self.seen.append(("claim", job_id, token))

    def on_outcome(self, job: Any, token: str, outcome: Outcome, lost: bool) -> None:
        self.seen.append(("outcome", job.id, token, outcome, lost))

    def on_report(self, job_id: str, token: str, outcome: Outcome, accepted: bool) -> None:
        self.seen.append(("report", job_id, token, outcome, accepted))


def test_the_hooks_see_each_job_received_finished_and_reported_in_that_order(queue):
    # Given a job that completes, and one whose handler asks for another attempt in 2 s
    def handler(job):
        if job.data["n"] == 2:
            raise Retry("again later", delay=2)
        return job.data["n"] * 10

    ok = queue.add("t", {"n": 1})
    retried = queue.add("t", {"n": 2}, attempts=2)

    # When a worker with hooks drains the queue
    w = _Recording(queue, {"t": handler})
    assert w.drain() == 2

    # Then each job was received, finished and reported, in that order and under one lease token
    for job, kind, value in ((ok, Kind.OK, "10"), (retried, Kind.FAIL, "again later")):
        steps = [step for step in w.seen if step[1] == job.id]
        assert [step[0] for step in steps] == ["claim", "outcome", "report"]
        assert steps[0][2] and {step[2] for step in steps} == {steps[0][2]}
        assert (steps[1][3].kind, steps[1][3].value, steps[1][4]) == (kind, value, False)
        assert (steps[2][3].kind, steps[2][4]) == (kind, True)
    # ... and the report carries the retry delay the handler asked for, in ms
    assert [step[3].delay for step in w.seen if step[0] == "report" and step[1] == retried.id] == [2000]
    assert retried.refresh().state == "delayed"


def test_a_hook_that_raises_is_logged_and_the_job_is_still_reported(queue, caplog):
    # Given a worker whose outcome hook has a bug
    class Broken(Worker):
        def on_outcome(self, job: Any, token: str, outcome: Outcome, lost: bool) -> None:
            raise RuntimeError("a bug in the hook")

    job = queue.add("t")

    # When it drains the queue
    done = Broken(queue, {"t": lambda job: "ran"}).drain()

    # Then the job completed all the same, and the hook's error was logged
    assert done == 1 and job.wait(timeout=5) == "ran"
    assert any(r.levelno == logging.ERROR and "on_outcome" in r.getMessage() for r in caplog.records)


def test_an_outcome_is_sent_in_finish_luas_layout():
    # Given the report of a failed attempt that ran from 10 to 20 ms, and one of a job found corrupt on arrival
    from queuekit.worker.runner import Report, finish_json

    reports = [Report("7", "w:1", Outcome.fail("boom", "trace", 1500), 10, 20),
               Report("8", "w:2", Outcome.fatal("corrupt job: bad json"))]

    # Then finish.lua gets [id, token, kind, value, traceback, retry delay ms, started ms, finished ms] per outcome
    # (without the times, finish.lua takes the time of the report)
    assert json.loads(finish_json(reports)) == [["7", "w:1", "fail", "boom", "trace", 1500, 10, 20],
                                                ["8", "w:2", "fatal", "corrupt job: bad json", "", 0]]
