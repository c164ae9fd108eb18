"""Grader of exercise ex14_retries (beyond the course): attempts, exponential backoff, a delayed job."""

from __future__ import annotations

import time

import pytest

from queuekit import Job, Queue
from queuekit.errors import JobFailed, WaitTimeout
from exercise_support import call, compare_lines, load, run_script, show_lines, wait_until

ex = load("ex14_retries.py", "flaky_email", "reminder", "send_with_retries", "schedule_reminder", "start_worker")


def _job(attempts_made: int) -> Job:
    job = Job(type="email", data={"to": "ada@example.com"})
    job.attempts_made = attempts_made
    return job


@pytest.mark.parametrize("attempt", [1, 2])
def test_flaky_email_fails_the_first_two_attempts(attempt: int) -> None:
    with pytest.raises(Exception) as info:
        call(ex.flaky_email, _job(attempt))
    want = f"SMTP server busy (attempt {attempt})"
    assert str(info.value) == want, (
        f"flaky_email(job) with job.attempts_made == {attempt} should raise RuntimeError({want!r}); it raised "
        f"{type(info.value).__name__}({str(info.value)!r})")


def test_flaky_email_succeeds_on_the_third_attempt() -> None:
    got = call(ex.flaky_email, _job(3))
    assert got == "sent to ada@example.com", (
        f"flaky_email(job) with job.attempts_made == 3 returned {got!r}; expected 'sent to ada@example.com'")


def test_send_with_retries_sets_attempts_and_backoff(store) -> None:
    queue = Queue()
    job = call(ex.send_with_retries, queue, "ada@example.com")
    stored = queue.get_job(getattr(job, "id", None) or "1")
    assert stored is not None and stored.type == "email" and stored.data == {"to": "ada@example.com"}, (
        f"send_with_retries(queue, 'ada@example.com') should save an 'email' job with data {{'to': "
        f"'ada@example.com'}}; the queue holds {stored!r}")
    assert stored.opts.attempts == 3, f"the email job allows {stored.opts.attempts} attempt(s); expected 3"
    backoff = stored.opts.backoff or {}
    assert backoff.get("type") == "exponential" and backoff.get("delay") == 100, (
        f"the email job's backoff is {stored.opts.backoff!r}; expected exponential starting at 100 ms")


def test_retries_until_it_succeeds(capsys, store) -> None:
    queue = Queue()
    worker = call(ex.start_worker, queue)
    try:
        job = call(ex.send_with_retries, queue, "ada@example.com")
        try:
            result = job.wait(15)
        except JobFailed as exc:
            job.refresh()
            pytest.fail(f"the email job failed for good after {job.attempts_made} attempt(s): {exc.error}. With 3 "
                        "attempts it should succeed on the third.", pytrace=False)
        except WaitTimeout:
            pytest.fail(f"the email job did not finish within 15 s (state {queue.get_job(job.id).state}); did "
                        "start_worker start a worker for 'email' jobs?", pytrace=False)
        wait_until(lambda: False, 0.5)
    finally:
        stop = getattr(worker, "stop", None)
        if callable(stop):
            stop(timeout=5)
    assert result == "sent to ada@example.com", f"the email job's result is {result!r}"
    history = [a.get("error") for a in job.failed_attempts]
    assert history == ["SMTP server busy (attempt 1)", "SMTP server busy (attempt 2)"], (
        f"the job's failed attempts are {history}; expected the two busy errors")
    out = capsys.readouterr().out.splitlines()
    expected = ["Email job #1 attempt 1 failed: SMTP server busy (attempt 1)",
                "Email job #1 attempt 2 failed: SMTP server busy (attempt 2)",
                "Email job #1 completed: sent to ada@example.com"]
    problem = compare_lines(out, expected, "the email job's listeners")
    assert problem is None, problem


def test_delayed_reminder(capsys, store) -> None:
    queue = Queue()
    worker = call(ex.start_worker, queue)
    try:
        started = time.monotonic()
        job = call(ex.schedule_reminder, queue, "bob@example.com", 400)
        state = queue.get_job(job.id).state
        assert state == "delayed", f"right after schedule_reminder(queue, ..., 400) the job is {state}; expected delayed"
        result = job.wait(10)
        waited = time.monotonic() - started
    finally:
        stop = getattr(worker, "stop", None)
        if callable(stop):
            stop(timeout=5)
    assert result == "reminded bob@example.com", f"the reminder's result is {result!r}"
    assert waited >= 0.38, f"the reminder completed after {waited:.2f} s; it must wait at least 400 ms"


def test_script(record_property) -> None:
    script, code = run_script("ex14_retries.py", timeout=30)
    record_property("learner_output", script.transcript())
    expected = {"Reminder job #2 is delayed", "Email job #1 attempt 1 failed: SMTP server busy (attempt 1)",
                "Email job #1 attempt 2 failed: SMTP server busy (attempt 2)",
                "Email job #1 completed: sent to ada@example.com", "Reminder job #2 completed: reminded ada@example.com"}
    assert set(script.lines) == expected and len(script.lines) == 5, (
        f"`python ex14_retries.py` should print these 5 lines (the reminder's may come before the email's):\n"
        f"{show_lines(sorted(expected))}\n  It printed:\n{show_lines(script.lines)}\nstderr:\n{script.error_tail()}")
    assert code == 0, f"the script exited with status {code}\n{script.error_tail()}"
