"""Grader of task 9 (exercises/ex09_job_processor.py): progress, the blacklist, two jobs at a time.

In this process the grader calls the learner's functions with a stand-in job that records, in order, what was
reported, printed and finished; then it runs ``start_processing`` on its own queue with ``send_notification``
replaced by a probe that only lets a job through once two are inside it (two at a time, really) and counts how
many are inside at once. Last, it plays the creator of task 8 (in this process, on a server already holding 38
jobs, so the ids are 39 to 49 as in the original) while the learner's processor runs as its own process, and
stops it with Ctrl-C.
"""

from __future__ import annotations

import re
import signal
import threading

import pytest
from exercise_support import Script, call, load, show_lines, transcripts, wait_until
from jobs_support import max_open, seed

from queuekit import Queue, Worker

ex = load("ex09_job_processor.py", "send_notification", "handle_job", "start_processing")
pytestmark = pytest.mark.task(9)

JOBS = [
    {"phoneNumber": "4153518780", "message": "This is the code 1234 to verify your account"},
    {"phoneNumber": "4153518781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153518743", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4153538781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153118782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4153718781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4159518782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4158718781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153818782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4154318781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4151218782", "message": "This is the code 4321 to verify your account"},
]
BLACKLISTED = {"4153518780", "4153518781"}
SEEDED = 38


class Steps:
    """What the learner's code did, in order: ('progress', done, total), ('print', line), ('done', args)."""

    def __init__(self, capsys) -> None:
        self.capsys = capsys
        self.seen: list[tuple] = []

    def flush(self) -> None:
        self.seen += [("print", line) for line in self.capsys.readouterr().out.splitlines()]


class FakeJob:
    """Stands in for a Job: records the progress reported, after what was printed before it."""

    def __init__(self, data: dict, steps: Steps) -> None:
        self.data = data
        self.id = "7"
        self.steps = steps

    def progress(self, done, total=100, data=None):
        self.steps.flush()
        self.steps.seen.append(("progress", done, total))
        return self


class Done:
    def __init__(self, steps: Steps) -> None:
        self.steps = steps

    def __call__(self, *args) -> None:
        self.steps.flush()
        self.steps.seen.append(("done", args))


def _show(steps: list[tuple]) -> str:
    words = {"progress": lambda s: f"job.progress({s[1]}, {s[2]})", "print": lambda s: f"print {s[1]!r}",
             "done": lambda s: "done(" + ", ".join(repr(a) for a in s[1]) + ")"}
    return show_lines([words[s[0]](s) for s in steps])


def _run(capsys, fn, make_args) -> list[tuple]:
    steps = Steps(capsys)
    job, done = FakeJob(dict(JOBS[0]), steps), Done(steps)
    call(fn, *make_args(job, done))
    steps.flush()
    return steps.seen


def test_blacklisted_number_fails_the_job(capsys) -> None:
    seen = _run(capsys, ex.send_notification, lambda job, done: ("4153518780", JOBS[0]["message"], job, done))
    where = "send_notification('4153518780', ..., job, done) (a blacklisted number)"
    dones = [s for s in seen if s[0] == "done"]
    assert len(dones) == 1 and dones[0][1] and isinstance(dones[0][1][0], Exception), (
        f"{where} should fail the job with done(Exception(...)), once. What it did, in order:\n{_show(seen)}")
    assert str(dones[0][1][0]) == "Phone number 4153518780 is blacklisted", (
        f"{where}: the error message should be exactly 'Phone number 4153518780 is blacklisted'; got "
        f"{str(dones[0][1][0])!r}")
    assert len(seen) == 2 and seen[0] == ("progress", 0, 100) and seen[1][0] == "done", (
        f"{where} should report progress 0 of 100 first, then call done(Exception(...)), and stop there (no "
        f"50%, no line printed). What it did, in order:\n{_show(seen)}")


@pytest.mark.parametrize("number", [2, 10])
def test_good_number_reports_0_then_50_prints_then_completes(capsys, number: int) -> None:
    data = JOBS[number]
    seen = _run(capsys, ex.send_notification, lambda job, done: (data["phoneNumber"], data["message"], job, done))
    line = f"Sending notification to {data['phoneNumber']}, with message: {data['message']}"
    expected = [("progress", 0, 100), ("progress", 50, 100), ("print", line)]
    where = f"send_notification({data['phoneNumber']!r}, {data['message']!r}, job, done)"
    assert seen[:3] == expected and len(seen) == 4 and seen[3][0] == "done" and seen[3][1] in ((), (None,)), (
        f"{where} should, in this order: report progress 0 of 100, report 50 of 100, print the line, call "
        f"done() (no error).\n  Expected:\n{_show(expected + [('done', ())])}\n  What it did:\n{_show(seen)}")


def test_handle_job_passes_the_job_data_the_job_and_done(capsys) -> None:
    data = {"phoneNumber": "4154318781", "message": "Code 5555"}
    steps = Steps(capsys)
    job, done = FakeJob(data, steps), Done(steps)
    call(ex.handle_job, job, done)
    steps.flush()
    expected = [("progress", 0, 100), ("progress", 50, 100),
                ("print", "Sending notification to 4154318781, with message: Code 5555"), ("done", ())]
    assert [s if s[0] != "done" or s[1] not in ((None,),) else ("done", ()) for s in steps.seen] == expected, (
        f"handle_job(job, done) for data {data!r} should call send_notification with the job's phoneNumber and "
        f"message, the job and done.\n  Expected:\n{_show(expected)}\n  What it did:\n{_show(steps.seen)}")


def test_start_processing_runs_two_jobs_at_a_time(store, monkeypatch) -> None:
    queue = Queue("grader_task9")
    seed(queue, SEEDED)
    jobs = [queue.add("push_notification_code_2", {"phoneNumber": f"415000000{i}", "message": f"Code {i}"})
            for i in range(4)]
    lock = threading.Lock()
    inside = [0]
    peak = [0]
    both_in = threading.Barrier(2, timeout=5)  # the first two jobs go on only once both are running
    overlapped: list[bool] = []
    calls: list[tuple] = []

    def probe(phone_number, message, job, done):
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
            first_two = len(calls) < 2
            calls.append((phone_number, message, getattr(job, "id", None)))
        try:
            if first_two:
                try:
                    both_in.wait()
                    overlapped.append(True)
                except threading.BrokenBarrierError:
                    overlapped.append(False)
        finally:
            with lock:
                inside[0] -= 1
        done()

    monkeypatch.setattr(ex, "send_notification", probe)
    worker = call(ex.start_processing, queue)
    try:
        assert isinstance(worker, Worker) and worker.running, (
            f"start_processing(queue) should start a worker (queue.process(...)) and return it; it returned "
            f"{worker!r}")
        wait_until(lambda: all(j.refresh().state in ("complete", "failed") for j in jobs) or len(overlapped) >= 2,
                   timeout=10)
        wait_until(lambda: len(overlapped) >= 2, timeout=8)
        wait_until(lambda: all(j.refresh().state in ("complete", "failed") for j in jobs), timeout=10)
        announced = [w.get("concurrency") for w in queue.workers()]
    finally:
        if isinstance(worker, Worker):
            worker.stop(timeout=5)
    assert calls, ("start_processing(queue) should process the push_notification_code_2 jobs of the queue passed "
                   "in; none of the 4 waiting was given to send_notification within 10 s")
    assert overlapped == [True, True], (
        "two at a time: with 4 jobs waiting, the first two should run at the same moment, but the second "
        "did not start while the first was running (waited 5 s). Process with concurrency=2.")
    assert peak[0] <= 2 and announced == [2], (
        "the worker should run two jobs at a time (one worker, concurrency=2); "
        f"{peak[0]} ran at once, and the queue's workers announced concurrency {announced}")
    assert worker.queue is queue, "start_processing should process the queue passed in, not a Queue() of its own"
    by_id = {c[2]: c[:2] for c in calls}
    for job in jobs:
        assert by_id.get(job.id) == (job.data["phoneNumber"], job.data["message"]), (
            f"job {job.id} should be passed to send_notification with its own phone number and message; got "
            f"{by_id.get(job.id)!r}")


def test_processor_process(server_url, record_property) -> None:
    queue = Queue(url=server_url)
    seed(queue, SEEDED)
    events: list[tuple[str, str]] = []  # in the order the creator received them (one subscription)
    lock = threading.Lock()

    def note(job_id: str, what: str) -> None:
        with lock:
            events.append((job_id, what))
    for data in JOBS:
        job = queue.create("push_notification_code_2", data)
        job.on("progress", lambda percent, _data, job=job: note(job.id, f"{percent}% complete"))
        job.on("complete", lambda result, job=job: note(job.id, "completed"))
        job.on("failed", lambda error, job=job: note(job.id, f"failed: {error}"))
        job.save()
    ids = [str(i) for i in range(SEEDED + 1, SEEDED + 1 + len(JOBS))]
    processor = Script("ex09_job_processor.py", server_url)
    try:
        def finished() -> bool:
            c = queue.counts()
            return c["complete"] + c["failed"] == len(JOBS) or not processor.running
        done = wait_until(finished, timeout=30, interval=0.1)
        wait_until(lambda: len(events) >= 31 or not processor.running, timeout=5)
        wait_until(lambda: False, timeout=0.3)
        record_property("learner_output", transcripts(processor))
        assert done and processor.running, (f"the 11 jobs were not all processed within 30 s: {queue.counts()}"
                      + ("" if processor.running else " (the processor ended)") + f". The processor printed:\n"
                      f"{show_lines(processor.lines)}\nstderr:\n{processor.error_tail()}")
        expected = [f"Sending notification to {d['phoneNumber']}, with message: {d['message']}"
                    for d in JOBS if d["phoneNumber"] not in BLACKLISTED]
        # Two jobs run at once, on two threads: print() writes the text and the newline separately, so two lines
        # printed at the same moment can come out as "AB" then an empty line. That is the threads, not the
        # learner: read the output as one notification per "Sending notification to".
        printed = [part.strip() for line in processor.lines
                   for part in re.split(r"(?=Sending notification to )", line) if part.strip()]
        assert sorted(printed) == sorted(expected), (
            f"the processor should print one line per job whose number is not blacklisted (9 lines).\n  Expected:\n"
            f"{show_lines(expected)}\n  Yours:\n{show_lines(processor.lines)}")
        for job_id, data in zip(ids, JOBS):
            job = queue.get_job(job_id)
            mine = [what for i, what in events if i == job_id]
            if data["phoneNumber"] in BLACKLISTED:
                want = f"Phone number {data['phoneNumber']} is blacklisted"
                assert job.state == "failed" and job.error == want, (
                    f"job {job_id} ({data['phoneNumber']}, blacklisted) should fail with {want!r}; it is {job.state} "
                    f"(error {job.error!r})")
                block = ["0% complete", f"failed: {want}"]
            else:
                assert job.state == "complete", f"job {job_id} should complete; it is {job.state} ({job.error!r})"
                block = ["0% complete", "50% complete", "completed"]
            assert mine == block, (
                f"the creator should see job {job_id}'s events in this order: {block}; it saw {mine}")
        lines = [f"Notification job #{i} {what}" for i, what in events]
        most, where = max_open(lines)
        assert most <= 2, (f"two jobs at a time: {most} jobs were under way at once (event {where + 1}):\n"
                           f"{show_lines(lines)}")
        announced = [w.get("concurrency") for w in queue.workers()]
        assert announced == [2], (
            "the processor should process push_notification_code_2 jobs two at a time (one worker, "
            f"concurrency=2); its workers announced concurrency {announced or 'nothing'}")
        processor.proc.send_signal(signal.SIGINT)
        code = processor.wait_exit(timeout=15)
        assert code == 0, (
            f"after Ctrl-C (SIGINT) the processor should stop its worker and end normally (status 0); "
            f"{'it was still running 15 s later' if code is None else f'it ended with status {code}'}. "
            f"worker.wait() stops the worker on Ctrl-C; a loop of your own does not.\nstderr:\n"
            f"{processor.error_tail()}")
    finally:
        processor.stop()
