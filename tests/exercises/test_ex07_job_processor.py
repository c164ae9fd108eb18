"""Grader of task 7 (exercises/ex07_job_processor.py): a processor process drains push_notification_code jobs."""

from __future__ import annotations

import pytest

from queuekit import Job, Queue
from exercise_support import Script, call, compare_lines, load, transcripts, wait_until

ex = load("ex07_job_processor.py", "send_notification", "handle_job", "start_processing")
pytestmark = pytest.mark.task(7)

DATA = {"phoneNumber": "4153518780", "message": "This is the code to verify your account"}
LINE = "Sending notification to 4153518780, with message: This is the code to verify your account"


def test_send_notification_prints(capsys) -> None:
    call(ex.send_notification, "4153518780", "This is the code to verify your account")
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [LINE], "send_notification('4153518780', 'This is the code to verify your account')")
    assert problem is None, problem


def test_handle_job_uses_the_job_data(capsys) -> None:
    job = Job(type="push_notification_code", data={"phoneNumber": "4153518781", "message": "hello"})
    call(ex.handle_job, job)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, ["Sending notification to 4153518781, with message: hello"],
                            "handle_job(job) for data {'phoneNumber': '4153518781', 'message': 'hello'}")
    assert problem is None, problem


def test_processor_process_drains_then_follows(server_url, record_property) -> None:
    queue = Queue(url=server_url)
    first = queue.add("push_notification_code", DATA)
    processor = Script("ex07_job_processor.py", server_url)
    try:
        got_first = processor.wait_line_count(1, timeout=10)
        record_property("learner_output", transcripts(processor))
        assert got_first, (
            f"a push_notification_code job (id {first.id}) was waiting, but the processor printed nothing within "
            "10 s. Does it process the job type 'push_notification_code'?"
            + ("" if processor.running else " (the processor ended)") + f"\nstderr:\n{processor.error_tail()}")
        second = queue.add("push_notification_code", {"phoneNumber": "4153518781", "message": "Second code"})
        processor.wait_line_count(2, timeout=15)
        record_property("learner_output", transcripts(processor))
        expected = [LINE, "Sending notification to 4153518781, with message: Second code"]
        problem = compare_lines(processor.lines, expected,
                                "the processor (one job waiting, then one more queued while it runs)")
        assert problem is None, problem + f"\nstderr:\n{processor.error_tail()}"
        for job in (first, second):
            # the line is printed inside the handler, a moment before the job is marked complete
            wait_until(lambda job=job: job.refresh().state == "complete", timeout=5)
            assert job.state == "complete", f"job {job.id} ended {job.state}; expected complete ({job.error})"
        assert processor.running, "the processor must keep running, waiting for new jobs, until Ctrl-C"
    finally:
        processor.stop()
