"""Grader of exercise ex18_queue_api (beyond the course): an operator's tools over the dashboard's JSON API,
graded against a real dashboard served here over real HTTP (on each backend), whose requests are counted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from exercise_support import call, free_port, load, wait_until

from queuekit import JobState, Queue, Worker
from queuekit.web import create_app, listen

ex = load("ex18_queue_api.py", "ApiError", "create_jobs", "counts", "job_state", "failed_ids", "retry_failed",
          "wait_drained")
QUEUE = "mailer"  # not "default": a function that ignores its queue argument is caught


@dataclass
class Dashboard:
    base: str
    queue: Queue
    url: str  # the server the dashboard serves
    requests: list[list[Any]] = field(default_factory=list)

    def seen(self, method: str, suffix: str, since: float = 0.0) -> list[list[Any]]:
        """The requests ``method`` to a path ending with ``suffix`` that arrived after ``since``: each
        ``[arrived, answered, method, path]`` (times from time.monotonic())."""
        return [r for r in self.requests if r[2] == method and r[3].endswith(suffix) and r[0] >= since]

    def pauses(self, suffix: str, since: float) -> list[float]:
        """The pauses of the client between two such GET requests: from one answer to the next request."""
        seen = self.seen("GET", suffix, since)
        return [later[0] - earlier[1] for earlier, later in zip(seen, seen[1:])]


class _Counting:
    """ASGI middleware: note each HTTP request ([arrived, answered, method, path]) around passing it on."""

    def __init__(self, app: Any, log: list[list[Any]]) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        entry = [time.monotonic(), float("inf"), scope["method"], scope["path"]]
        self.log.append(entry)
        try:
            await self.app(scope, receive, send)
        finally:
            entry[1] = time.monotonic()


@contextmanager
def _served(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port (on a thread); yields its base URL; stops it after."""
    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: server.started, timeout=20), "the grader's dashboard did not start within 20 s"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def dashboard(server_url: str) -> Iterator[Dashboard]:
    queue = Queue(QUEUE, url=server_url)
    requests: list[list[Any]] = []
    try:
        with _served(_Counting(create_app(server_url), requests)) as base:
            yield Dashboard(base, queue, server_url, requests)
    finally:
        queue.close()


def _fail(queue: Queue, ids: list[str]) -> None:
    for job_id in ids:
        queue.move(job_id, "failed")


def test_create_jobs(dashboard: Dashboard) -> None:
    jobs = [{"type": "welcome", "data": {"to": "ada"}},
            {"type": "welcome", "data": {"to": "alan"}, "options": {"priority": "high"}},
            {"type": "digest", "data": {"week": 48}}]
    ids = call(ex.create_jobs, dashboard.base, QUEUE, jobs)
    assert isinstance(ids, list) and len(ids) == 3, (
        f"create_jobs(base, '{QUEUE}', three jobs) should return the three new ids; it returned {ids!r}")
    stored = [dashboard.queue.get_job(job_id) for job_id in ids]
    assert all(stored), (f"create_jobs returned {ids!r}, but the queue '{QUEUE}' has no job with some of these ids; "
                         "return the ids of the POST's answer, in order, for the queue given")
    got = [(job.type, job.data, job.opts.priority) for job in stored]
    expected = [("welcome", {"to": "ada"}, 0), ("welcome", {"to": "alan"}, -10), ("digest", {"week": 48}, 0)]
    assert got == expected, (f"the jobs created in '{QUEUE}' should be (type, data, priority) {expected}; they are "
                             f"{got}: send each job's type, data and options")
    posts = dashboard.seen("POST", f"/api/queues/{QUEUE}/job")
    assert len(posts) == 1, (f"create_jobs should create the three jobs with one POST .../job whose body is the "
                             f"list; the dashboard received {len(posts)} POST requests")


def test_create_jobs_refused(dashboard: Dashboard) -> None:
    jobs = [{"type": "welcome", "data": {"to": "ada"}}, {"type": "", "data": {}}]
    try:
        got = call(ex.create_jobs, dashboard.base, QUEUE, jobs)
    except ex.ApiError as error:
        assert error.status == 400 and "[1].type" in error.message, (
            "the API refuses the second job (its type is empty) with status 400 and the error \"[1].type: ...\"; "
            f"create_jobs raised ApiError with status {error.status!r} and message {error.message!r}")
        return
    except Exception as error:  # noqa: BLE001 - the learner's mistake, reported below
        pytest.fail(f"when the API refuses a job (status 400, {{\"error\": \"[1].type: ...\"}}), create_jobs should "
                    f"raise ApiError(400, the server's message); it raised {type(error).__name__}: {error}",
                    pytrace=False)
    pytest.fail(f"when the API refuses a job (status 400, {{\"error\": \"[1].type: ...\"}}), create_jobs should raise "
                f"ApiError(400, the server's message); it returned {got!r}", pytrace=False)


def test_counts(dashboard: Dashboard) -> None:
    queue = dashboard.queue
    release = threading.Event()
    queue.add("slow", {})
    worker = Worker(queue, {"slow": lambda job: release.wait(20)}, lease=10).start()
    try:
        assert wait_until(lambda: queue.counts()["active"] == 1, timeout=20), "the grader's worker did not start"
        for _ in range(2):
            queue.add("mail", {})
        queue.add("mail", {}, delay=600_000)
        done = [queue.add("mail", {}).id for _ in range(3)]
        for job_id in done:
            queue.move(job_id, "complete")
        _fail(queue, [queue.add("mail", {}).id for _ in range(4)])
        got = call(ex.counts, dashboard.base, QUEUE)
    finally:
        release.set()
        worker.stop()
    expected = {"inactive": 2, "active": 1, "delayed": 1, "complete": 3, "failed": 4}
    assert got == expected, (f"counts(base, '{QUEUE}') should return {expected} (read from GET .../stats: "
                             f"inactiveCount, activeCount...); it returned {got!r}")


def test_job_state(dashboard: Dashboard) -> None:
    job = dashboard.queue.add("mail", {"to": "ada"})
    got = call(ex.job_state, dashboard.base, QUEUE, int(job.id))
    assert got == "inactive", (
        f"job_state(base, '{QUEUE}', {job.id}) for a job in line should be 'inactive'; got {got!r}")
    dashboard.queue.move(job.id, "complete")
    got = call(ex.job_state, dashboard.base, QUEUE, int(job.id))
    assert got == "complete", f"job_state for job {job.id}, now complete, should be 'complete'; got {got!r}"
    got = call(ex.job_state, dashboard.base, QUEUE, 9999)
    assert got is None, f"job_state for job 9999 (the API answers 404: no such job) should be None; got {got!r}"
    try:
        with _served(create_app(dashboard.url, token="s3cret")) as locked:  # every request without it: 401
            got = call(ex.job_state, locked, QUEUE, int(job.id))
    except ex.ApiError as error:
        assert error.status == 401, f"a 401 answer should raise ApiError with status 401; its status is {error.status}"
    else:
        pytest.fail(f"a dashboard that requires a token answers 401 {{\"error\": \"token: ...\"}}: job_state should "
                    f"raise ApiError(401, the server's message), not return {got!r} (None means 'no such job', "
                    "for a 404 only)", pytrace=False)
    nobody = f"http://127.0.0.1:{free_port()}"
    try:
        got = call(ex.job_state, nobody, QUEUE, int(job.id))
    except ex.ApiError as error:
        pytest.fail(f"no dashboard answers at {nobody}: there is no HTTP status, so the connection error should come "
                    f"out of job_state; it raised ApiError({error.status!r}, {error.message!r})", pytrace=False)
    except Exception:  # noqa: BLE001 - the connection error expected
        return
    pytest.fail(f"no dashboard answers at {nobody}: job_state should let the connection error out, not return "
                f"{got!r} (None means 'no such job', not 'I could not ask')", pytrace=False)


def test_failed_ids(dashboard: Dashboard) -> None:
    queue = dashboard.queue
    _fail(queue, [job.id for job in queue.add_bulk([("bounce", {"n": n}) for n in range(245)])])
    _fail(queue, [job.id for job in queue.add_bulk([("spam", {"n": n}) for n in range(5)])])
    import httpx

    expected = [job["id"] for job in httpx.get(f"{dashboard.base}/api/queues/{QUEUE}/jobs/failed/0..999/asc",
                                                timeout=30).json()]
    got = call(ex.failed_ids, dashboard.base, QUEUE, page=100)
    if not isinstance(got, list):
        pytest.fail(f"failed_ids should return a list of ids; it returned {got!r}", pytrace=False)
    duplicates = sorted({i for i in got if got.count(i) > 1})
    assert not duplicates, (f"failed_ids(base, '{QUEUE}', page=100) returned some ids twice ({duplicates[:5]}...): "
                            "a range from..to includes both ends, so the pages are 0..99, 100..199...")
    assert got == expected, (f"failed_ids(base, '{QUEUE}', page=100) with 250 failed jobs should return their 250 "
                             f"ids, oldest first; it returned {len(got)} ids (first ones {got[:3]}). Read page after "
                             "page until a page has fewer than `page` jobs")
    spam = call(ex.failed_ids, dashboard.base, QUEUE, type="spam", page=100)
    assert spam == expected[-5:], (f"failed_ids(base, '{QUEUE}', type='spam') should return the 5 failed 'spam' jobs "
                                   f"{expected[-5:]}; it returned {len(spam)} ids (first ones {spam[:6]})")


def test_retry_failed(dashboard: Dashboard) -> None:
    queue = dashboard.queue
    nothing = call(ex.retry_failed, dashboard.base, QUEUE)
    assert nothing == 0, f"retry_failed(base, '{QUEUE}') with no failed job should return 0; it returned {nothing!r}"
    bounces = queue.add_bulk([("bounce", {"n": n}) for n in range(230)])
    spam = queue.add_bulk([("spam", {"n": n}) for n in range(3)])
    _fail(queue, [job.id for job in bounces + spam])
    got = call(ex.retry_failed, dashboard.base, QUEUE, type="spam")
    states = {job.id: queue.get_job(job.id).state for job in bounces + spam}
    assert got == 3 and all(states[job.id] == JobState.INACTIVE for job in spam) and \
        all(states[job.id] == JobState.FAILED for job in bounces), (
            f"retry_failed(base, '{QUEUE}', type='spam') should retry the 3 failed 'spam' jobs only and return 3; it "
            f"returned {got!r}, and {sum(s == JobState.INACTIVE for s in states.values())} jobs are back in line "
            f"({sum(states[j.id] == JobState.INACTIVE for j in bounces)} of them 'bounce' jobs)")
    since = time.monotonic()
    got = call(ex.retry_failed, dashboard.base, QUEUE)
    left = queue.counts()["failed"]
    assert got == 230 and left == 0, (
        f"retry_failed(base, '{QUEUE}') with 230 failed jobs should retry all of them and return 230; it returned "
        f"{got!r} and {left} jobs are still failed. A retried job leaves the failed list, so reading page 2 after "
        "retrying page 1 skips jobs: read all the ids first, then retry them")
    posts = dashboard.seen("POST", f"/api/queues/{QUEUE}/jobs/retry", since=since)
    assert len(posts) == 1, (f"retry_failed should retry the jobs with one POST .../jobs/retry whose body is "
                             f"{{\"ids\": [...]}}; the dashboard received {len(posts)} such requests")


def _in_thread(fn: Any, *args: Any, **kwargs: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            out["error"] = error
        out["at"] = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def _outcome(out: dict[str, Any]) -> str:
    if "error" in out:
        return f"raised {type(out['error']).__name__}: {out['error']}"
    return f"returned {out.get('value')!r}"


def test_wait_drained_polls(dashboard: Dashboard) -> None:
    queue = dashboard.queue
    # the pauses between two polls are measured at the dashboard, from one answer to the next request: a correct
    # wait_drained pauses `interval` seconds (plus its own overhead), whatever the load of the machine
    for interval, wait in ((1.0, 4.0), (0.2, 3.0)):
        ids = [queue.add("mail", {}).id for _ in range(2)]
        started = time.monotonic()
        thread, out = _in_thread(ex.wait_drained, dashboard.base, QUEUE, timeout=30, interval=interval)
        thread.join(wait)
        if isinstance(out.get("error"), NotImplementedError):
            call(ex.wait_drained, dashboard.base, QUEUE)
        assert "at" not in out, (f"wait_drained(base, '{QUEUE}', interval={interval}) with 2 jobs waiting should "
                                 f"keep polling until they are done; it {_outcome(out)} at once")
        for job_id in ids:
            queue.move(job_id, "complete")
        drained = time.monotonic()
        thread.join(interval + 10)
        assert "at" in out, (f"wait_drained(base, '{QUEUE}', interval={interval}) did not return within "
                             f"{interval + 10:g} s after the queue was drained")
        assert "value" in out and out["value"]["complete"] >= 2 and out["value"]["inactive"] == 0, (
            f"once the queue '{QUEUE}' was drained, wait_drained should return its counts; it {_outcome(out)}")
        pauses = dashboard.pauses(f"/api/queues/{QUEUE}/stats", since=started)
        assert pauses, (f"wait_drained(interval={interval}) read /stats {len(pauses) + 1} time(s) in "
                        f"{drained - started:.1f} s: it should poll every `interval` seconds until the queue drains")
        assert min(pauses) >= 0.9 * interval, (
            f"wait_drained(interval={interval}) read /stats {len(pauses) + 1} times in {drained - started:.1f} s, "
            f"sometimes only {min(pauses):.2f} s after the previous answer: it should sleep `interval` seconds "
            "between two polls")
        assert min(pauses) <= interval + 0.6, (
            f"wait_drained(interval={interval}) waited at least {min(pauses):.2f} s between two reads of /stats: it "
            f"should poll every `interval` seconds, not slower")
        late = out["at"] - drained
        assert late <= interval + 2.0, (f"wait_drained(interval={interval}) returned {late:.1f} s after the queue "
                                        f"was drained; it should notice within about `interval` seconds")


def test_wait_drained_timeout(dashboard: Dashboard) -> None:
    queue = dashboard.queue
    job = queue.add("mail", {})
    started = time.monotonic()
    thread, out = _in_thread(ex.wait_drained, dashboard.base, QUEUE, timeout=1.5, interval=0.2)
    thread.join(8)
    if isinstance(out.get("error"), NotImplementedError):
        call(ex.wait_drained, dashboard.base, QUEUE)
    assert "at" in out, ("wait_drained(timeout=1.5) on a queue that never drains should raise TimeoutError after "
                         "1.5 s; 8 s later it was still waiting")
    assert isinstance(out.get("error"), TimeoutError), (
        f"wait_drained(timeout=1.5) on a queue that never drains should raise TimeoutError; it {_outcome(out)}")
    assert out["at"] - started >= 1.3, (f"wait_drained(timeout=1.5) gave up after {out['at'] - started:.1f} s; it "
                                        "should keep polling for `timeout` seconds")
    queue.move(job.id, "complete")
    queue.add("mail", {}, delay=600_000)
    thread, out = _in_thread(ex.wait_drained, dashboard.base, QUEUE, timeout=1.0, interval=0.2)
    thread.join(8)
    assert isinstance(out.get("error"), TimeoutError), (
        "a delayed job still has to run: with one delayed job, wait_drained(timeout=1.0) should raise TimeoutError "
        f"(inactive + active + delayed is not 0); it {_outcome(out)}")
