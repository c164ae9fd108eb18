"""Grader of task 6 (exercises/ex06_job_creator.py): create a push_notification_code job, listen to it.

The queue the grader passes already holds 38 jobs (as a server used before does), so the learner's job is job 39:
an id printed from a counter of one's own, or a job made in another queue than the one given, shows.
"""

from __future__ import annotations

import pytest
from exercise_support import call, compare_lines, load, run_script, show_lines, wait_until
from jobs_support import describe_jobs, failing_save, seed

from queuekit import Queue, Worker

ex = load("ex06_job_creator.py", "create_notification_job")
pytestmark = pytest.mark.task(6)

DATA = {"phoneNumber": "4153518743", "message": "This is the code 9876 to verify your account"}
SCRIPT_DATA = {"phoneNumber": "4153518780", "message": "This is the code to verify your account"}
QUEUE = "grader_task6"
SEEDED = 38


def _queue() -> Queue:
    queue = Queue(QUEUE)
    seed(queue, SEEDED)
    return queue


def test_creates_and_saves_the_job(capsys, store) -> None:
    queue = _queue()
    job = call(ex.create_notification_job, queue, dict(DATA))
    out = capsys.readouterr().out.splitlines()
    where = (f"create_notification_job(queue, data), on a queue that already holds {SEEDED} jobs (the next id is "
             f"{SEEDED + 1}),")
    stored = queue.get_job(str(SEEDED + 1))
    elsewhere = Queue().counts()
    assert not any(elsewhere.values()), (
        f"{where} created its job in another queue than the one given: the queue named 'default' now holds "
        f"{ {k: v for k, v in elsewhere.items() if v} }. Create the job with the queue passed in "
        "(queue.create(...)), not with a Queue() of your own.")
    assert stored is not None and stored.type == "push_notification_code" and stored.data == DATA, (
        f"{where} should store job {SEEDED + 1} of type 'push_notification_code' with the data passed in, "
        f"{DATA!r}. The queue holds:\n    {describe_jobs(queue)}")
    problem = compare_lines(out, [f"Notification job created: {SEEDED + 1}"], where)
    assert problem is None, problem + "\n  (the id is job.id, read after job.save(): the queue numbers its jobs)"
    assert getattr(job, "id", None) == str(SEEDED + 1), (
        f"create_notification_job should return the saved job (id {SEEDED + 1}); it returned {job!r}")


@pytest.mark.parametrize("outcome", ["complete", "failed"])
def test_prints_when_the_job_finishes(capsys, store, outcome: str) -> None:
    queue = _queue()
    job = call(ex.create_notification_job, queue, dict(DATA))
    # another job of the same type, not the learner's, runs after it: the learner's listeners must not print for it
    other = queue.add("push_notification_code", {"phoneNumber": "4150000000", "message": "not yours"})

    def handler(job):
        if outcome == "failed":
            raise RuntimeError("no network")
        return "sent"

    expected = "Notification job completed" if outcome == "complete" else "Notification job failed"
    seen: list[str] = []
    worker = Worker(queue, {"push_notification_code": handler}).start()
    try:
        def finished() -> bool:
            seen.extend(capsys.readouterr().out.splitlines())
            return all(queue.get_job(j.id).state in ("complete", "failed") for j in (other, job)) \
                and expected in seen
        wait_until(finished, timeout=10)
        wait_until(lambda: False, timeout=0.5)  # let a stray listener print
        seen.extend(capsys.readouterr().out.splitlines())
    finally:
        worker.stop(timeout=5)
    who = (f"create_notification_job, once a worker {'completed' if outcome == 'complete' else 'failed'} its job "
           f"(and, after it, another job of the queue that is not yours: your listeners go on your job, "
           "job.on(...), and print for it only),")
    problem = compare_lines(seen, [f"Notification job created: {SEEDED + 1}", expected], who)
    assert problem is None, problem


def test_a_save_that_fails_prints_nothing(capsys, store, monkeypatch) -> None:
    queue = _queue()
    raised = None
    with failing_save(monkeypatch):
        try:
            call(ex.create_notification_job, queue, dict(DATA))
        except Exception as exc:  # noqa: BLE001 - the grader's own error is expected
            raised = exc
    out = capsys.readouterr().out.splitlines()
    assert not out, (
        "when job.save() fails (the grader made it raise ConnectionFailed, as when the server is down), "
        "create_notification_job must not print 'Notification job created' (the job was not created) and must "
        f"let the error reach its caller. It printed:\n{show_lines(out)}")
    assert raised is not None, (
        "when job.save() fails (ConnectionFailed, the server is down), create_notification_job must let the error "
        "reach its caller (do not catch it); it returned normally")


def test_script_ids_grow_on_a_shared_server(server_url, record_property) -> None:
    queue = Queue(url=server_url)
    seed(queue, SEEDED)
    outputs = []
    for run in (1, 2):
        script, code = run_script("ex06_job_creator.py", server_url, timeout=15)
        outputs.append(script.transcript())
        record_property("learner_output", "\n".join(outputs))
        assert code is not None, (
            f"run #{run} of `python ex06_job_creator.py` was still running after 15 s: the creator must end once "
            f"its job is saved (nothing processes it yet). It printed:\n{show_lines(script.lines)}")
        problem = compare_lines(script.lines, [f"Notification job created: {SEEDED + run}"],
                                f"run #{run} of `python ex06_job_creator.py` (the server already held {SEEDED} "
                                "jobs)")
        assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
        assert code == 0, f"the script exited with status {code}; expected 0\n{script.error_tail()}"
    jobs = [queue.get_job(str(i)) for i in (SEEDED + 1, SEEDED + 2)]
    assert all(j is not None and j.type == "push_notification_code" and j.data == SCRIPT_DATA for j in jobs), (
        f"after two runs the server should hold jobs {SEEDED + 1} and {SEEDED + 2} of type "
        f"'push_notification_code' with the data {SCRIPT_DATA!r}. It holds:\n    {describe_jobs(queue)}")
