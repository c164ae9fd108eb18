"""Grader of task 8 (exercises/ex08_job_creator.py): 11 jobs with progress, completed and failed listeners.

The grader plays the processor of task 9 (in this process) while the learner's creator runs as its own process.
"""

from __future__ import annotations

import pytest

from queuekit import Queue, Worker
from exercise_support import Script, call, load, show_lines, transcripts, wait_until

ex = load("ex08_job_creator.py", "create_jobs", "JOBS")
pytestmark = pytest.mark.task(8)

BLACKLISTED = {"4153518780", "4153518781"}


def reference_handler(job, done):
    """What task 9's processor does."""
    job.progress(0, 100)
    phone = job.data["phoneNumber"]
    if phone in BLACKLISTED:
        return done(Exception(f"Phone number {phone} is blacklisted"))
    job.progress(50, 100)
    return done()


def expected_per_job(jobs: list[dict]) -> dict[str, list[str]]:
    out = {}
    for i, data in enumerate(jobs, start=1):
        if data["phoneNumber"] in BLACKLISTED:
            end = [f"Notification job #{i} failed: Phone number {data['phoneNumber']} is blacklisted"]
        else:
            end = [f"Notification job #{i} 50% complete", f"Notification job #{i} completed"]
        out[str(i)] = [f"Notification job #{i} 0% complete", *end]
    return out


def check_lines(lines: list[str], jobs: list[dict]) -> str | None:
    """None when ``lines`` is what the creator must print (job lines of two jobs may interleave), else why not."""
    n = len(jobs)
    created = [f"Notification job created: {i}" for i in range(1, n + 1)]
    if lines[:n] != created:
        return (f"the first {n} lines should be the 'Notification job created: JOB_ID' lines, ids 1 to {n} in "
                f"order.\n  Expected:\n{show_lines(created)}\n  Your first lines:\n{show_lines(lines[:n])}")
    rest = lines[n:]
    expected = expected_per_job(jobs)
    wanted = {line for block in expected.values() for line in block}
    extra = [line for line in rest if line not in wanted]
    ids = {m.split()[2] for m in rest if m.startswith("Notification job #")}
    if len(ids) == 1 and n > 1 and rest:
        return (f"every event line names the same job ({ids.pop()}): your listeners all see the last job of the "
                "loop. Give each lambda its own job (lambda result, job=job: ...).\n  Your lines after the "
                f"created ones:\n{show_lines(rest)}")
    if extra:
        return (f"unexpected line {extra[0]!r}. After the created lines only these forms may appear: "
                "'Notification job #ID PERCENT% complete', 'Notification job #ID completed', "
                "'Notification job #ID failed: ERROR', with the id of the job concerned."
                f"\n  Your lines after the created ones:\n{show_lines(rest)}")
    for job_id, block in expected.items():
        mine = [line for line in rest if line in block]
        if mine != block:
            return (f"for job {job_id} the lines should be, in this order:\n{show_lines(block)}\n"
                    f"  but your creator printed:\n{show_lines(mine)}\n  (a line missing means a listener is "
                    "missing or prints something else)")
    return None


def test_create_jobs_saves_each_job(capsys, store) -> None:
    queue = Queue()
    data = [dict(d) for d in ex.JOBS[:2]]
    jobs = call(ex.create_jobs, queue, data)
    out = capsys.readouterr().out.splitlines()
    assert out == ["Notification job created: 1", "Notification job created: 2"], (
        f"create_jobs(queue, <the first 2 JOBS>) should print 'Notification job created: 1' and '...: 2'; it "
        f"printed:\n{show_lines(out)}")
    for i, d in enumerate(data, start=1):
        stored = queue.get_job(str(i))
        assert stored is not None and stored.type == "push_notification_code_2" and stored.data == d, (
            f"job {i} should have type 'push_notification_code_2' and data {d!r}; it is "
            f"{None if stored is None else (stored.type, stored.data)!r}")
    assert isinstance(jobs, list) and [getattr(j, "id", None) for j in jobs] == ["1", "2"], (
        f"create_jobs should return the list of saved jobs; it returned {jobs!r}")


def test_listeners_print_progress_and_outcome(capsys, store) -> None:
    queue = Queue()
    data = [dict(d) for d in ex.JOBS[:4]]  # two blacklisted numbers, then two good ones
    call(ex.create_jobs, queue, data)
    worker = Worker(queue, {"push_notification_code_2": reference_handler}, concurrency=2).start()
    try:
        finished = wait_until(lambda: (lambda c: c["complete"] + c["failed"])(queue.counts()) == 4, timeout=10)
        assert finished, f"the 4 jobs did not finish within 10 s: {queue.counts()}"
        wait_until(lambda: False, timeout=0.5)  # let the last listeners print
    finally:
        worker.stop(timeout=5)
    lines = capsys.readouterr().out.splitlines()
    problem = check_lines(lines, data)
    assert problem is None, "with a worker processing the first 4 JOBS, " + problem


def test_creator_process_with_a_processor(server_url, record_property) -> None:
    creator = Script("ex08_job_creator.py", server_url)
    worker = None
    try:
        created = creator.wait_line_count(11, timeout=15)
        record_property("learner_output", transcripts(creator))
        assert created, ("the creator should print 11 'Notification job created: JOB_ID' lines; within 15 s it "
                         f"printed:\n{show_lines(creator.lines)}\nstderr:\n{creator.error_tail()}")
        worker = Worker(Queue(url=server_url), {"push_notification_code_2": reference_handler},
                        concurrency=2).start()
        code = creator.wait_exit(timeout=30)
        record_property("learner_output", transcripts(creator))
        assert code is not None, ("the creator was still running 30 s after a processor started: once every job "
                                  f"finished it should end. It printed:\n{show_lines(creator.lines)}")
        problem = check_lines(creator.lines, ex.JOBS)
        assert problem is None, problem + f"\nstderr:\n{creator.error_tail()}"
        assert code == 0, f"the creator exited with status {code}\n{creator.error_tail()}"
    finally:
        creator.stop()
        if worker is not None:
            worker.stop(timeout=5)
