"""Grader of task 9 (exercises/ex09_job_processor.py): progress, the blacklist, two jobs at a time.

The grader plays the creator of task 8 (in this process) while the learner's processor runs as its own process.
"""

from __future__ import annotations

import re

import pytest

from queuekit import Queue
from exercise_support import Script, call, load, show_lines, transcripts, wait_until

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


class FakeJob:
    """Stands in for a Job: records the progress reported."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self.id = "7"
        self.reported: list[tuple] = []

    def progress(self, done, total=100, data=None):
        self.reported.append((done, total))
        return self


class Done:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, *args) -> None:
        self.calls.append(args)


def test_blacklisted_number_fails_the_job(capsys) -> None:
    job, done = FakeJob(dict(JOBS[0])), Done()
    call(ex.send_notification, "4153518780", JOBS[0]["message"], job, done)
    out = capsys.readouterr().out.splitlines()
    where = "send_notification('4153518780', ..., job, done) (a blacklisted number)"
    assert job.reported[:1] == [(0, 100)], f"{where} should first report progress 0 of 100; it reported {job.reported}"
    assert len(done.calls) == 1 and done.calls[0] and isinstance(done.calls[0][0], Exception), (
        f"{where} should call done(Exception(...)) once; done was called with {done.calls}")
    assert str(done.calls[0][0]) == "Phone number 4153518780 is blacklisted", (
        f"{where}: the error message should be 'Phone number 4153518780 is blacklisted'; got {str(done.calls[0][0])!r}")
    assert job.reported == [(0, 100)] and out == [], (
        f"{where} should stop after failing the job: it reported {job.reported} and printed {out}")


def test_good_number_reports_50_and_completes(capsys) -> None:
    job, done = FakeJob(dict(JOBS[2])), Done()
    call(ex.send_notification, "4153518743", JOBS[2]["message"], job, done)
    out = capsys.readouterr().out.splitlines()
    where = "send_notification('4153518743', ..., job, done)"
    assert job.reported == [(0, 100), (50, 100)], (
        f"{where} should report progress 0 of 100, then 50 of 100; it reported {job.reported}")
    assert out == [f"Sending notification to 4153518743, with message: {JOBS[2]['message']}"], (
        f"{where} should print 'Sending notification to 4153518743, with message: ...'; it printed {out}")
    assert done.calls in ([()], [(None,)]), f"{where} should call done() once, without error; got {done.calls}"


def test_processor_process(server_url, record_property) -> None:
    queue = Queue(url=server_url)
    events: dict[str, list[int]] = {}
    for data in JOBS:
        job = queue.create("push_notification_code_2", data)
        job.on("progress", lambda percent, _data, job=job: events.setdefault(job.id, []).append(percent))
        job.save()
    processor = Script("ex09_job_processor.py", server_url)
    try:
        concurrency = []
        def finished() -> bool:
            concurrency.extend(w.get("concurrency") for w in queue.workers()
                               if "push_notification_code_2" in (w.get("types") or []))
            c = queue.counts()
            return c["complete"] + c["failed"] == len(JOBS) or not processor.running
        done = wait_until(finished, timeout=20, interval=0.1)
        wait_until(lambda: False, timeout=0.3)
        record_property("learner_output", transcripts(processor))
        assert done and processor.running, (f"the 11 jobs were not all processed within 20 s: {queue.counts()}"
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
        for i, data in enumerate(JOBS, start=1):
            job = queue.get_job(str(i))
            if data["phoneNumber"] in BLACKLISTED:
                want = f"Phone number {data['phoneNumber']} is blacklisted"
                assert job.state == "failed" and job.error == want, (
                    f"job {i} ({data['phoneNumber']}, blacklisted) should fail with {want!r}; it is {job.state} "
                    f"(error {job.error!r})")
                assert events.get(str(i)) == [0], f"job {i} should report 0% only; the creator saw {events.get(str(i))}"
            else:
                assert job.state == "complete", f"job {i} should complete; it is {job.state} (error {job.error!r})"
                assert events.get(str(i)) == [0, 50], (
                    f"job {i} should report 0% then 50%; the creator saw {events.get(str(i))}")
        assert concurrency and max(c or 0 for c in concurrency) == 2, (
            "the processor should process push_notification_code_2 jobs two at a time (concurrency=2); "
            f"its worker announced concurrency {sorted(set(concurrency)) or 'nothing'}")
    finally:
        processor.stop()
