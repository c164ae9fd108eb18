"""Grader of task 10 (exercises/ex10_job.py): create_push_notifications_jobs(jobs, queue)."""

from __future__ import annotations

import pytest

from queuekit import Queue, Worker
from exercise_support import call, compare_lines, load, run_script, show_lines, wait_until

ex = load("ex10_job.py", "create_push_notifications_jobs")
pytestmark = pytest.mark.task(10)

JOBS = [
    {"phoneNumber": "4153518780", "message": "This is the code 1234 to verify your account"},
    {"phoneNumber": "4153518743", "message": "This is the code 4321 to verify your account"},
]


@pytest.mark.parametrize("bad", [{"phoneNumber": "4153518780", "message": "hi"}, "jobs", None, 42],
                         ids=["dict", "str", "None", "int"])
def test_not_a_list_is_refused(capsys, store, bad) -> None:
    queue = Queue()
    where = f"create_push_notifications_jobs({bad!r}, queue)"
    try:
        call(ex.create_push_notifications_jobs, bad, queue)
    except Exception as exc:  # noqa: BLE001 - any exception type, the message is the contract
        assert str(exc) == "Jobs is not an array", (
            f"{where} raised {type(exc).__name__}({str(exc)!r}); the message must be exactly 'Jobs is not an array'")
    else:
        pytest.fail(f"{where} raised nothing; it must raise TypeError('Jobs is not an array')", pytrace=False)
    counts = {k: v for k, v in queue.counts().items() if v}
    assert not counts, f"{where} must not create any job, but the queue now holds {counts}"


def test_creates_one_job_per_dict(capsys, store) -> None:
    queue = Queue()
    data = [dict(d) for d in JOBS]
    jobs = call(ex.create_push_notifications_jobs, data, queue)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, ["Notification job created: 1", "Notification job created: 2"],
                            "create_push_notifications_jobs(<2 jobs>, queue)")
    assert problem is None, problem
    for i, d in enumerate(JOBS, start=1):
        stored = queue.get_job(str(i))
        assert stored is not None and stored.type == "push_notification_code_3" and stored.data == d, (
            f"job {i} should have type 'push_notification_code_3' and data {d!r}; it is "
            f"{None if stored is None else (stored.type, stored.data)!r}")
    assert isinstance(jobs, list) and [getattr(j, "id", None) for j in jobs] == ["1", "2"], (
        f"create_push_notifications_jobs should return the saved jobs; it returned {jobs!r}")


def test_listeners(capsys, store) -> None:
    queue = Queue()
    call(ex.create_push_notifications_jobs, [dict(d) for d in JOBS], queue)

    def handler(job, done):
        job.progress(0, 100)
        if job.data["phoneNumber"] == "4153518780":
            return done(Exception("Phone number 4153518780 is blacklisted"))
        job.progress(50, 100)
        return done()

    worker = Worker(queue, {"push_notification_code_3": handler}).start()
    try:
        finished = wait_until(lambda: (lambda c: c["complete"] + c["failed"])(queue.counts()) == 2, timeout=10)
        assert finished, f"the jobs did not finish within 10 s: {queue.counts()}"
        wait_until(lambda: False, timeout=0.5)
    finally:
        worker.stop(timeout=5)
    lines = capsys.readouterr().out.splitlines()[2:]
    expected = {"1": ["Notification job #1 0% complete",
                      "Notification job #1 failed: Phone number 4153518780 is blacklisted"],
                "2": ["Notification job #2 0% complete", "Notification job #2 50% complete",
                      "Notification job #2 completed"]}
    for job_id, block in expected.items():
        mine = [line for line in lines if line in block]
        assert mine == block, (
            f"once a worker processed the jobs (job 1 fails, job 2 reports 0%, 50% and completes), job {job_id}'s "
            f"lines should be:\n{show_lines(block)}\n  All your lines:\n{show_lines(lines)}")
    assert len(lines) == 5, f"expected exactly 5 event lines; got:\n{show_lines(lines)}"


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
        f"in test mode the created lines should read ids 1 and 2; got {out}")


def test_script(server_url, record_property) -> None:
    script, code = run_script("ex10_job.py", server_url, timeout=20)
    record_property("learner_output", script.transcript())
    problem = compare_lines(script.lines, ["Notification job created: 1"], "`python ex10_job.py` on a fresh server")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}\n{script.error_tail()}"
