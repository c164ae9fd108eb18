"""Grader of task 8 (exercises/ex08_job_creator.py): 11 jobs with progress, completed and failed listeners.

The grader plays the processor of task 9 (in this process) while the learner's creator runs as its own process.
"""

from __future__ import annotations

import pytest
from exercise_support import Script, call, load, show_lines, transcripts, wait_until
from jobs_support import describe_jobs, failing_save, max_open, seed

from queuekit import Queue, Worker

ex = load("ex08_job_creator.py", "create_jobs", "JOBS")
pytestmark = pytest.mark.task(8)

BLACKLISTED = {"4153518780", "4153518781"}
#: jobs the grader's queues already hold: the learner's first job is job 39, as in the original's sample
SEEDED = 38
QUEUE = "grader_task8"
#: the grader's own data for the in-process checks (not the file's JOBS: the function must use what it is given)
MINE = [{"phoneNumber": "4153518743", "message": "This is the code 1111 to verify your account"},
        {"phoneNumber": "4153538781", "message": "This is the code 2222 to verify your account"}]


def _queue() -> Queue:
    queue = Queue(QUEUE)
    seed(queue, SEEDED)
    return queue


def reference_handler(job, done):
    """What task 9's processor does."""
    job.progress(0, 100)
    phone = job.data["phoneNumber"]
    if phone in BLACKLISTED:
        return done(Exception(f"Phone number {phone} is blacklisted"))
    job.progress(50, 100)
    return done()


def expected_per_job(jobs: list[dict], first: int) -> dict[str, list[str]]:
    out = {}
    for i, data in enumerate(jobs, start=first):
        if data["phoneNumber"] in BLACKLISTED:
            end = [f"Notification job #{i} failed: Phone number {data['phoneNumber']} is blacklisted"]
        else:
            end = [f"Notification job #{i} 50% complete", f"Notification job #{i} completed"]
        out[str(i)] = [f"Notification job #{i} 0% complete", *end]
    return out


def check_lines(lines: list[str], jobs: list[dict], first: int = SEEDED + 1) -> str | None:
    """None when ``lines`` is what the creator must print (job lines of two jobs may interleave), else why not."""
    n = len(jobs)
    created = [f"Notification job created: {i}" for i in range(first, first + n)]
    if lines[:n] != created:
        return (f"the first {n} lines should be the 'Notification job created: JOB_ID' lines, ids {first} to "
                f"{first + n - 1} in order (the queue already held {first - 1} jobs: JOB_ID is job.id, the id the "
                f"queue gave).\n  Expected:\n{show_lines(created)}\n  Your first lines:\n{show_lines(lines[:n])}")
    rest = lines[n:]
    expected = expected_per_job(jobs, first)
    wanted = {line for block in expected.values() for line in block}
    extra = [line for line in rest if line not in wanted]
    ids = {m.split()[2] for m in rest if m.startswith("Notification job #")}
    if len(ids) == 1 and n > 1 and rest:
        return (f"every event line names the same job ({ids.pop()}): your listeners all see the last job of the "
                "loop. Give each lambda its own job (lambda result, job=job: ...).\n  Your lines after the "
                f"created ones:\n{show_lines(rest)}")
    if extra:
        return (f"unexpected line {extra[0]!r} (expected lines: the job ids are {first} to {first + n - 1}; "
                "your listeners go on each of your jobs, not on the queue, so a job that is not yours prints "
                "nothing). After the created lines only these forms may appear: "
                "'Notification job #ID PERCENT% complete', 'Notification job #ID completed', "
                "'Notification job #ID failed: ERROR', with the id of the job concerned."
                f"\n  Your lines after the created ones:\n{show_lines(rest)}")
    for job_id, block in expected.items():
        mine = [line for line in rest if line in block]
        if mine != block:
            return (f"for job {job_id} the lines should be, in this order:\n{show_lines(block)}\n"
                    f"  but your creator printed:\n{show_lines(mine)}\n  (a line missing means a listener is "
                    "missing or prints something else)")
    most, where = max_open(rest)
    if most > 2:
        return (f"{most} jobs were under way at once (0% seen, not yet completed or failed) at line {where + 1} "
                "after the created ones, with a processor running two jobs at a time: each line must be printed "
                f"when its event happens.\n  Your lines after the created ones:\n{show_lines(rest)}")
    return None


def test_create_jobs_saves_each_job(capsys, store) -> None:
    queue = _queue()
    data = [dict(d) for d in MINE]
    jobs = call(ex.create_jobs, queue, data)
    out = capsys.readouterr().out.splitlines()
    where = f"create_jobs(queue, <2 jobs>) on a queue already holding {SEEDED} jobs"
    elsewhere = {k: v for k, v in Queue().counts().items() if v}
    assert not elsewhere, (f"{where} created jobs in another queue than the one given (the queue 'default' now "
                           f"holds {elsewhere}): create them with the queue passed in, not a Queue() of your own")
    for i, d in enumerate(MINE, start=SEEDED + 1):
        stored = queue.get_job(str(i))
        assert stored is not None and stored.type == "push_notification_code_2" and stored.data == d, (
            f"{where}: job {i} should have type 'push_notification_code_2' and the data passed in, {d!r}. The "
            f"queue holds:\n    {describe_jobs(queue)}")
    expected = [f"Notification job created: {SEEDED + 1}", f"Notification job created: {SEEDED + 2}"]
    assert out == expected, (
        f"{where} should print {expected} (JOB_ID is job.id, the id the queue gave); it printed:\n{show_lines(out)}")
    assert isinstance(jobs, list) and [getattr(j, "id", None) for j in jobs] == [str(SEEDED + 1), str(SEEDED + 2)], (
        f"create_jobs should return the list of saved jobs; it returned {jobs!r}")


def test_a_save_that_fails_prints_nothing(capsys, store, monkeypatch) -> None:
    queue = _queue()
    raised = None
    with failing_save(monkeypatch):
        try:
            call(ex.create_jobs, queue, [dict(d) for d in MINE])
        except Exception as exc:  # noqa: BLE001 - the grader's own error is expected
            raised = exc
    out = capsys.readouterr().out.splitlines()
    assert not out and raised is not None, (
        "when job.save() fails (the grader made it raise ConnectionFailed, as when the server is down), "
        "create_jobs must not print 'Notification job created' and must let the error reach its caller (do not "
        f"catch it). It {'raised' if raised is not None else 'returned normally'} and printed:\n{show_lines(out)}")


def test_listeners_print_progress_and_outcome(capsys, store) -> None:
    queue = _queue()
    data = [dict(d) for d in ex.JOBS[:4]]  # two blacklisted numbers, then two good ones
    call(ex.create_jobs, queue, data)
    # a job of the same type that is not the learner's: their listeners must print nothing for it
    queue.add("push_notification_code_2", {"phoneNumber": "4150000000", "message": "not yours"})
    worker = Worker(queue, {"push_notification_code_2": reference_handler}, concurrency=2).start()
    try:
        finished = wait_until(lambda: (lambda c: c["complete"] + c["failed"])(queue.counts()) == 5, timeout=10)
        assert finished, f"the 5 jobs did not finish within 10 s: {queue.counts()}"
        wait_until(lambda: False, timeout=0.5)  # let the last listeners print
    finally:
        worker.stop(timeout=5)
    lines = capsys.readouterr().out.splitlines()
    problem = check_lines(lines, data)
    assert problem is None, "with a worker processing the first 4 JOBS, " + problem


def test_creator_process_with_a_processor(server_url, record_property) -> None:
    seed(Queue(url=server_url), SEEDED)
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
