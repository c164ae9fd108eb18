"""The operator's library calls the dashboard and its JSON API are made of: promote, change priority, change state,
bulk retry and remove, failures grouped by error, and search computed in Redis."""

from __future__ import annotations

import time

import pytest
from fixtures import snapshot, wait_until

from queuekit import Worker, scripts
from queuekit.errors import ValidationError
from queuekit.job import now_ms

pytestmark = pytest.mark.timeout(60)

EMPTY = {"inactive": 0, "active": 0, "delayed": 0, "complete": 0, "failed": 0}


def _counts(**changes: int) -> dict[str, int]:
    return {**EMPTY, **changes}


def _fail(job):
    raise RuntimeError(job.data.get("error", "boom") if isinstance(job.data, dict) else "boom")


def _waiting(queue) -> list[str]:
    return [j.id for j in queue.jobs("inactive", count=1000)]


# ---- promote ------------------------------------------------------------------------------------------------------

def test_promote_puts_a_delayed_job_in_line_now(queue):
    # Given a delayed job, and jobs already waiting
    queue.add("t", {"n": 1})
    delayed = queue.add("t", {"n": 2}, delay=3_600_000)
    events: list[str] = []
    queue.on("job promotion", lambda job_id, *args: events.append(job_id))

    # When it is promoted
    promoted = queue.promote(delayed.id)

    # Then it waits in line (as claim.lua would have promoted it once due), and runs when a worker drains the queue
    assert promoted is True
    wait_until(lambda: events == [delayed.id], message="the promotion event")
    assert queue.get_job(delayed.id).state == "inactive"
    assert queue.counts() == _counts(inactive=2)
    ran: list[int] = []
    Worker(queue, {"t": lambda job: ran.append(job.data["n"])}).drain()
    assert sorted(ran) == [1, 2]


def test_promote_answers_false_for_a_job_that_is_not_delayed(backend, queue):
    # Given a waiting job
    waiting = queue.add("t")
    before = snapshot(backend.client)

    # Then promoting it, or an unknown id, changes nothing
    assert queue.promote(waiting.id) is False
    assert queue.promote("nope") is False
    assert snapshot(backend.client) == before


# ---- set_priority -------------------------------------------------------------------------------------------------

def test_set_priority_moves_a_waiting_job_within_its_line_keeping_fifo_in_a_band(queue):
    # Given four waiting jobs of normal priority
    jobs = [queue.add("t", {"n": n}) for n in range(4)]

    # When the last and the third are made high priority, in that order
    assert queue.set_priority(jobs[3].id, "high") is True
    assert queue.set_priority(jobs[2].id, -10) is True

    # Then both run first, in their arrival order, then the others in theirs
    assert _waiting(queue) == [jobs[2].id, jobs[3].id, jobs[0].id, jobs[1].id]
    assert queue.get_job(jobs[3].id).opts.priority == -10

    # When one goes back to normal, it takes back its place by arrival order
    assert queue.set_priority(jobs[2].id, "normal") is True
    assert _waiting(queue) == [jobs[3].id, jobs[0].id, jobs[1].id, jobs[2].id]


def test_set_priority_of_a_delayed_or_finished_job_changes_the_field(queue):
    # Given a delayed job and a complete one
    delayed = queue.add("t", delay=3_600_000)
    done = queue.add("t")
    Worker(queue, {"t": lambda job: None}).drain()

    # When their priorities change
    assert queue.set_priority(delayed.id, "critical") is True
    assert queue.set_priority(done.id, 5) is True

    # Then the fields changed and the lines did not; a promoted delayed job takes its new priority with it
    assert queue.get_job(delayed.id).opts.priority == -15 and queue.get_job(done.id).opts.priority == 5
    assert queue.counts() == _counts(delayed=1, complete=1)
    later = queue.add("t")
    queue.promote(delayed.id)
    assert _waiting(queue) == [delayed.id, later.id]


@pytest.mark.parametrize("bad", ["urgent", 10_000, 1.5, None, True])
def test_set_priority_refuses_a_bad_priority_and_writes_nothing(backend, queue, bad):
    job = queue.add("t")
    before = snapshot(backend.client)
    with pytest.raises(ValidationError, match="priority"):
        queue.set_priority(job.id, bad)
    assert snapshot(backend.client) == before


def test_set_priority_of_an_unknown_job_is_false(queue):
    assert queue.set_priority("nope", "high") is False


# ---- move (Kue's change of state) ---------------------------------------------------------------------------------

def test_move_a_failed_job_to_inactive_gives_it_fresh_attempts(queue):
    # Given a job that failed for good
    job = queue.add("t", attempts=1)
    Worker(queue, {"t": _fail}).drain()
    assert job.refresh().state == "failed"

    # When it is moved to inactive
    assert queue.move(job.id, "inactive") is True

    # Then it waits in line with fresh attempts, and is in no finished line or index
    stored = queue.get_job(job.id)
    assert stored.state == "inactive" and stored.failures == 0 and stored.error is None
    assert queue.counts() == _counts(inactive=1) and queue.counts("t") == _counts(inactive=1)
    assert queue.jobs("failed", type="t") == []


def test_move_a_waiting_job_to_complete_and_then_to_failed(queue):
    # Given a waiting job and a delayed one
    waiting = queue.add("t")
    delayed = queue.add("t", delay=3_600_000)

    # When the waiting one is moved to complete and the delayed one to failed
    assert queue.move(waiting.id, "complete") is True
    assert queue.move(delayed.id, "failed") is True

    # Then each is finished, in its line and in its type's index
    assert queue.counts() == _counts(complete=1, failed=1) and queue.counts("t") == _counts(complete=1, failed=1)
    assert [j.id for j in queue.jobs("complete", type="t")] == [waiting.id]
    failed = queue.get_job(delayed.id)
    assert failed.state == "failed" and failed.error == "moved to failed by an operator"

    # When the complete one is moved to failed, and the failed one to complete
    assert queue.move(waiting.id, "failed") is True
    assert queue.move(delayed.id, "complete") is True

    # Then they swapped lines
    assert [j.id for j in queue.jobs("failed", type="t")] == [waiting.id]
    assert [j.id for j in queue.jobs("complete", type="t")] == [delayed.id]
    assert queue.get_job(delayed.id).error is None


def test_move_a_job_to_its_own_state_changes_nothing(backend, queue):
    job = queue.add("t")
    before = snapshot(backend.client)
    assert queue.move(job.id, "inactive") is True
    assert snapshot(backend.client) == before


@pytest.mark.parametrize("state, message", [("active", "never active without"), ("delayed", "delay"),
                                            ("done", "unknown state"), (None, "unknown state")])
def test_move_refuses_a_state_it_cannot_give_and_writes_nothing(backend, queue, state, message):
    job = queue.add("t")
    before = snapshot(backend.client)
    with pytest.raises(ValidationError, match=message) as refused:
        queue.move(job.id, state)
    assert refused.value.field == "state"
    assert snapshot(backend.client) == before


def test_move_refuses_an_active_job_whose_worker_holds_a_lease(backend, queue):
    # Given a job a worker is running (claimed by hand: no handler ends it during the test)
    job = queue.add("t")
    scripts.run(queue.client, scripts.claim(queue.keys, "w1", ["t"], now=now_ms(), want=1, lease_ms=60_000,
                                            token="tok", channel="", promote_until=now_ms()))
    assert queue.get_job(job.id).state == "active"
    before = snapshot(backend.client)

    # Then moving it is refused, and nothing changes
    with pytest.raises(ValidationError, match="active"):
        queue.move(job.id, "complete")
    assert snapshot(backend.client) == before


def test_move_an_unknown_job_is_false(queue):
    assert queue.move("nope", "complete") is False


# ---- bulk retry and remove ----------------------------------------------------------------------------------------

def test_retry_many_puts_the_failed_ones_back_and_skips_the_others(queue):
    # Given three failed jobs and a waiting one
    failed = [queue.add("t") for _ in range(3)]
    Worker(queue, {"t": _fail}).drain()
    waiting = queue.add("t")

    # When two failed ones, the waiting one and an unknown id are retried
    retried = queue.retry_many([failed[0].id, int(failed[2].id), waiting.id, "nope"])

    # Then the two failed ones are back in line, and nothing else changed
    assert retried == [failed[0].id, failed[2].id]
    assert queue.counts() == _counts(inactive=3, failed=1)
    assert queue.retry_many([]) == []


def test_remove_many_deletes_jobs_in_any_state(backend, queue):
    # Given jobs waiting, delayed and failed
    waiting, delayed = queue.add("t"), queue.add("t", delay=60_000)
    failed = queue.add("u")
    Worker(queue, {"u": _fail}).drain()

    # When they and an unknown id are removed in one call
    assert queue.remove_many([waiting.id, delayed.id, failed.id, "nope"]) == 3

    # Then nothing of them is left, their failure group included
    assert queue.counts() == EMPTY and queue.failure_groups() == []
    assert [k for k in backend.keys() if k.startswith(queue.keys.base) and ":job:" in k] == []


@pytest.mark.parametrize("bad", [None, "1", [None], [True], [""], [1.5], [["1"]]])
def test_bulk_calls_refuse_bad_ids_and_write_nothing(backend, queue, bad):
    queue.add("t")
    before = snapshot(backend.client)
    for call in (queue.retry_many, queue.remove_many):
        with pytest.raises(ValidationError, match="ids"):
            call(bad)
    assert snapshot(backend.client) == before


def test_retry_many_of_a_star_retries_no_other_job(queue):
    # "*" is retry.lua's word for every failed job; as an id it names no job
    queue.add("t")
    Worker(queue, {"t": _fail}).drain()
    assert queue.retry_many(["*"]) == [] and queue.retry("*") == 0
    assert queue.counts() == _counts(failed=1)


# ---- failures grouped by error ------------------------------------------------------------------------------------

def _smtp_and_others(queue) -> tuple[list[str], list[str]]:
    """312 jobs failing with "TimeoutError: smtp" (200 emails, 112 digests), 5 with another error, 3 complete."""
    smtp = queue.add_bulk([("email" if n < 200 else "digest", {"error": "TimeoutError: smtp"}) for n in range(312)])
    other = queue.add_bulk([("email", {"error": "ValueError: bad address\n  in line 3"}) for _ in range(5)])
    queue.add_bulk([("email", {"ok": True}) for _ in range(3)])

    def handler(job):
        if "error" in job.data:
            _fail(job)

    Worker(queue, {"email": handler, "digest": handler}, concurrency=16).drain()
    return [j.id for j in smtp], [j.id for j in other]


def test_failures_are_grouped_by_the_first_line_of_their_error(queue):
    # Given 312 jobs of two types failing with one error, 5 with another, 3 complete
    smtp, other = _smtp_and_others(queue)
    assert queue.counts() == _counts(failed=317, complete=3)

    # When the failure groups are read
    groups = queue.failure_groups()

    # Then there are two, biggest first, each with its count, first and last seen, and the types it hit
    assert [(g["error"], g["count"]) for g in groups] == [("TimeoutError: smtp", 312), ("ValueError: bad address", 5)]
    assert sorted(groups[0]["types"]) == ["digest", "email"] and groups[1]["types"] == ["email"]
    assert all(isinstance(g["first_seen"], int) and g["first_seen"] <= g["last_seen"] for g in groups)
    # ... the key is a hash (no error text names a key), and pages the group's ids
    assert all(len(g["key"]) == 16 and int(g["key"], 16) >= 0 for g in groups)
    page = queue.failure_group_ids(groups[0]["key"], start=300, count=50)
    assert len(page) == 12 and set(page) <= set(smtp)
    assert sorted(queue.failure_group_ids(groups[1]["key"]), key=int) == other
    assert queue.failure_groups(limit=1) == groups[:1]


def test_retry_group_puts_the_whole_group_back_in_line(queue):
    # Given the 312 smtp failures and 5 others
    smtp, other = _smtp_and_others(queue)
    key = queue.failure_groups()[0]["key"]

    # When the group is retried
    retried = queue.retry_group(key)

    # Then all 312 wait in line again, and only the other group is left
    assert sorted(retried, key=int) == smtp
    assert queue.counts() == _counts(inactive=312, failed=5, complete=3)
    assert [g["count"] for g in queue.failure_groups()] == [5]
    assert queue.failure_group_ids(key) == [] and queue.retry_group(key) == []


def test_remove_group_deletes_the_whole_group(queue):
    # Given the 312 smtp failures and 5 others
    smtp, other = _smtp_and_others(queue)
    key = queue.failure_groups()[0]["key"]

    # When the group is removed
    assert queue.remove_group(key) == 312

    # Then its jobs are gone, the others stay
    assert queue.counts() == _counts(failed=5, complete=3) and queue.get_job(smtp[0]) is None
    assert [g["count"] for g in queue.failure_groups()] == [5] and queue.remove_group(key) == 0


def test_every_way_out_of_the_failed_line_leaves_the_group(queue):
    # Given five jobs failed with one error
    jobs = [queue.add("t", {"error": "boom"}) for _ in range(5)]
    Worker(queue, {"t": _fail}).drain()
    assert [g["count"] for g in queue.failure_groups()] == [5]

    # When one is retried, one removed, one moved to complete and one to inactive
    queue.retry(jobs[0].id)
    queue.remove(jobs[1].id)
    queue.move(jobs[2].id, "complete")
    queue.move(jobs[3].id, "inactive")

    # Then one is left in the group; and once the failed line is cleaned, there is no group
    assert [g["count"] for g in queue.failure_groups()] == [1]
    assert queue.clean("failed") == 1
    assert queue.failure_groups() == []


def test_a_job_failed_by_the_stalled_sweep_joins_a_group(queue):
    # Given a job claimed under a lease that ran out, and a sweep allowing no stall
    job = queue.add("t")
    now = now_ms()
    scripts.run(queue.client, scripts.claim(queue.keys, "w1", ["t"], now=now, want=1, lease_ms=1, token="tok",
                                            channel="", promote_until=now))

    # When the sweep runs
    scripts.run(queue.client, scripts.sweep(queue.keys, now + 1000, 0, 0, "", 100))

    # Then the job failed for good, in the group of its reason
    assert queue.get_job(job.id).state == "failed"
    [group] = queue.failure_groups()
    assert group["count"] == 1 and group["error"].startswith("job stalled more than max_stalls")
    assert queue.failure_group_ids(group["key"]) == [job.id]


def test_hostile_error_text_names_no_key_and_a_bad_group_key_is_refused(backend, queue):
    # Given a job failing with an error that spells other keys
    queue.add("t", {"error": "x}:job:1\r\nfails:y"})
    Worker(queue, {"t": _fail}).drain()
    [group] = queue.failure_groups()
    assert group["error"] == "x}:job:1"
    assert queue.keys.fails(group["key"]) in backend.keys()

    # Then a key that is not a group's hash is refused before anything is read or written
    before = snapshot(backend.client)
    for bad in ("*", "x}:job:1", "", None, "0" * 17):
        for call in (queue.failure_group_ids, queue.retry_group, queue.remove_group):
            with pytest.raises(ValidationError, match="key"):
                call(bad)
    with pytest.raises(ValidationError, match="limit"):
        queue.failure_groups(limit=0)
    assert snapshot(backend.client) == before


# ---- search, computed in Redis --------------------------------------------------------------------------------------

def _mixed(queue) -> dict[str, str]:
    """A job in each state, with words in its type, data and error: name -> id."""
    ids = {}
    ids["waiting"] = queue.add("Newsletter", {"to": "ada@example.org"}).id
    ids["delayed"] = queue.add("report", {"title": "Quarterly Numbers"}, delay=3_600_000).id
    ids["failed"] = queue.add("email", {"error": "SMTPError: mailbox full"}).id
    ids["complete"] = queue.add("email", {"to": "alan@example.org"}).id
    Worker(queue, {"email": lambda job: _fail(job) if "error" in job.data else "sent"}).drain()
    return ids


@pytest.mark.parametrize("query, state, type, expected", [
    ("ada@", None, None, ["waiting"]),
    ("NEWSLETTER", None, None, ["waiting"]),
    ("quarterly numbers", None, None, ["delayed"]),
    ("mailbox full", None, None, ["failed"]),
    ("example.org", None, None, ["waiting", "complete"]),
    ("example.org", "complete", None, ["complete"]),
    ("example.org", None, "Newsletter", ["waiting"]),
    ("example.org", "failed", "email", []),
    ("email", None, None, ["failed", "complete"]),
    ("nowhere", None, None, []),
])
def test_search_finds_jobs_by_type_data_and_error_text(queue, query, state, type, expected):
    # Given jobs in every state
    ids = _mixed(queue)

    # When searched
    found, cursor = queue.search(query, state=state, type=type)

    # Then the matching ids come back, in line order, and the search is done
    assert sorted(found, key=int) == sorted((ids[name] for name in expected), key=int) and cursor == 0


def test_search_finds_a_job_by_its_id(queue):
    ids = _mixed(queue)
    assert queue.search(ids["delayed"]) == ([ids["delayed"]], 0)
    custom = queue.add("t", job_id="report-42").id
    assert queue.search("report-42") == ([custom], 0)


def test_search_pages_with_its_cursor(queue):
    # Given 30 jobs, every third one mentioning a needle, across two types
    queue.add_bulk([("a" if n % 2 else "b", {"n": n, "note": "needle" if n % 3 == 0 else "hay"}) for n in range(30)])

    # When the search is paged four at a time
    pages, cursor = [], 0
    while True:
        found, cursor = queue.search("needle", cursor=cursor, count=4)
        pages.append(found)
        if cursor == 0:
            break

    # Then every match comes once, in pages of at most four
    assert sorted((i for page in pages for i in page), key=int) == [str(n + 1) for n in range(0, 30, 3)]
    assert all(len(page) <= 4 for page in pages) and len(pages) == 3


@pytest.mark.parametrize("call, field", [
    (lambda q: q.search(""), "query"),
    (lambda q: q.search(None), "query"),
    (lambda q: q.search("x" * 1001), "query"),
    (lambda q: q.search("x", state="done"), "state"),
    (lambda q: q.search("x", type=""), "type"),
    (lambda q: q.search("x", cursor=-1), "cursor"),
    (lambda q: q.search("x", cursor="0"), "cursor"),
    (lambda q: q.search("x", count=0), "count"),
    (lambda q: q.search("x", count=10_000), "count"),
])
def test_search_refuses_bad_input(queue, call, field):
    with pytest.raises(ValidationError) as refused:
        call(queue)
    assert refused.value.field == field


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_search_over_100000_jobs_reads_a_bounded_amount(queue):
    from test_paging import counted

    # Given 100,000 waiting jobs, sixty near the front holding a needle and one near the end
    for first in range(0, 100_000, 20_000):
        queue.add_bulk(("t", {"n": n, "note": "Needle" if 10 <= n < 70 or n == 99_990 else "hay"})
                       for n in range(first, first + 20_000))

    # When the first page of a search is read
    with counted(queue) as first_page:
        found, cursor = queue.search("needle", count=50)

    # Then it holds the first 50 matches, and cost a few commands and a few hundred bytes
    assert len(found) == 50 and cursor != 0
    assert first_page.commands <= 3 and first_page.bytes <= 1_000

    # When a search matches nothing
    with counted(queue) as nothing:
        began = time.perf_counter()
        found, cursor = queue.search("no such word")
        took = time.perf_counter() - began

    # Then it stops after its bound of calls, with a cursor to go on from, having read a few bytes
    assert found == [] and cursor != 0
    assert nothing.commands <= queue.SEARCH_CALLS + 1 and nothing.bytes <= 1_000

    # When the rest of the first search is paged to its end
    rest, calls = [], 0
    with counted(queue) as paged:
        found, cursor = queue.search("needle", count=50)
        while cursor:
            more, cursor = queue.search("needle", cursor=cursor, count=50)
            rest += more
            calls += 1

    # Then the other matches come, the last one near the end, and no page read more than its bound
    assert len(rest) == 11 and rest[-1] == "99991"
    assert paged.commands <= (calls + 1) * (queue.SEARCH_CALLS + 1) and paged.bytes <= 20_000
    print(f"\nsearch over 100,000 jobs: first page {first_page}, no match {nothing} in {took:.3f} s, every page "
          f"{paged}")
