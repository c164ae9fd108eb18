"""The worker's log (one line per job start, completion, failed attempt, job given back, reconnect) and ``Retry``."""

from __future__ import annotations

import logging
import threading

import pytest
import redis

from queuekit import Worker
from queuekit.errors import Retry, ValidationError
from queuekit.worker import loop as worker_loop

RUNNER = "queuekit.worker.runner"


def _lines(caplog: pytest.LogCaptureFixture, name: str = RUNNER) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


def test_a_job_logs_its_start_and_its_completion_with_its_duration(queue, caplog):
    # Given a job and a worker, logging at INFO
    caplog.set_level(logging.INFO, logger="queuekit")
    job = queue.add("email", {"to": "ada"})

    # When the worker runs it
    assert Worker(queue, {"email": lambda j: "sent"}).drain() == 1

    # Then one line says it started and one that it completed, in ms, each with the job's fields
    started, done = _lines(caplog)
    assert started.getMessage() == f"job {job.id} (email) started: attempt 1 of 1"
    assert done.getMessage().startswith(f"job {job.id} (email) completed in ") and done.getMessage().endswith(" ms")
    for record in (started, done):
        assert (record.job_id, record.job_type, record.queue, record.levelno) == (job.id, "email", "test",
                                                                                  logging.INFO)
    assert isinstance(done.duration_ms, int) and done.duration_ms >= 0


def test_a_failed_attempt_logs_its_error_and_its_traceback_only_at_debug(queue, caplog):
    # Given a job with two attempts whose handler fails, logging at INFO
    caplog.set_level(logging.INFO, logger="queuekit")

    def broken(job):
        raise ValueError("no such mailbox")

    job = queue.add("email", attempts=2, backoff=False)
    Worker(queue, {"email": broken}).drain()

    # Then each failed attempt is one line with its error and what comes next (INFO when retried, WARNING when it
    # failed for good), and no traceback
    failed = [r for r in _lines(caplog) if " failed after " in r.getMessage()]
    assert [r.levelno for r in failed] == [logging.INFO, logging.WARNING]
    assert [r.getMessage().split(" failed after ")[0] for r in failed] == [f"job {job.id} (email) attempt 1 of 2",
                                                                           f"job {job.id} (email) attempt 2 of 2"]
    assert failed[0].getMessage().endswith(": no such mailbox; retry in 0 ms")
    assert failed[1].getMessage().endswith(": no such mailbox; failed for good")
    assert failed[0].error == "no such mailbox"
    assert "Traceback" not in caplog.text

    # When it runs again at DEBUG
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="queuekit")
    queue.retry(job.id)
    Worker(queue, {"email": broken}).drain()

    # Then the traceback follows each failed attempt
    traces = [r.getMessage() for r in _lines(caplog) if r.levelno == logging.DEBUG and "traceback" in r.getMessage()]
    assert len(traces) == 2 and "ValueError: no such mailbox" in traces[0] and "Traceback" in traces[0]


def test_nothing_is_formatted_on_the_claim_path_when_info_is_off(queue, caplog, monkeypatch):
    # Given the worker's log at WARNING, and a job start line that would fail if it were built
    caplog.set_level(logging.WARNING, logger="queuekit")
    from queuekit.worker import runner

    def must_not_run(*args):
        raise AssertionError("the start line was built though INFO is off")

    monkeypatch.setattr(runner, "log_start", must_not_run)
    queue.add("t")

    # Then the job runs and nothing is logged
    assert Worker(queue, {"t": lambda j: 1}).drain() == 1
    assert _lines(caplog) == []


def test_a_job_running_at_shutdown_is_logged_as_given_back(queue, caplog):
    # Given a worker running a job that outlasts its shutdown timeout
    caplog.set_level(logging.INFO, logger="queuekit")
    release = threading.Event()
    started = threading.Event()

    def slow(job):
        started.set()
        release.wait(10)

    job = queue.add("slow")
    w = Worker(queue, {"slow": slow}, shutdown_timeout=0.2).start()
    try:
        assert started.wait(10)
        # When it stops
        w.stop(timeout=5)
    finally:
        release.set()

    # Then a line says the job was given back to the queue, and why
    back = [r.getMessage() for r in _lines(caplog) if "given back" in r.getMessage()]
    assert back == [f"job {job.id} (slow) given back to the queue: worker shut down before the job finished"]


def test_an_outage_is_logged_once_and_its_end_too(queue, caplog, monkeypatch):
    # Given a worker whose round trips fail twice, as when Redis is down, then succeed
    caplog.set_level(logging.INFO, logger="queuekit")
    real_send = worker_loop.Turn.send
    failures = {"left": 2}

    async def flaky(self, client):
        if failures["left"] and self._calls:
            failures["left"] -= 1
            raise redis.ConnectionError("connection refused")
        await real_send(self, client)

    monkeypatch.setattr(worker_loop.Turn, "send", flaky)
    queue.add("t")

    # When it drains the queue
    assert Worker(queue, {"t": lambda j: 1}).drain() == 1

    # Then one warning says Redis is unreachable and one line that it is reachable again
    lines = [r.getMessage() for r in _lines(caplog, "queuekit.worker.loop")]
    assert sum("Redis unreachable" in m for m in lines) == 1, lines
    assert sum("Redis reachable again after" in m for m in lines) == 1, lines


# ---- Retry ----------------------------------------------------------------------------------------------------

def test_retry_takes_its_delay_by_name():
    assert Retry(delay=5).delay == 5
    assert (str(Retry("rate limited", delay=0.5)), Retry("rate limited", delay=0.5).delay) == ("rate limited", 0.5)
    assert Retry().delay is None


@pytest.mark.parametrize("make", [lambda: Retry(5), lambda: Retry(2.5)])
def test_a_bare_number_is_refused_as_a_message_naming_the_right_form(make):
    with pytest.raises(ValidationError) as refused:
        make()
    assert refused.value.field == "delay" and "Retry(delay=" in str(refused.value)


@pytest.mark.parametrize("delay", [-1, "5", True, float("nan"), float("inf")])
def test_a_delay_that_is_not_a_number_of_zero_or_more_is_refused(delay):
    with pytest.raises(ValidationError) as refused:
        Retry(delay=delay)
    assert refused.value.field == "delay"


def test_a_retry_with_a_delay_is_logged_with_that_delay(queue, caplog):
    caplog.set_level(logging.INFO, logger="queuekit")

    def later(job):
        raise Retry("rate limited", delay=3)

    queue.add("api", attempts=2)
    Worker(queue, {"api": later}).drain()
    assert any(r.getMessage().endswith("rate limited; retry in 3000 ms") for r in _lines(caplog))


@pytest.mark.parametrize("configured", [False, True], ids=["no logging set up", "logging.basicConfig"])
def test_the_library_prints_its_log_only_where_logging_is_set_up(configured):
    import subprocess
    import sys

    # Given a script (as a notebook or a program) whose job fails for good, with or without a logging set-up
    script = (("import logging; logging.basicConfig(format='%(message)s')\n" if configured else "")
              + "from queuekit import Queue, Worker\n"
              "queue = Queue('quiet')\n"
              "queue.add('sms', {})\n"
              "def fail(job):\n"
              "    raise ValueError('Phone number 4153518780 is blacklisted')\n"
              "Worker(queue, {'sms': fail}).drain()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in __import__("os").environ.items() if k != "REDIS_URL"})
    assert done.returncode == 0, done.stderr

    # Then the failure's WARNING reaches stderr only when the program set logging up (no last-resort printing)
    if configured:
        assert "is blacklisted; failed for good" in done.stderr, done.stderr
    else:
        assert done.stderr == "", f"queuekit printed without being asked:\n{done.stderr}"
