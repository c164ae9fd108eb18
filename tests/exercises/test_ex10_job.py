"""Grader of task 10 (exercises/ex10_job.py): create_push_notifications_jobs(jobs, queue).

The queue the grader passes already holds 50 jobs, so the learner's jobs are 51, 52 (the original's sample prints
`Notification job created: 51`): ids counted by the learner, or jobs made in a queue of their own, show.
"""

from __future__ import annotations

import pytest
from exercise_support import call, compare_lines, load, run_script, show_lines, wait_until
from jobs_support import describe_jobs, failing_save, seed

from queuekit import Queue, Worker

ex = load("ex10_job.py", "create_push_notifications_jobs")
pytestmark = pytest.mark.task(10)

JOBS = [
    {"phoneNumber": "4153518780", "message": "This is the code 1234 to verify your account"},
    {"phoneNumber": "4153518743", "message": "This is the code 4321 to verify your account"},
]
SEEDED = 50
QUEUE = "grader_task10"


def _queue() -> Queue:
    queue = Queue(QUEUE)
    seed(queue, SEEDED)
    return queue


def _default_untouched(where: str) -> None:
    elsewhere = {k: v for k, v in Queue().counts().items() if v}
    assert not elsewhere, (f"{where} created jobs in another queue than the one given (the queue 'default' now "
                           f"holds {elsewhere}): create them with the queue passed in, not a Queue() of your own")


@pytest.mark.parametrize("bad", [{"phoneNumber": "4153518780", "message": "hi"}, "jobs", None, 42],
                         ids=["dict", "str", "None", "int"])
def test_not_a_list_is_refused(capsys, store, bad) -> None:
    queue = _queue()
    where = f"create_push_notifications_jobs({bad!r}, queue)"
    try:
        call(ex.create_push_notifications_jobs, bad, queue)
    except Exception as exc:  # noqa: BLE001 - any exception type, the message is the contract
        assert str(exc) == "Jobs is not an array", (
            f"{where} raised {type(exc).__name__}({str(exc)!r}); the message must be exactly 'Jobs is not an array'"
            " (check the type of jobs first, before anything else)")
    else:
        pytest.fail(f"{where} raised nothing; it must raise TypeError('Jobs is not an array')", pytrace=False)
    counts = {k: v for k, v in queue.counts().items() if v}
    assert counts == {"inactive": SEEDED}, f"{where} must not create any job, but the queue now holds {counts}"
    out = capsys.readouterr().out.splitlines()
    assert not out, f"{where} must print nothing; it printed:\n{show_lines(out)}"


def test_creates_one_job_per_dict(capsys, store) -> None:
    queue = _queue()
    data = [dict(d) for d in JOBS]
    jobs = call(ex.create_push_notifications_jobs, data, queue)
    out = capsys.readouterr().out.splitlines()
    where = f"create_push_notifications_jobs(<2 jobs>, queue) on a queue already holding {SEEDED} jobs"
    _default_untouched(where)
    for i, d in enumerate(JOBS, start=SEEDED + 1):
        stored = queue.get_job(str(i))
        assert stored is not None and stored.type == "push_notification_code_3" and stored.data == d, (
            f"{where}: job {i} should have type 'push_notification_code_3' and the data passed in, {d!r}. The queue "
            f"holds:\n    {describe_jobs(queue)}")
    problem = compare_lines(out, [f"Notification job created: {SEEDED + 1}", f"Notification job created: {SEEDED + 2}"],
                            where)
    assert problem is None, problem + "\n  (JOB_ID is job.id, the id the queue gave: never a count of your own)"
    assert isinstance(jobs, list) and [getattr(j, "id", None) for j in jobs] == [str(SEEDED + 1), str(SEEDED + 2)], (
        f"create_push_notifications_jobs should return the saved jobs; it returned {jobs!r}")


def test_a_save_that_fails_prints_nothing(capsys, store, monkeypatch) -> None:
    queue = _queue()
    raised = None
    with failing_save(monkeypatch):
        try:
            call(ex.create_push_notifications_jobs, [dict(d) for d in JOBS], queue)
        except Exception as exc:  # noqa: BLE001 - the grader's own error is expected
            raised = exc
    out = capsys.readouterr().out.splitlines()
    assert not out and raised is not None, (
        "when job.save() fails (the grader made it raise ConnectionFailed, as when the server is down), "
        "create_push_notifications_jobs must not print 'Notification job created' and must let the error reach its "
        f"caller (do not catch it). It {'raised' if raised is not None else 'returned normally'} and printed:\n"
        f"{show_lines(out)}")


def test_listeners(capsys, store) -> None:
    queue = _queue()
    call(ex.create_push_notifications_jobs, [dict(d) for d in JOBS], queue)
    # a job of the same type that is not the learner's: their listeners must print nothing for it
    queue.add("push_notification_code_3", {"phoneNumber": "4150000000", "message": "not yours"})

    def handler(job, done):
        job.progress(0, 100)
        if job.data["phoneNumber"] == "4153518780":
            return done(Exception("Phone number 4153518780 is blacklisted"))
        job.progress(50, 100)
        return done()

    worker = Worker(queue, {"push_notification_code_3": handler}).start()
    try:
        finished = wait_until(lambda: (lambda c: c["complete"] + c["failed"])(queue.counts()) == 3, timeout=10)
        assert finished, f"the jobs did not finish within 10 s: {queue.counts()}"
        wait_until(lambda: False, timeout=0.5)
    finally:
        worker.stop(timeout=5)
    lines = capsys.readouterr().out.splitlines()[2:]
    a, b = SEEDED + 1, SEEDED + 2
    expected = {str(a): [f"Notification job #{a} 0% complete",
                         f"Notification job #{a} failed: Phone number 4153518780 is blacklisted"],
                str(b): [f"Notification job #{b} 0% complete", f"Notification job #{b} 50% complete",
                         f"Notification job #{b} completed"]}
    for job_id, block in expected.items():
        mine = [line for line in lines if line in block]
        assert mine == block, (
            f"once a worker processed the jobs (job {a} fails, job {b} reports 0%, 50% and completes), job {job_id}'s "
            f"lines should be, exactly, in this order:\n{show_lines(block)}\n  All your lines:\n{show_lines(lines)}\n"
            "  (listeners go on each of your jobs, before it is saved, not on the queue)")
    assert len(lines) == 5, (
        "expected exactly these 5 event lines (listeners on each of your jobs, not on the queue: a job of the queue "
        f"that is not yours prints nothing):\n{show_lines(expected[str(a)] + expected[str(b)])}\n  Yours:\n"
        f"{show_lines(lines)}")


def test_works_in_test_mode(capsys, store) -> None:
    queue = Queue("grader_test_mode")
    queue.test_mode.enter()
    try:
        call(ex.create_push_notifications_jobs, [dict(d) for d in JOBS], queue)
        jobs = list(queue.test_mode.jobs)
    finally:
        queue.test_mode.clear()
        queue.test_mode.exit()
    assert [(j.type, j.data) for j in jobs] == [("push_notification_code_3", d) for d in JOBS], (
        f"in test mode, queue.test_mode.jobs should hold the two jobs; it holds {[(j.type, j.data) for j in jobs]}")
    out = capsys.readouterr().out.splitlines()
    assert out == ["Notification job created: 1", "Notification job created: 2"], (
        "in test mode (a queue whose test_mode was entered, as task 11's tests do) saved jobs are captured, and the "
        "test mode numbers them itself from 1: the created lines should read ids 1 and 2 (print job.id after "
        f"job.save(), no count of your own); got {out}")


def test_script(server_url, record_property) -> None:
    seed(Queue(url=server_url), SEEDED)
    script, code = run_script("ex10_job.py", server_url, timeout=20)
    record_property("learner_output", script.transcript())
    problem = compare_lines(script.lines, [f"Notification job created: {SEEDED + 1}"],
                            f"`python ex10_job.py` on a server already holding {SEEDED} jobs")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}\n{script.error_tail()}"
