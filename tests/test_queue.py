"""The producer's side: creating jobs (fluent and keyword), validation that writes nothing, priorities, delays,
custom ids, bulk add, retention, reading, listing, retry, remove, clean, pause and resume."""

from __future__ import annotations

import gc
import inspect
import os
import re
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fixtures import make_queue, snapshot, wait_until

import queuekit
from queuekit import Job, Worker
from queuekit.errors import JobNotFound, QueuekitError, ValidationError
from queuekit.keys import QUEUES, QueueKeys

pytestmark = pytest.mark.timeout(30)

EMPTY = {"inactive": 0, "active": 0, "delayed": 0, "complete": 0, "failed": 0}


def _counts(**changes: int) -> dict[str, int]:
    return {**EMPTY, **changes}


def _keys_of_jobs(backend, queue) -> list[str]:
    """Every key of any job of ``queue`` still in the store: hashes, logs and attempt histories."""
    prefixes = (queue.keys.job(""), queue.keys.log(""), queue.keys.errs(""))
    return [k for k in backend.keys() if k.startswith(prefixes)]


# ---- creating jobs ------------------------------------------------------------------------------------------------

def test_a_job_is_created_in_kue_fluent_style(queue):
    # Given a job built with chained setters
    job = (queue.create("email", {"to": "ada@example.org"}).priority("high").attempts(3)
           .backoff({"type": "exponential", "delay": 100}).ttl(5000).remove_on_complete(False))

    # When it is saved
    returned = job.save()

    # Then it is stored, waiting, with every option
    assert returned is job and job.id == "1" and job.state == "inactive"
    stored = queue.get_job(job.id)
    assert stored.type == "email" and stored.data == {"to": "ada@example.org"} and stored.state == "inactive"
    assert stored.opts.priority == -10 and stored.opts.attempts == 3 and stored.opts.ttl == 5000
    assert stored.opts.backoff == {"type": "exponential", "delay": 100}


def test_a_job_is_created_with_keyword_arguments(queue):
    # When a job is added in one call
    job = queue.add("email", {"to": "alan@example.org"}, priority=7, attempts=2, backoff=250, ttl=timedelta(seconds=2))

    # Then the stored job has the options, durations in ms
    stored = queue.get_job(job.id)
    assert stored.opts.priority == 7 and stored.opts.attempts == 2 and stored.opts.ttl == 2000
    assert stored.opts.backoff == {"type": "fixed", "delay": 250}
    assert queue.counts() == _counts(inactive=1)


# ---- bad input: a clear error, and nothing written ----------------------------------------------------------------

class Opaque:
    pass


BAD_INPUTS = [
    pytest.param(lambda q: q.add("t", {"when": datetime(2026, 1, 1)}), "data['when']", id="data-not-json"),
    pytest.param(lambda q: q.add("t", {"a": [1, {"b": Opaque()}]}), "data['a'][1]['b']", id="nested-not-json"),
    pytest.param(lambda q: q.add("t", {"blob": "x" * (600 * 1024)}), "over the limit", id="data-too-big"),
    pytest.param(lambda q: q.add("t", {}, priority="urgent"), "unknown priority 'urgent'", id="priority-name"),
    pytest.param(lambda q: q.create("t").priority("urgent").save(), "unknown priority", id="fluent-priority"),
    pytest.param(lambda q: q.add("t", {}, delay=-1), "delay", id="negative-delay"),
    pytest.param(lambda q: q.add("t", {}, attempts=-1), "attempts", id="negative-attempts"),
    pytest.param(lambda q: q.add("t", {}, attempts=0), "attempts", id="zero-attempts"),
    pytest.param(lambda q: q.add("t", {}, ttl=-5), "ttl", id="negative-ttl"),
    pytest.param(lambda q: q.create("t").ttl(-5).save(), "ttl", id="fluent-negative-ttl"),
    pytest.param(lambda q: q.add("", {}), "non-empty string", id="empty-type"),
    pytest.param(lambda q: q.add(42, {}), "non-empty string", id="type-not-a-string"),
    pytest.param(lambda q: q.add("t", {}, job_id="123"), "reserved", id="all-digit-custom-id"),
    pytest.param(lambda q: q.add_bulk([("t", {"ok": 1}), ("t", {"bad": {1, 2}})]), "data['bad']", id="bulk-one-bad"),
    pytest.param(lambda q: q.jobs("inactive", desc=None), "desc: expected True or False", id="listing-order"),
]


@pytest.mark.parametrize("bad_call, message", BAD_INPUTS)
def test_bad_input_raises_a_clear_validation_error_and_writes_nothing(backend, queue, bad_call, message):
    # Given a queue that already holds a job (so its keys and counters exist)
    queue.add("t", {"fine": True})
    before = snapshot(backend.client)
    size = backend.client.dbsize()

    # When a call with bad input is made
    with pytest.raises(ValidationError) as refused:
        bad_call(queue)

    # Then the error says what is wrong, and Redis is exactly as it was
    assert message in str(refused.value)
    assert backend.client.dbsize() == size
    assert snapshot(backend.client) == before


def test_validation_errors_are_readable(queue):
    # The messages a learner sees, word for word where it matters
    with pytest.raises(ValidationError, match=r"data\['when'\].*datetime is not JSON-serializable"):
        queue.add("t", {"when": datetime(2026, 1, 1)})
    with pytest.raises(ValidationError, match=r"over the limit of 524288 bytes"):
        queue.add("t", "x" * (600 * 1024))
    with pytest.raises(ValidationError, match=r"expected one of low, normal, medium, high, critical"):
        queue.add("t", priority="urgent")
    with pytest.raises(ValidationError, match=r"^delay: expected 0 or more milliseconds, got -1$"):
        queue.add("t", delay=-1)
    with pytest.raises(ValidationError, match=r"^type: expected a non-empty string naming the job type, got ''$"):
        queue.add("")


# A lone surrogate is what Python makes of bytes that were not valid UTF-8 (os.fsdecode, errors="surrogateescape"):
# a str that cannot be encoded, so Redis can never be sent it. Each place a job's text enters is listed here.
LONE = "\ud800"

SURROGATES = [
    pytest.param(lambda q, job: q.add("t", {"a": ["ok", LONE]}), "data['a'][1]", id="data-in-a-list"),
    pytest.param(lambda q, job: q.add("t", {LONE: 1}), f"data[{LONE!r}]", id="data-key"),
    pytest.param(lambda q, job: q.add("t", "x" + LONE), "data", id="data-itself"),
    pytest.param(lambda q, job: q.create("t", {"s": LONE}).save(), "data['s']", id="fluent-save"),
    pytest.param(lambda q, job: q.add_bulk([("t", {}), ("t", {"a": ["ok", LONE]})]), "jobs[1].data['a'][1]",
                 id="bulk"),
    pytest.param(lambda q, job: q.add_bulk([("t", {}), {"type": "t", "data": {"s": LONE}, "priority": 3}]),
                 "jobs[1].data['s']", id="bulk-with-options"),
    pytest.param(lambda q, job: q.add("t" + LONE), "type", id="type"),
    pytest.param(lambda q, job: q.add("t", job_id="x" + LONE), "job_id", id="custom-id"),
    pytest.param(lambda q, job: job.log("a line " + LONE), "log", id="log-line"),
    pytest.param(lambda q, job: job.progress(1, 2, {"p": [LONE]}), "progress_data['p'][0]", id="progress-data"),
]


@pytest.mark.parametrize("bad_call, field", SURROGATES)
def test_a_lone_surrogate_in_a_jobs_text_is_refused_naming_where_it_is_and_writes_nothing(backend, queue, bad_call,
                                                                                          field):
    # Given a queue holding a job (the one a handler would log to or report progress on)
    job = queue.add("t", {"fine": True})
    before = snapshot(backend.client)

    # When text with a lone surrogate reaches the API
    with pytest.raises(ValidationError) as refused:
        bad_call(queue, job)

    # Then the error names the place, says what is wrong, and Redis is exactly as it was
    assert refused.value.field == field
    assert "surrogate" in str(refused.value) or field in ("type", "job_id")
    assert snapshot(backend.client) == before


def test_a_result_with_a_lone_surrogate_fails_its_attempt_with_the_reason_and_the_batch_goes_on(queue):
    # Given a job whose handler returns text with a lone surrogate, and jobs whose handlers return good text
    bad = queue.add("t", {"bad": True})
    good = [queue.add("t", {"bad": False}) for _ in range(3)]

    # When a worker runs them all (their outcomes are stored together)
    Worker(queue, {"t": lambda job: "x" + LONE if job.data["bad"] else "fine"}, concurrency=4).drain(timeout=20)

    # Then the bad job failed and says why, every other one completed, and none is left active
    assert bad.refresh().state == "failed" and "surrogate" in bad.error
    assert [job.refresh().result for job in good] == ["fine"] * 3
    assert queue.counts() == _counts(complete=3, failed=1)


def test_an_error_message_with_a_lone_surrogate_fails_its_attempt_readably_and_the_batch_goes_on(queue):
    # Given a job whose handler raises an error whose message holds a lone surrogate, and jobs that succeed
    def handler(job):
        if job.data["bad"]:
            raise ValueError("bad " + LONE)
        return "fine"

    bad = queue.add("t", {"bad": True})
    good = [queue.add("t", {"bad": False}) for _ in range(3)]

    # When a worker runs them all (their outcomes are stored together)
    Worker(queue, {"t": handler}, concurrency=4).drain(timeout=20)

    # Then the bad job failed with its message, the unencodable character written out, and the others completed
    assert bad.refresh().state == "failed" and bad.error == "bad \\ud800"
    assert "ValueError" in bad.failed_attempts[0]["traceback"]
    assert [job.refresh().result for job in good] == ["fine"] * 3
    assert queue.counts() == _counts(complete=3, failed=1)


def test_get_job_of_an_unknown_id_returns_none(queue):
    queue.add("t")
    assert queue.get_job("nope") is None
    assert queue.get_job(999) is None
    with pytest.raises(JobNotFound):
        Job("t", id="999", _queue=queue).refresh()


def test_a_job_hash_corrupted_by_hand_fails_that_job_with_a_clear_reason_and_the_worker_survives(backend, queue,
                                                                                                   worker):
    # Given a job whose data was overwritten by hand with something that is not JSON, then a good job
    bad = queue.add("t", {"n": 1})
    backend.client.hset(queue.keys.job(bad.id), "data", "{not json")
    good = queue.add("t", {"n": 2})

    # When a worker runs them
    worker({"t": lambda job: job.data["n"] * 10})

    # Then the corrupt one fails for good with the reason, and the worker goes on to the next job
    assert good.wait(timeout=10) == 20
    wait_until(lambda: queue.counts()["failed"] == 1, message="the corrupt job failed")
    assert backend.client.hget(queue.keys.job(bad.id), "state") == "failed"
    error = backend.client.hget(queue.keys.job(bad.id), "error")
    assert error == "corrupt job: field 'data' is not valid JSON: '{not json'"
    # ... and reading it back says which job is corrupt and why, instead of crashing on it
    with pytest.raises(QueuekitError, match=r"job 1 in queue test is corrupt: field 'data' is not valid JSON"):
        queue.get_job(bad.id)


# ---- priorities and delays ----------------------------------------------------------------------------------------

def test_jobs_run_by_priority_then_in_arrival_order(queue):
    # Given jobs of named and numeric priorities, added out of order
    for name, priority in [("low", "low"), ("n1", "normal"), ("crit", "critical"), ("n2", 0), ("minus3", -3),
                           ("high", "high"), ("plus20", 20), ("medium", "medium")]:
        queue.add("t", {"name": name}, priority=priority)
    order: list[str] = []

    # When one worker runs them one at a time
    Worker(queue, {"t": lambda job: order.append(job.data["name"])}).drain()

    # Then lower priorities ran first, equal ones first come first served
    assert order == ["crit", "high", "medium", "minus3", "n1", "n2", "low", "plus20"]


@pytest.mark.parametrize("delay", [400, timedelta(milliseconds=400), "datetime"])
def test_a_delayed_job_waits_for_its_time_then_runs(queue, worker, delay):
    # Given a job delayed by 400 ms (as ms, a timedelta, or a datetime 400 ms from now), and a running worker
    worker({"t": lambda job: time.time()})
    added = time.time()
    if delay == "datetime":
        delay = datetime.now() + timedelta(milliseconds=400)
    job = queue.add("t", delay=delay)

    # Then it is delayed at first, and promoted and run once its time has come, not before
    assert job.state == "delayed" and queue.counts()["delayed"] == 1
    ran_at = job.wait(timeout=10)
    assert ran_at - added >= 0.35
    assert queue.counts() == _counts(complete=1)


def test_a_promoted_job_emits_promotion(queue, worker):
    promoted: list[str] = []
    queue.on("job promotion", promoted.append)
    job = queue.add("t", delay=100)
    worker({"t": lambda job: None})
    job.wait(timeout=10)
    wait_until(lambda: promoted == [job.id], message="the promotion event")


# ---- custom ids and bulk add --------------------------------------------------------------------------------------

def test_a_custom_id_deduplicates(queue):
    # Given a job saved under a custom id
    first = queue.add("report", {"month": 1}, job_id="report-2026-01")

    # When the same id is saved again, in either style
    again = queue.add("report", {"month": 99}, job_id="report-2026-01")
    fluent = queue.create("report", {"month": 98}).set_id("report-2026-01").save()

    # Then nothing new is stored: the duplicates point at the first job
    assert not first.duplicate and again.duplicate and fluent.duplicate
    assert again.id == fluent.id == first.id == "report-2026-01"
    assert queue.get_job("report-2026-01").data == {"month": 1}
    assert queue.counts() == _counts(inactive=1)


def test_bulk_add_stores_every_job_in_one_go(backend, queue):
    # When jobs are added in bulk, in the three accepted forms
    jobs = queue.add_bulk([("a", {"n": 1}), {"type": "b", "data": {"n": 2}, "priority": "high", "delay": 60_000},
                           queue.create("a", {"n": 3}).attempts(2), {"type": "b", "job_id": "b-custom"}])

    # Then each is stored with its own options
    assert [j.id for j in jobs] == ["1", "2", "3", "b-custom"]
    assert [j.state for j in jobs] == ["inactive", "delayed", "inactive", "inactive"]
    assert queue.get_job("2").opts.priority == -10 and queue.get_job("3").opts.attempts == 2
    assert queue.counts() == _counts(inactive=3, delayed=1)


def test_bulk_add_of_many_jobs_is_one_round_trip(backend, queue):
    # Given a count of the calls of the scripts that add jobs (each call is one round trip)
    calls: list[int] = []
    original = queue._run

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    queue._run = counting  # type: ignore[method-assign]

    # When 500 jobs are added in bulk
    jobs = queue.add_bulk([("t", {"n": n}) for n in range(500)])

    # Then one script call stored them all
    assert len(calls) == 1 and len(jobs) == 500 and queue.counts()["inactive"] == 500


def test_a_bulk_add_names_every_job_and_spots_the_duplicates(queue):
    # Given a job that already has a custom id
    queue.add("t", job_id="taken")

    # When a batch mixes counter ids, new custom ids, that taken id, and one custom id twice
    jobs = queue.add_bulk([("t", {"n": 1}), {"type": "t", "job_id": "fresh"}, {"type": "t", "job_id": "taken"},
                           ("t", {"n": 2}), {"type": "t", "job_id": "fresh"}, ("t", {"n": 3})])

    # Then the counter ids follow the batch order, and only the repeats are marked duplicates (nothing stored)
    assert [j.id for j in jobs] == ["1", "fresh", "taken", "2", "fresh", "3"]
    assert [j.duplicate for j in jobs] == [False, False, True, False, True, False]
    assert [j.state for j in jobs] == ["inactive"] * 6
    assert queue.get_job("2").data == {"n": 2} and queue.counts()["inactive"] == 5


def test_a_bulk_add_pauses_the_garbage_collector_only_while_it_runs(queue):
    # Given a program with Python's cyclic garbage collector on
    assert gc.isenabled()
    seen: list[bool] = []
    original = queue._run

    def spying(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    queue._run = spying  # type: ignore[method-assign]

    # When a batch is added, and then a batch with a bad item is refused
    queue.add_bulk([("t", {"n": n}) for n in range(10)])
    with pytest.raises(ValidationError, match=r"jobs\[1\]\.data"):
        queue.add_bulk([("t", {"n": 1}), ("t", {"n": {1, 2}})])

    # Then the collector was paused while the batch was sent, and is on again after both
    assert seen == [False] and gc.isenabled()

    # And a program that turned the collector off itself finds it still off
    gc.disable()
    try:
        queue.add_bulk([("t", {"n": 11})])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_bulk_add_announces_each_job(queue):
    # Given a listener of every job's enqueue event
    heard: list[tuple[str, str]] = []
    queue.on("job enqueue", lambda job_id, job_type: heard.append((job_id, job_type)))

    # When 1,200 jobs of two types are added in one batch (several event messages)
    queue.add_bulk([("a" if n % 3 else "b", {"n": n}) for n in range(1200)])

    # Then each job was announced once, with its type
    wait_until(lambda: len(heard) >= 1200, message="the enqueue events")
    assert sorted(heard, key=lambda h: int(h[0])) == [(str(n + 1), "a" if n % 3 else "b") for n in range(1200)]


def test_jobs_added_from_many_threads_at_once_each_get_their_own_id(queue):
    # Given eight threads sharing one Queue (a web app's request handlers)
    added: list[str] = []
    lock = threading.Lock()

    def produce(k: int) -> None:
        for n in range(100):
            job = queue.add("t", {"thread": k, "n": n})
            with lock:
                added.append(job.id)

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(8)]

    # When they all add jobs at the same time
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then every job got a distinct id, and each id holds the data of the add that received it
    assert len(set(added)) == 800 and queue.counts()["inactive"] == 800
    assert sorted(map(int, added)) == list(range(1, 801))


def test_a_forked_process_adds_jobs_on_a_connection_of_its_own(real_redis):
    # Given a queue that has added a job (its connection for adding is open)
    queue = make_queue(real_redis)
    queue.add("t", {"by": "parent"})

    # When the process forks and both processes add jobs at the same time
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            child = [queue.add("t", {"by": "child"}) for _ in range(200)]
            code = 0 if all(queue.get_job(j.id).data == {"by": "child"} for j in child) else 3
        finally:
            os._exit(code)
    parent = [queue.add("t", {"by": "parent"}) for _ in range(200)]
    _, status = os.waitpid(pid, 0)

    # Then neither read the other's replies: each job holds the data of the process that was told its id
    assert os.waitstatus_to_exitcode(status) == 0
    assert all(queue.get_job(j.id).data == {"by": "parent"} for j in parent)
    assert queue.counts()["inactive"] == 401


def test_an_add_cut_off_before_its_reply_leaves_no_reply_for_the_next_add(real_redis, monkeypatch):
    # Given a producer whose add is interrupted after sending, before reading the reply (Ctrl-C at that moment)
    queue = make_queue(real_redis)
    queue.add("t", {"n": 1})
    connection = queue._lane._conn

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(connection, "read_response", interrupted)
    with pytest.raises(KeyboardInterrupt):
        queue.add("t", {"n": 2})
    monkeypatch.undo()

    # When the next add runs at once
    job = queue.add("t", {"n": 3})

    # Then it reads its own reply, not the one left unread (the interrupted job was stored as job 2)
    assert job.id == "3" and queue.get_job("3").data == {"n": 3}
    assert queue.get_job("2").data == {"n": 2}


def test_many_queues_sharing_one_client_never_run_out_of_its_connections(real_redis):
    import redis

    from queuekit import Queue

    # Given one redis-py client whose pool allows 10 connections, shared by more queues than that
    client = redis.Redis.from_url(real_redis.url, decode_responses=True, max_connections=10)
    queues = [Queue(f"q{n}", client=client, events=False) for n in range(25)]
    try:
        # When each adds a job (each keeps a connection for adding jobs)
        jobs = [queue.add("t", {"n": n}) for n, queue in enumerate(queues)]

        # Then every add went through, and the client's pool still has its connections for everything else
        assert [queue.get_job(job.id).data for queue, job in zip(queues, jobs)] == [{"n": n} for n in range(25)]
        assert client.ping()
    finally:
        for queue in queues:
            queue.close()
        client.close()


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_a_prepared_request_is_byte_for_byte_what_redis_py_would_send(encoding):
    # Given add.lua's request prepared once on a producer's kept connection (nothing is sent to pack it)
    import redis

    from queuekit.lane import Lane
    from queuekit.scripts import Call

    client = redis.Redis(encoding=encoding, decode_responses=True)
    lane = Lane.for_client(client)
    keys, fixed = ["qk:{q}:id", "qk:{q}:job:", "qk:{q}:wait:t"], ["qk:{q}:events", "tâche"]
    head = Call("add", keys, fixed)
    request = lane.frame(head)
    conn = client.connection_pool.make_connection()

    # When each call frames its own arguments: ints, text, nothing, data larger than redis-py's chunks, a float
    calls = [[1764660000000, '{"n":1}'], [-3, ""], [0, "é" * 7000, "id-9", 1500, -10], [2.5, b"raw"], []]

    # Then the bytes are the ones redis-py packs for the whole command: with its Python packer, which encodes text
    # in the client's encoding, and in UTF-8 with the connection's own too (hiredis's, where installed, always
    # sends UTF-8, whatever the client's encoding)
    packers = [redis.connection.PythonRespSerializer(6000, conn.encoder.encode).pack]
    if encoding == "utf-8":
        packers.append(conn.pack_command)
    for args in calls:
        for pack in packers:
            expected = b"".join(pack(*head.command, *args))
            assert request.pack(args) == expected, (pack, args)



# a script that keeps Redis busy for about ARGV[1] ms before it answers (TIME is allowed in scripts since Redis 5)
_SLOW = """local t = redis.call('TIME'); local start = t[1] * 1000000 + t[2]
repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start >= tonumber(ARGV[1]) * 1000
return 1"""


def _count_polls(monkeypatch) -> list:
    """Make queuekit.polling's select.poll count its calls (only there: redis-py polls sockets too, for its own
    checks); returns the list each poll appends its timeout to."""
    import select
    import types

    import queuekit.polling

    polls, real_poll = [], select.poll

    class CountingPoll:
        def __init__(self):
            self._poll = real_poll()
            self.register = self._poll.register

        def poll(self, timeout):
            polls.append(timeout)
            return self._poll.poll(timeout)

    monkeypatch.setattr(queuekit.polling, "select", types.SimpleNamespace(poll=CountingPoll, POLLIN=select.POLLIN))
    return polls


@pytest.fixture
def polling_lane(real_redis, monkeypatch):
    """A producer's lane on the real Redis with polling switched on, and a function that makes one call on it and
    says how many times the lane polled its socket for the reply."""
    import redis

    from queuekit.lane import Lane

    polls = _count_polls(monkeypatch)
    client = redis.Redis.from_url(real_redis.url)
    lane = Lane.for_client(client, poll_replies=True)
    shas = {"slow": client.script_load(_SLOW), "fast": client.script_load("return 1")}

    def call(kind, ms=0):
        polls.clear()
        assert lane.execute_command("EVALSHA", shas[kind], 0, ms) == 1  # the same reply however the lane waited
        return len(polls)

    yield call
    lane.close()
    client.close()


def test_only_a_producer_adding_in_a_burst_polls_for_its_replies(polling_lane, monkeypatch):
    from queuekit.polling import ReplyPoller

    # Given a producer's lane that polls only for a call made within 50 ms of the previous reply
    monkeypatch.setattr(ReplyPoller, "SPIN_WITHIN", 0.05)

    # When it makes a first call, then one right after it, then one after a pause of 0.2 s
    first, second = polling_lane("fast"), polling_lane("fast")
    time.sleep(0.2)
    after_pause = polling_lane("fast")

    # Then only the call right after another polled: the others slept in the read at once
    assert (first, after_pause) == (0, 0)
    assert second > 0


def test_a_producer_whose_replies_outlast_its_poll_stops_polling_for_a_while_then_tries_again(polling_lane,
                                                                                              monkeypatch):
    from queuekit.polling import ReplyPoller

    # Given a producer's lane that polls 100 ms for each reply (every call counts as part of a burst here), gives up
    # polling after 3 misses in a row, for 2 calls (100 ms: a reply that comes at once comes within it even on a
    # loaded machine, a slow one of 300 ms never does)
    monkeypatch.setattr(ReplyPoller, "SPIN", 0.1)
    monkeypatch.setattr(ReplyPoller, "SPIN_WITHIN", float("inf"))
    monkeypatch.setattr(ReplyPoller, "SPIN_MISSES", 3)
    monkeypatch.setattr(ReplyPoller, "SPIN_REST", 2)

    # When two replies take 300 ms, one comes at once, then two more take 300 ms
    # Then the fast one resets the count: misses must come in a row, and the lane still polls for every call
    assert all(polling_lane("slow", 300) > 0 for _ in range(2))
    assert polling_lane("fast") > 0
    assert all(polling_lane("slow", 300) > 0 for _ in range(2))

    # When a third slow reply in a row outlasts the poll
    assert polling_lane("slow", 300) > 0

    # Then the next two calls block at once, without polling, and the one after polls again
    assert [polling_lane("fast") for _ in range(2)] == [0, 0]
    assert polling_lane("fast") > 0


@pytest.mark.parametrize("options, polls", [({}, "none"), ({"poll_replies": True}, "some")])
def test_a_queue_polls_for_its_replies_only_when_asked_to(real_redis, monkeypatch, options, polls):
    from queuekit.polling import ReplyPoller

    # Given a queue on the real Redis, made as it is by default (or with poll_replies=True), where any add counts as
    # part of a burst
    monkeypatch.setattr(ReplyPoller, "SPIN_WITHIN", float("inf"))
    counted = _count_polls(monkeypatch)
    queue = make_queue(real_redis, **options)
    try:
        # When a producer adds jobs back to back
        jobs = [queue.add("t", {"n": n}) for n in range(20)]

        # Then the jobs are stored either way, and the default queue never polled its socket for a reply
        assert [queue.get_job(job.id).data for job in jobs] == [{"n": n} for n in range(20)]
        assert (len(counted) > 0) == (polls == "some")
    finally:
        queue.close()


def test_the_redis_py_internals_the_lanes_and_the_polling_producer_use_are_there_in_the_pinned_redis_py(real_redis):
    import socket

    import redis

    from queuekit.polling import SOCKET_ATTRIBUTE, connection_socket

    # Given the redis-py installed, within the versions pyproject.toml allows (checked here: 5 to 8)
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert re.findall(r'^\s*"redis[^"]*"', pyproject, re.M) == ['    "redis>=5.0.1,<9"']
    assert 5 <= int(redis.__version__.split(".")[0]) < 9, redis.__version__

    # When one of its connections connects, then disconnects
    conn = redis.Redis.from_url(real_redis.url).connection_pool.make_connection()
    conn.connect()
    connected = connection_socket(conn)
    conn.disconnect()

    # Then the poller finds the connected socket under the attribute it reads, and None once it is closed
    assert SOCKET_ATTRIBUTE == "_sock" and isinstance(connected, socket.socket)
    assert connection_socket(conn) is None
    # and a connection has what queuekit/lane.py uses below the client API: its encoder's settings, sending a
    # request packed beforehand, reading one reply, and the pool's way of building one outside its count
    encoder = conn.encoder
    assert isinstance(encoder.encoding, str) and isinstance(encoder.encoding_errors, str)
    assert encoder.encode("é") == "é".encode(encoder.encoding)
    for method in ("send_packed_command", "send_command", "read_response", "can_read", "pack_command",
                   "register_connect_callback"):
        assert callable(getattr(conn, method)), method
    pool = redis.Redis.from_url(real_redis.url).connection_pool
    assert isinstance(pool.connection_class(**pool.connection_kwargs), redis.Connection)


@pytest.mark.parametrize("server_does", ["close", "nothing"])
@pytest.mark.filterwarnings("ignore:Call to '__init__':DeprecationWarning")  # lib_name: redis-py 8 prefers driver_info
def test_a_polling_producer_fails_as_before_when_the_server_hangs_up_or_never_answers(server_does, monkeypatch):
    import socket
    import threading

    import redis

    from queuekit.lane import Lane
    from queuekit.polling import ReplyPoller

    # Given a server that takes the request, then hangs up (or keeps the connection open and never answers), and a
    # producer's lane that polls for the reply: 5 s when the server hangs up, 0.2 s when it says nothing (then the
    # lane blocks in the ordinary read, which times out after the client's socket timeout, 0.5 s)
    monkeypatch.setattr(ReplyPoller, "SPIN", 5.0 if server_does == "close" else 0.2)
    monkeypatch.setattr(ReplyPoller, "SPIN_WITHIN", float("inf"))  # the first call polls too
    listener = socket.create_server(("127.0.0.1", 0))
    requests: list[bytes] = []
    held: list[socket.socket] = []

    def serve():
        conn, _ = listener.accept()
        held.append(conn)
        while True:
            data = conn.recv(65536)
            if not data:
                return
            requests.append(data)
            if data.startswith(b"*1\r\n$4\r\nPING"):
                conn.sendall(b"+PONG\r\n")  # the lane's probe of a connection that sat idle
            elif server_does == "close":
                conn.close()
                return

    threading.Thread(target=serve, daemon=True).start()
    # RESP2 and no CLIENT SETINFO: nothing is sent on connect, the server's first request is the script call
    client = redis.Redis(port=listener.getsockname()[1], socket_timeout=0.5, protocol=2,
                         lib_name=None, lib_version=None)
    lane = Lane.for_client(client, poll_replies=True)
    try:
        # When the producer sends its call
        t0 = time.monotonic()
        expected = redis.ConnectionError if server_does == "close" else redis.TimeoutError
        with pytest.raises(expected):
            lane.execute_command("EVALSHA", "0" * 40, 0)
        elapsed = time.monotonic() - t0

        # Then the call reached the server and failed as it would without polling: at once when the server hangs
        # up (never after the whole 5 s poll), after the poll and the socket timeout when it says nothing
        assert any(b"EVALSHA" in request for request in requests)
        if server_does == "close":
            assert elapsed < 4.0
        else:
            assert 0.6 <= elapsed < 4.0
    finally:
        lane.close()
        client.close()
        listener.close()
        for conn in held:
            conn.close()

def test_a_producer_that_turns_events_off_and_on_publishes_only_while_they_are_on(real_redis):
    # Given a producer listening on its queue's channel, whose adds of one type reuse a prepared request
    queue = make_queue(real_redis)
    pubsub = real_redis.client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(queue.keys.channel)
    pubsub.get_message(timeout=1)
    try:
        # When it adds a job with events on, one with them off, and one with them on again
        first = queue.add("t", {"n": 1})
        queue.events_enabled = False
        queue.add("t", {"n": 2})
        queue.events_enabled = True
        third = queue.add("t", {"n": 3})

        # Then exactly the first and the third were announced
        heard = []
        deadline = time.monotonic() + 5
        while len(heard) < 2 and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.5)
            if message:
                heard.append(message["data"])
        time.sleep(0.2)
        heard += [m["data"] for m in iter(lambda: pubsub.get_message(timeout=0.1), None)]
        assert len(heard) == 2 and f'"{first.id}"' in heard[0] and f'"{third.id}"' in heard[1]
        assert queue.counts()["inactive"] == 3
    finally:
        pubsub.close()


# ---- retention ----------------------------------------------------------------------------------------------------

def test_remove_on_complete_deletes_the_job_but_delivers_its_result(backend, queue, worker):
    # Given a job to be removed once complete
    job = queue.create("t").remove_on_complete().save()

    # When a worker completes it, after the job logged a line
    def handler(job):
        job.log("a line")
        return "gone with the job"

    worker({"t": handler})
    job.wait(timeout=10)

    # Then nothing of it is left
    assert queue.get_job(job.id) is None
    assert queue.counts() == EMPTY
    assert _keys_of_jobs(backend, queue) == []


def test_a_listener_gets_the_result_of_a_job_removed_on_complete(queue, worker):
    results: list[str] = []
    job = queue.create("t").remove_on_complete().on("complete", results.append).save()
    worker({"t": lambda job: "the result"})
    wait_until(lambda: results == ["the result"], message="the complete event")
    assert queue.get_job(job.id) is None


def test_keep_complete_keeps_only_the_newest_jobs(backend, worker):
    # Given a queue that keeps 3 complete jobs
    queue = make_queue(backend, keep_complete=3)
    jobs = [queue.add("t", {"n": n}) for n in range(8)]

    # When a worker completes 8 (retention is applied by the worker, at most a second after jobs finish)
    worker({"t": lambda job: job.data["n"]}, on=queue)
    jobs[-1].wait(timeout=10)

    # Then only the last 3 remain, with their hashes; the others are gone entirely
    wait_until(lambda: queue.counts() == _counts(complete=3), timeout=5, message="retention applied")
    assert [j.id for j in queue.jobs("complete")] == [j.id for j in jobs[-3:]]
    assert [queue.get_job(j.id) for j in jobs[:5]] == [None] * 5


def test_retention_catches_up_with_more_jobs_than_one_clean_removes(backend, worker, monkeypatch):
    # Given a queue that keeps 3 complete jobs, and workers whose retention call removes at most 5 jobs at a time
    import queuekit.worker

    monkeypatch.setattr(queuekit.worker, "CLEAN_BATCH", 5)
    queue = make_queue(backend, keep_complete=3)
    jobs = queue.add_bulk([("t", {"n": n}) for n in range(20)])

    # When a worker in the background completes all 20, more than one call may remove
    # (no job.wait here: all 20 finish in the same millisecond, so the last one added may be among those removed)
    worker({"t": lambda job: None}, on=queue, concurrency=20)

    # Then retention calls again until only the newest 3 are left, without waiting for another job to finish
    wait_until(lambda: queue.counts() == _counts(complete=3), timeout=10, message="retention caught up")
    assert sum(queue.get_job(j.id) is not None for j in jobs) == 3  # the others' hashes are gone too


def test_a_drain_returns_with_the_lines_within_their_limits(backend, monkeypatch):
    # Given the same small retention call, 12 jobs and a queue that keeps 2 complete jobs
    import queuekit.worker

    monkeypatch.setattr(queuekit.worker, "CLEAN_BATCH", 5)
    queue = make_queue(backend, keep_complete=2)
    queue.add_bulk([("t", {"n": n}) for n in range(12)])

    # When a worker drains the queue and returns
    Worker(queue, {"t": lambda job: None}, concurrency=12).drain()

    # Then retention has already removed all but 2, though that took more than one call of 5
    assert queue.counts() == _counts(complete=2)


def test_clean_removes_finished_jobs_by_age_and_by_count(backend, queue):
    # Given 6 complete jobs, 3 of which finished an hour ago
    for _ in range(6):
        queue.add("t")
    Worker(queue, {"t": lambda job: None}).drain()
    hour_ago = (time.time() - 3600) * 1000
    for job_id in ["1", "2", "3"]:
        backend.client.zadd(queue.keys.complete, {job_id: hour_ago})

    # When cleaning those older than 10 minutes, then keeping the newest 2, then everything
    assert queue.clean("complete", older_than=timedelta(minutes=10)) == 3
    assert sorted(j.id for j in queue.jobs("complete")) == ["4", "5", "6"]
    assert queue.clean("complete", keep=2) == 1
    assert sorted(j.id for j in queue.jobs("complete")) == ["5", "6"]
    assert queue.clean("complete") == 2

    # Then nothing is left of them
    assert queue.counts() == EMPTY and queue.get_job("6") is None
    with pytest.raises(ValidationError, match="only finished jobs can be cleaned"):
        queue.clean("inactive")


def test_the_default_retention_keeps_redis_bounded(backend):
    queue = make_queue(backend, "defaults")
    assert queue.retention == {"complete": (1000, 24 * 3600 * 1000), "failed": (5000, 7 * 24 * 3600 * 1000)}


# ---- reading, listing, managing -----------------------------------------------------------------------------------

def test_counts_and_listing_by_state_and_type_with_paging(queue):
    # Given 5 email jobs and 3 resize jobs waiting, and one delayed email
    emails = [queue.add("email", {"n": n}) for n in range(5)]
    resizes = [queue.add("resize", {"n": n}) for n in range(3)]
    queue.add("email", delay=60_000)

    # Then counts are per state, overall and per type
    assert queue.counts() == _counts(inactive=8, delayed=1)
    assert queue.counts("resize") == _counts(inactive=3)
    assert queue.types() == ["email", "resize"]

    # ... and listing pages through a state, optionally of one type, in line order
    assert [j.id for j in queue.jobs("inactive", type="email", start=1, count=2)] == [emails[1].id, emails[2].id]
    assert [j.id for j in queue.jobs("inactive", type="resize")] == [j.id for j in resizes]
    assert len(queue.jobs("inactive", count=50)) == 8
    assert [j.id for j in queue.jobs("inactive", start=6, count=5)] == [resizes[1].id, resizes[2].id]
    assert [j.state for j in queue.jobs("delayed")] == ["delayed"]
    with pytest.raises(ValidationError, match="unknown state 'waiting'"):
        queue.jobs("waiting")


def test_complete_and_failed_jobs_are_listed_by_type(queue):
    queue.add("ok")
    queue.add("boom")
    Worker(queue, {"ok": lambda job: 1, "boom": lambda job: 1 / 0}).drain()
    assert [j.type for j in queue.jobs("complete")] == ["ok"]
    assert [j.type for j in queue.jobs("failed", type="boom")] == ["boom"]
    assert queue.jobs("failed", type="ok") == []
    assert queue.counts("boom") == _counts(failed=1)


def test_retry_puts_a_failed_job_back_with_fresh_attempts(queue):
    # Given a job that failed for good
    job = queue.add("t", attempts=2)
    outcomes = iter([ValueError("one"), ValueError("two"), "third time lucky"])

    def handler(job):
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    Worker(queue, {"t": handler}).drain(run_delayed=True)
    assert job.refresh().state == "failed" and job.failures == 2

    # When it is retried
    assert job.retry() is True
    assert queue.retry(job.id) == 0  # not failed any more: nothing to do

    # Then it runs again and completes; its history keeps the earlier failures
    assert job.refresh().state == "inactive" and job.failures == 0
    Worker(queue, {"t": handler}).drain()
    assert job.refresh().state == "complete" and job.result == "third time lucky"
    assert [a["error"] for a in job.failed_attempts] == ["one", "two"]


def test_retry_failed_puts_every_failed_job_back(queue):
    jobs = [queue.add("t") for _ in range(3)]
    Worker(queue, {"t": lambda job: 1 / 0}).drain()
    assert queue.counts() == _counts(failed=3)
    assert sorted(queue.retry_failed()) == sorted(j.id for j in jobs)
    assert queue.counts() == _counts(inactive=3)


def test_remove_deletes_a_job_in_any_state(backend, queue):
    waiting = queue.add("t")
    delayed = queue.add("t", delay=60_000)
    waiting.log("a line")
    assert waiting.remove() is True and queue.remove(delayed.id) is True
    assert queue.remove("nope") is False
    assert queue.counts() == EMPTY
    assert _keys_of_jobs(backend, queue) == []


# ---- obliterate: the queue's own keys, and only those ------------------------------------------------------------

GLOB_NAMES = [
    pytest.param("queue[1]", ["queue1", "queue2"], id="brackets"),
    pytest.param("*", ["emails", "queue[1]", "a b"], id="star"),
    pytest.param("a?c", ["abc", "a-c"], id="question-mark"),
    pytest.param("[^x]y", ["ay", "xy"], id="negated-class"),
    pytest.param("back\\slash", ["backslash"], id="backslash"),
    pytest.param("tail\\", ["tail"], id="trailing-backslash"),
]


def _fill(queue):
    job = queue.add("t", {"queue": queue.name})
    job.log("a line")
    queue.add("t", delay=60_000)


@pytest.mark.parametrize("name, neighbours", GLOB_NAMES)
def test_obliterate_deletes_its_own_queue_whatever_glob_characters_its_name_holds(backend, name, neighbours):
    # Given a queue whose name holds glob characters, and queues whose names that name would match as a pattern,
    # each with jobs, a log line and its counters
    target = make_queue(backend, name)
    others = [make_queue(backend, n) for n in neighbours]
    for q in [target, *others]:
        _fill(q)
    theirs = {k: v for k, v in snapshot(backend.client).items() if k != QUEUES and not k.startswith(target.keys.base)}
    ours = len(backend.keys()) - len(theirs) - 1

    # When the queue is obliterated
    deleted = target.obliterate()

    # Then all of its keys are gone, and the other queues are exactly as they were
    assert deleted == ours
    assert {k: v for k, v in snapshot(backend.client).items() if k != QUEUES} == theirs
    assert backend.client.smembers(QUEUES) == set(neighbours)
    assert all(q.counts() == _counts(inactive=1, delayed=1) for q in others)


def test_obliterate_deletes_only_keys_under_its_own_prefix_whatever_a_scan_returns(backend, monkeypatch):
    # Given two queues, and a key scan that returns every key of the database (a pattern gone wrong)
    mine, other = make_queue(backend, "mine"), make_queue(backend, "other")
    _fill(mine)
    _fill(other)
    backend.client.set("not-queuekit", "1")
    monkeypatch.setattr(QueueKeys, "pattern", lambda self: "*")

    # When one queue is obliterated
    mine.obliterate()

    # Then only keys that start with that queue's own prefix were deleted
    assert other.counts() == _counts(inactive=1, delayed=1) and backend.client.get("not-queuekit") == "1"
    assert not [k for k in backend.keys() if k.startswith(mine.keys.base)]


# ---- the key layout: no id, type or worker name names another key ------------------------------------------------

#: the keys of a queue that hold a name: of a job type, a job id, a worker
NAMED_KEYS = ("wait", "delayed", "mark", "idle", "job", "log", "errs", "worker", "stop", "ready", "inbox", "done", "dead",
              "fails", "minute", "hour")
#: the queue's keys of one fixed name
FIXED_KEYS = ("id", "seq", "types", "active", "complete", "failed", "meta", "sweep", "workers", "failgroups",
              "failinfo", "stats")
#: names that spell other keys, and every separator and glob character there is
HOSTILE_NAMES = ["x", "x:log", "x:errs", "job:x", "log:x", "errs:x", "x:job", "log:x:errs", "x:", ":x", ":", "::",
                 "", "{x}", "}{", "{", "}", "x}:job:y", "*", "?", "[x]", "[", "]", "\\", "x\\:log", "a b", " ",
                 "é", "日本:log", "id", "seq", "active", "wait:x", "worker:x", "inbox:x", "events", "job", "log"]
HOSTILE_QUEUES = ["q", "q:job", "q:log:x", "*", "[q]", "q\\", "é q", "queues"]


def _every_key(keys: QueueKeys) -> list[str]:
    return ([getattr(keys, kind) for kind in FIXED_KEYS]
            + [getattr(keys, kind)(name) for kind in NAMED_KEYS for name in HOSTILE_NAMES])


def test_no_id_type_or_worker_name_can_name_another_key():
    # Given every key keys.py builds, fixed or from a name (the proof must cover any kind added later)
    builders = {n for n, f in vars(QueueKeys).items() if inspect.isfunction(f) and not n.startswith("_")
                and len(inspect.signature(f).parameters) == 2 and inspect.signature(f).return_annotation == "str"}
    assert builders == set(NAMED_KEYS)
    assert {n for n in QueueKeys.__slots__ if not n.startswith("_")} - {"name", "base", "job_prefix", "channel"} \
        == set(FIXED_KEYS)

    # When every key of several queues is built for names that spell other keys, separators and glob characters
    queues = [QueueKeys(name) for name in HOSTILE_QUEUES]
    built = [(keys.name, key) for keys in queues for key in _every_key(keys)] + [("", QUEUES)]

    # Then no two are the same key, and each key is its own queue's and no other's
    seen: dict[str, str] = {}
    for owner, key in built:
        assert key not in seen, f"{key!r} is built twice (queues {seen[key]!r} and {owner!r})"
        seen[key] = owner
    for keys in queues:
        assert [owner for owner, key in built if keys.owns(key)] == [keys.name] * len(_every_key(keys))


def test_the_scripts_derive_keys_only_as_the_queue_prefix_and_a_kind_of_keys_py():
    # A script derives a key as <queue prefix> .. '<kind>:' .. <name>, never by appending to another key's name
    for path in sorted((Path(queuekit.__file__).parent / "lua").glob("*.lua")):
        code = "\n".join(line.split("--")[0] for line in path.read_text().splitlines())
        assert not re.search(r"\.\.\s*':", code), f"{path.name} appends to a key's name"
        kinds = set(re.findall(r"\.\.\s*'(\w+):'", code))
        assert kinds <= set(NAMED_KEYS), f"{path.name} derives keys of kinds keys.py does not build: {kinds}"


def test_pause_stops_new_jobs_and_resume_wakes_the_workers(queue, worker):
    # Given a paused queue with a running worker
    queue.pause()
    worker({"t": lambda job: "ran"}, block_timeout=5)
    job = queue.add("t")

    # Then nothing starts while paused
    time.sleep(0.5)
    assert queue.paused and queue.get_job(job.id).state == "inactive"

    # When resumed, the job runs promptly
    queue.resume()
    assert not queue.paused
    assert job.wait(timeout=3) == "ran"


# ---- who serves the waiting jobs, and the list of queue names -------------------------------------------------------

def test_unserved_names_the_waiting_types_no_live_worker_serves(queue, worker):
    # Given a delayed email and two waiting reports, and no worker at all
    queue.add("email", delay=60_000)
    queue.add("report")
    queue.add("report")

    # Then both types are flagged, with how many of their jobs wait
    assert queue.unserved() == {"email": 1, "report": 2}

    # When a worker serving email and resize reports in
    w = worker({"email": lambda job: "sent", "resize": lambda job: "resized"})
    wait_until(queue.workers, message="the worker reporting in")

    # Then only report is flagged: the email waits for its time, and a live worker will take it then
    assert queue.unserved() == {"report": 2}

    # When that worker stops, nobody serves email any more
    w.stop(timeout=2)
    assert queue.unserved() == {"email": 1, "report": 2}


def test_a_worker_lists_its_queue_again_after_the_set_of_names_lost_it(backend, queue, worker):
    # Given a queue whose name is listed, and a worker on it
    queue.add("t")  # an add lists the queue's name
    worker({"t": lambda job: "ok"}, lease=0.6)
    assert backend.client.smembers("qk:queues") == {"test"}

    # When the set of names is lost (as a Redis restarted without persistence loses it)
    backend.client.delete("qk:queues")

    # Then the worker puts the name back when it next reports in (every lease / 3)
    wait_until(lambda: backend.client.smembers("qk:queues") == {"test"}, timeout=5,
               message="the queue's name listed again")

# ---- errors from Redis ----------------------------------------------------------------------------------------

def test_each_error_from_redis_is_a_queuekit_error_that_keeps_its_builtin_and_redis_py_kin():
    import redis

    from queuekit import errors

    # what a caller may already catch, by each of the three families
    kin = {
        errors.ConnectionFailed: (ConnectionError, redis.exceptions.ConnectionError),
        errors.ServerLoading: (errors.ConnectionFailed, ConnectionError, redis.exceptions.BusyLoadingError),
        errors.CommandTimeout: (TimeoutError, redis.exceptions.TimeoutError),
        errors.ErrorReply: (errors.ServerError, redis.exceptions.ResponseError),
        errors.ServerError: (redis.exceptions.RedisError,),
    }
    for cls, bases in kin.items():
        assert issubclass(cls, QueuekitError), cls
        for base in bases:
            assert issubclass(cls, base), (cls, base)
        assert cls.__name__ in errors.__all__
        assert repr(cls("why")) == f"{cls.__name__}('why')"


def test_a_key_of_the_queue_overwritten_with_the_wrong_type_raises_a_queuekit_error_reply(backend, queue):
    import redis

    from queuekit.connection import describe_client
    from queuekit.errors import ErrorReply

    # Given someone who stored a plain string where the queue keeps its settings (a hash)
    backend.client.set(queue.keys.meta, "not a hash")

    # When the queue is paused
    with pytest.raises(ErrorReply) as refused:
        queue.pause()

    # Then Redis's answer comes out as a queuekit error, still catchable as redis-py's, with redis-py's as its cause
    assert isinstance(refused.value, QueuekitError) and isinstance(refused.value, redis.ResponseError)
    assert "WRONGTYPE" in str(refused.value) and describe_client(queue.client) in str(refused.value)
    assert isinstance(refused.value.__cause__, redis.ResponseError)
    assert not isinstance(refused.value.__cause__, QueuekitError)
