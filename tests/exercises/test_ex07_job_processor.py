"""Grader of task 7 (exercises/ex07_job_processor.py): a processor process drains push_notification_code jobs.

In this process the grader calls the learner's functions with its own data and its own queue (one that already
holds jobs); then it runs the processor as its own process, queues a job while it runs, and stops it with Ctrl-C
(SIGINT), as the statement says, checking that it ends cleanly and leaves the queue.
"""

from __future__ import annotations

import signal
import time

import pytest
from exercise_support import Script, call, compare_lines, load, show_lines, transcripts, wait_until
from jobs_support import seed

from queuekit import Job, Queue, Worker

ex = load("ex07_job_processor.py", "send_notification", "handle_job", "start_processing")
pytestmark = pytest.mark.task(7)

DATA = {"phoneNumber": "4153518780", "message": "This is the code to verify your account"}
LINE = "Sending notification to 4153518780, with message: This is the code to verify your account"
SEEDED = 38
#: how soon a job queued while the processor runs must be processed (it is handed over at once; generous for load)
PROMPT = 5.0


def test_send_notification_prints(capsys) -> None:
    call(ex.send_notification, "4153518780", "This is the code to verify your account")
    call(ex.send_notification, "4153118782", "Code 4321")
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [LINE, "Sending notification to 4153118782, with message: Code 4321"],
                            "send_notification('4153518780', 'This is the code to verify your account'), then "
                            "send_notification('4153118782', 'Code 4321'),")
    assert problem is None, problem + "\n  (print the phone number and the message passed in)"


def test_handle_job_uses_the_job_data(capsys) -> None:
    job = Job(type="push_notification_code", data={"phoneNumber": "4153518781", "message": "hello"})
    call(ex.handle_job, job)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, ["Sending notification to 4153518781, with message: hello"],
                            "handle_job(job) for data {'phoneNumber': '4153518781', 'message': 'hello'}")
    assert problem is None, problem


def test_start_processing_uses_the_queue_given(capsys, store) -> None:
    queue = Queue("grader_task7")
    seed(queue, SEEDED)
    job = queue.add("push_notification_code", {"phoneNumber": "4153518743", "message": "Code 1234"})
    worker = call(ex.start_processing, queue)
    try:
        assert isinstance(worker, Worker) and worker.running, (
            f"start_processing(queue) should start a worker (queue.process(...)) and return it; it returned "
            f"{worker!r}")
        seen: list[str] = []

        def printed() -> bool:
            seen.extend(capsys.readouterr().out.splitlines())
            return bool(seen)
        wait_until(printed, timeout=PROMPT)
        assert seen, (
            f"a push_notification_code job (id {job.id}) was waiting in the queue given to start_processing, but "
            f"nothing was printed within {PROMPT:g} s. Process the job type 'push_notification_code', with the "
            "queue passed in (not a Queue() of your own), and print as soon as the job runs.")
        assert worker.queue is queue, "start_processing should process the queue passed in, not a Queue() of its own"
        wait_until(lambda: job.refresh().state == "complete", timeout=5)
    finally:
        if isinstance(worker, Worker):
            worker.stop(timeout=5)
    problem = compare_lines(seen, ["Sending notification to 4153518743, with message: Code 1234"],
                            "the worker start_processing(queue) started, for one waiting job,")
    assert problem is None, problem
    assert job.state == "complete", f"job {job.id} ended {job.state}; expected complete ({job.error})"


def test_processor_process_drains_then_follows(server_url, record_property) -> None:
    queue = Queue(url=server_url)
    seed(queue, SEEDED)
    first = queue.add("push_notification_code", DATA)
    processor = Script("ex07_job_processor.py", server_url)
    try:
        got_first = processor.wait_line_count(1, timeout=15)
        record_property("learner_output", transcripts(processor))
        ended = not got_first and processor.wait_exit(timeout=3) is not None  # its output closed: it is ending
        assert got_first, (
            f"a push_notification_code job (id {first.id}) was waiting, but the processor printed nothing within "
            "15 s. Does it process the job type 'push_notification_code'?"
            + (" (the processor ended: it must keep running until Ctrl-C)" if ended else "")
            + f"\nstderr:\n{processor.error_tail()}")
        second = queue.add("push_notification_code", {"phoneNumber": "4153518781", "message": "Second code"})
        queued = time.monotonic()
        processor.wait_line_count(2, timeout=PROMPT)
        took = time.monotonic() - queued
        record_property("learner_output", transcripts(processor))
        assert len(processor.lines) >= 2, (
            f"a job queued while the processor runs should be processed at once; {PROMPT:g} s later the processor "
            f"had printed only:\n{show_lines(processor.lines)}"
            + ("" if processor.running else "\n(the processor ended: it must keep running until Ctrl-C)")
            + f"\nstderr:\n{processor.error_tail()}")
        expected = [LINE, "Sending notification to 4153518781, with message: Second code"]
        problem = compare_lines(processor.lines, expected,
                                "the processor (one job waiting, then one more queued while it runs)")
        assert problem is None, problem + f"\nstderr:\n{processor.error_tail()}"
        for job in (first, second):
            # the line is printed inside the handler, a moment before the job is marked complete
            wait_until(lambda job=job: job.refresh().state == "complete", timeout=5)
            assert job.state == "complete", f"job {job.id} ended {job.state}; expected complete ({job.error})"
        assert processor.running, "the processor must keep running, waiting for new jobs, until Ctrl-C"
        assert took < PROMPT, f"the second job took {took:.1f} s"
        # Ctrl-C: the worker finishes, leaves the queue, and the script ends without a traceback
        processor.proc.send_signal(signal.SIGINT)
        code = processor.wait_exit(timeout=15)
        record_property("learner_output", transcripts(processor))
        assert code is not None, "after Ctrl-C (SIGINT) the processor was still running 15 s later: it must stop"
        assert code == 0, (
            f"after Ctrl-C (SIGINT) the processor should stop its worker and end normally (status 0); it ended with "
            f"status {code}. worker.wait() stops the worker on Ctrl-C; a loop of your own does not.\n"
            f"stderr:\n{processor.error_tail()}")
        left = [w.get("id") for w in queue.workers()]
        assert not left, f"after Ctrl-C the processor's worker should have left the queue; still listed: {left}"
    finally:
        processor.stop()
