"""Grader of exercise ex14_retries (beyond the course): attempts, exponential backoff, a delayed job."""

from __future__ import annotations

import time

import pytest
from exercise_support import call, compare_lines, load, run_script, show_lines, wait_until

from queuekit import Job, Queue, Worker
from queuekit.errors import JobFailed, WaitTimeout

ex = load("ex14_retries.py", "flaky_email", "reminder", "send_with_retries", "schedule_reminder", "start_worker")
#: jobs already on the queue when the learner's functions run: the learner's jobs are #7, #8... never #1
ALREADY = 6


def _job(attempts_made: int, to: str = "ada@example.com", type: str = "email") -> Job:
    job = Job(type=type, data={"to": to})
    job.attempts_made = attempts_made
    return job


def _busy_queue() -> Queue:
    """A queue that already holds jobs (of a type nobody serves), so the next job's id is not 1."""
    queue = Queue()
    for _ in range(ALREADY):
        queue.add("older", {})
    return queue


def _stop(worker: object) -> None:
    stop = getattr(worker, "stop", None)
    if callable(stop):
        stop(timeout=5)


@pytest.mark.parametrize("attempt", [1, 2])
def test_flaky_email_fails_the_first_two_attempts(attempt: int) -> None:
    with pytest.raises(Exception) as info:
        call(ex.flaky_email, _job(attempt))
    want = f"SMTP server busy (attempt {attempt})"
    assert str(info.value) == want, (
        f"flaky_email(job) with job.attempts_made == {attempt} should raise RuntimeError({want!r}); it raised "
        f"{type(info.value).__name__}({str(info.value)!r})")


def test_flaky_email_succeeds_on_the_third_attempt() -> None:
    got = call(ex.flaky_email, _job(3, "bob@example.com"))
    assert got == "sent to bob@example.com", (
        f"flaky_email(job) with job.attempts_made == 3 and data {{'to': 'bob@example.com'}} returned {got!r}; "
        "expected 'sent to bob@example.com'")


def test_reminder_handler() -> None:
    got = call(ex.reminder, _job(1, "bob@example.com", "reminder"))
    assert got == "reminded bob@example.com", (
        f"reminder(job) with data {{'to': 'bob@example.com'}} returned {got!r}; expected 'reminded bob@example.com'")


def test_send_with_retries_sets_attempts_and_backoff(store) -> None:
    queue = _busy_queue()
    job = call(ex.send_with_retries, queue, "bob@example.com")
    job_id = getattr(job, "id", None)
    assert job_id is not None, f"send_with_retries should return the saved job; it returned {job!r}"
    stored = queue.get_job(job_id)
    assert stored is not None and stored.type == "email" and stored.data == {"to": "bob@example.com"}, (
        f"send_with_retries(queue, 'bob@example.com') should save an 'email' job with data {{'to': "
        f"'bob@example.com'}}; job {job_id} is {stored!r}")
    assert stored.opts.attempts == 3, f"the email job allows {stored.opts.attempts} attempt(s); expected 3"
    backoff = stored.opts.backoff or {}
    assert backoff.get("type") == "exponential" and backoff.get("delay") == 100, (
        f"the email job's backoff is {stored.opts.backoff!r}; expected exponential starting at 100 ms "
        "(100 ms before the second attempt, 200 ms before the third)")


def test_schedule_reminder_sets_the_delay(store) -> None:
    queue = _busy_queue()
    job = call(ex.schedule_reminder, queue, "bob@example.com", 400)
    job_id = getattr(job, "id", None)
    assert job_id is not None, f"schedule_reminder should return the saved job; it returned {job!r}"
    stored = queue.get_job(job_id)
    assert stored is not None and stored.type == "reminder" and stored.data == {"to": "bob@example.com"}, (
        f"schedule_reminder(queue, 'bob@example.com', 400) should save a 'reminder' job with data {{'to': "
        f"'bob@example.com'}}; job {job_id} is {stored!r}")
    assert stored.opts.delay == 400 and stored.state == "delayed", (
        f"schedule_reminder(queue, ..., 400) should delay the job by 400 ms (delay_ms is in milliseconds); the job "
        f"is {stored.state} with a delay of {stored.opts.delay} ms")


def test_start_worker_settings(store) -> None:
    queue = Queue()
    worker = call(ex.start_worker, queue)
    try:
        assert isinstance(worker, Worker), f"start_worker(queue) should return the Worker; it returned {worker!r}"
        assert worker.running, "start_worker(queue) should start the worker (in the background) before returning it"
        assert sorted(worker.handlers) == ["email", "reminder"] and worker.concurrency == 2, (
            f"the worker should serve 'email' and 'reminder', two jobs at a time; it serves {sorted(worker.handlers)}"
            f" with concurrency {worker.concurrency}")
    finally:
        _stop(worker)


def test_retries_until_it_succeeds(capsys, store) -> None:
    queue = _busy_queue()
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
        n = job.id
        expected = [f"Email job #{n} attempt 1 failed: SMTP server busy (attempt 1)",
                    f"Email job #{n} attempt 2 failed: SMTP server busy (attempt 2)",
                    f"Email job #{n} completed: sent to ada@example.com"]
        out: list[str] = []

        def printed() -> bool:
            out.extend(capsys.readouterr().out.splitlines())
            return len(out) >= len(expected)
        wait_until(printed, 5)
        time.sleep(0.3)
        printed()
    finally:
        _stop(worker)
    assert result == "sent to ada@example.com", f"the email job's result is {result!r}"
    history = job.failed_attempts
    errors = [a.get("error") for a in history]
    assert errors == ["SMTP server busy (attempt 1)", "SMTP server busy (attempt 2)"], (
        f"the job's failed attempts are {errors}; expected the two busy errors")
    problem = compare_lines(out, expected, f"the email job's listeners (job #{n}: the queue already held jobs)")
    assert problem is None, problem
    times = [a.get("at") for a in history] + [queue.get_job(n).finished_at]  # each attempt's end, in ms
    gaps = [b - a for a, b in zip(times, times[1:]) if a is not None and b is not None]
    assert len(gaps) == 2 and gaps[0] >= 95 and gaps[1] >= 195, (
        f"between the attempts the job waited {gaps} ms; an exponential backoff from 100 ms waits at least 100 ms, "
        "then 200 ms")


def test_failed_for_good(capsys, store) -> None:
    queue = _busy_queue()

    def always_busy(job: Job) -> str:
        raise RuntimeError(f"SMTP server down (attempt {job.attempts_made})")
    worker = Worker(queue, {"email": always_busy}).start()
    try:
        job = call(ex.send_with_retries, queue, "ada@example.com")
        try:
            job.wait(15)
            pytest.fail("a job whose handler always fails completed", pytrace=False)
        except JobFailed:
            pass
        except WaitTimeout:
            pytest.fail(f"the email job (failing every time) did not fail for good within 15 s (state "
                        f"{queue.get_job(job.id).state})", pytrace=False)
        n = job.id
        expected = [f"Email job #{n} attempt 1 failed: SMTP server down (attempt 1)",
                    f"Email job #{n} attempt 2 failed: SMTP server down (attempt 2)",
                    f"Email job #{n} failed for good: SMTP server down (attempt 3)"]
        out: list[str] = []

        def printed() -> bool:
            out.extend(capsys.readouterr().out.splitlines())
            return len(out) >= len(expected)
        wait_until(printed, 5)
        time.sleep(0.3)
        printed()
    finally:
        _stop(worker)
    problem = compare_lines(out, expected, "with a mail server that is always down, the email job's listeners")
    assert problem is None, problem


def test_delayed_reminder(capsys, store) -> None:
    queue = _busy_queue()
    worker = call(ex.start_worker, queue)
    try:
        started = time.monotonic()
        job = call(ex.schedule_reminder, queue, "bob@example.com", 400)
        state = queue.get_job(job.id).state
        assert state == "delayed", (
            f"right after schedule_reminder(queue, ..., 400) the job is {state}; expected delayed")
        try:
            result = job.wait(10)
        except WaitTimeout:
            pytest.fail(f"the reminder (delayed by 400 ms) did not complete within 10 s: it is "
                        f"{queue.get_job(job.id).state}, with a delay of {queue.get_job(job.id).opts.delay} ms",
                        pytrace=False)
        waited = time.monotonic() - started
        out: list[str] = []

        def printed() -> bool:
            out.extend(capsys.readouterr().out.splitlines())
            return len(out) >= 1
        wait_until(printed, 5)
        time.sleep(0.2)
        printed()
    finally:
        _stop(worker)
    assert result == "reminded bob@example.com", f"the reminder's result is {result!r}"
    assert waited >= 0.38, f"the reminder completed after {waited:.2f} s; it must wait at least 400 ms"
    problem = compare_lines(out, [f"Reminder job #{job.id} completed: reminded bob@example.com"],
                            f"the reminder's listener (job #{job.id}: the queue already held jobs)")
    assert problem is None, problem


def test_script(record_property) -> None:
    script, code = run_script("ex14_retries.py", timeout=30)
    record_property("learner_output", script.transcript())
    email = ["Email job #1 attempt 1 failed: SMTP server busy (attempt 1)",
             "Email job #1 attempt 2 failed: SMTP server busy (attempt 2)",
             "Email job #1 completed: sent to ada@example.com"]
    reminder = "Reminder job #2 completed: reminded ada@example.com"
    lines = script.lines
    shown = (f"\n  Expected (the reminder's line may come anywhere after the first line):\n"
             f"{show_lines(['Reminder job #2 is delayed', *email, reminder])}\n  It printed:\n{show_lines(lines)}\n"
             f"stderr:\n{script.error_tail()}")
    assert lines[:1] == ["Reminder job #2 is delayed"], "`python ex14_retries.py` should print first" + shown
    assert [line for line in lines[1:] if line != reminder] == email and lines.count(reminder) == 1, (
        "`python ex14_retries.py` should print the email's three lines in this order, and the reminder's once"
        + shown)
    assert code == 0, f"the script exited with status {code}\n{script.error_tail()}"
