"""Grader of task 6 (exercises/ex06_job_creator.py): create a push_notification_code job, listen to it."""

from __future__ import annotations

import pytest

from queuekit import Queue, Worker
from exercise_support import call, compare_lines, load, run_script, wait_until

ex = load("ex06_job_creator.py", "create_notification_job")
pytestmark = pytest.mark.task(6)

DATA = {"phoneNumber": "4153518780", "message": "This is the code to verify your account"}


def _describe_jobs(queue: Queue) -> str:
    found = []
    for state in ("inactive", "active", "delayed", "complete", "failed"):
        found += [f"job {j.id} type={j.type!r} data={j.data!r} ({state})" for j in queue.jobs(state)]
    return "\n    ".join(found) or "(no job at all)"


def test_creates_and_saves_the_job(capsys, store) -> None:
    queue = Queue()
    job = call(ex.create_notification_job, queue, dict(DATA))
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, ["Notification job created: 1"], "create_notification_job(queue, data)")
    assert problem is None, problem
    stored = queue.get_job("1")
    assert stored is not None and stored.type == "push_notification_code" and stored.data == DATA, (
        "after create_notification_job(queue, data) the queue should hold job 1 of type 'push_notification_code' "
        f"with data {DATA!r}. The queue holds:\n    {_describe_jobs(queue)}")
    assert getattr(job, "id", None) == "1", f"create_notification_job should return the saved job; got {job!r}"


@pytest.mark.parametrize("outcome", ["complete", "failed"])
def test_prints_when_the_job_finishes(capsys, store, outcome: str) -> None:
    queue = Queue()
    call(ex.create_notification_job, queue, dict(DATA))

    def handler(job):
        if outcome == "failed":
            raise RuntimeError("no network")
        return "sent"

    worker = Worker(queue, {"push_notification_code": handler}).start()
    try:
        expected = "Notification job completed" if outcome == "complete" else "Notification job failed"
        seen: list[str] = []

        def printed() -> bool:
            seen.extend(capsys.readouterr().out.splitlines())
            return expected in seen
        wait_until(printed, timeout=5)
    finally:
        worker.stop(timeout=5)
    problem = compare_lines(seen, ["Notification job created: 1", expected],
                            f"create_notification_job, once a worker {'completed' if outcome == 'complete' else 'failed'}"
                            " the job,")
    assert problem is None, problem


def test_script_ids_grow_on_a_shared_server(server_url, record_property) -> None:
    outputs = []
    for run in (1, 2):
        script, code = run_script("ex06_job_creator.py", server_url, timeout=20)
        outputs.append(script.transcript())
        record_property("learner_output", "\n".join(outputs))
        problem = compare_lines(script.lines, [f"Notification job created: {run}"],
                                f"run #{run} of `python ex06_job_creator.py`")
        assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
        assert code == 0, f"the script exited with status {code}; expected 0\n{script.error_tail()}"
    queue = Queue(url=server_url)
    jobs = [queue.get_job(i) for i in ("1", "2")]
    assert all(j is not None and j.type == "push_notification_code" and j.data == DATA for j in jobs), (
        "after two runs the server should hold jobs 1 and 2 of type 'push_notification_code' with the data "
        f"{DATA!r}. It holds:\n    {_describe_jobs(queue)}")
