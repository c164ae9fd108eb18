"""The operator's library calls the dashboard and its JSON API are made of: promote, change priority, change state,
bulk retry and remove, failures grouped by error, and search computed in Redis."""

from __future__ import annotations

import pytest

from fixtures import snapshot
from queuekit import Worker
from queuekit.errors import ValidationError

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
    from queuekit import scripts
    from queuekit.job import now_ms
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
