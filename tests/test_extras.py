"""Everything around the queue: test mode, eager mode, the pytest fixtures, the OpenPaaS registry and the scriptr.io
script queue, the command line, connecting, the pub/sub helper, and the notebook display."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import fakeredis
import pytest

import queuekit
from fixtures import make_queue, wait_until
from queuekit import Subscriber, Worker, publish
from queuekit.errors import ConnectionFailed, HandlerNotFound, JobFailed, ValidationError
from queuekit.patterns import Registry, ScriptQueue
from queuekit.testing import eager, fresh_server

pytestmark = pytest.mark.timeout(60)


# ---- test mode and eager mode -------------------------------------------------------------------------------------

def test_kue_test_mode_captures_jobs_without_storing_them(backend, queue):
    # Given test mode entered without processing
    queue.test_mode.enter(process=False)
    before = backend.keys()

    # When jobs are saved
    first = queue.create("email", {"to": "ada"}).priority("high").save()
    second = queue.add("email", {"to": "alan"})

    # Then they are captured, numbered from 1, validated, and nothing reached Redis
    assert [j.id for j in queue.test_mode.jobs] == ["1", "2"] == [first.id, second.id]
    assert [j.data["to"] for j in queue.test_mode.jobs] == ["ada", "alan"]
    assert queue.test_mode.jobs[0].opts.priority == -10
    with pytest.raises(ValidationError):
        queue.add("email", {"bad": object()})
    assert backend.keys() == before

    # When cleared, ids start at 1 again; after exit, jobs are stored as usual
    queue.test_mode.clear()
    assert queue.test_mode.jobs == [] and queue.add("email").id == "1"
    queue.test_mode.exit()
    stored = queue.add("email")
    assert queue.get_job(stored.id) is not None and len(queue.test_mode.jobs) == 1


def test_test_mode_with_process_stores_and_captures(queue, worker):
    queue.test_mode.enter(process=True)
    worker({"t": lambda job: "processed"})
    job = queue.add("t")
    assert job.wait(timeout=5) == "processed" and queue.test_mode.jobs == [job]


def test_eager_mode_runs_jobs_inline_retries_included(queue):
    # Given eager mode with a handler that fails on the first try
    tries: list[int] = []

    def flaky(job):
        tries.append(1)
        if len(tries) == 1:
            raise RuntimeError("first try fails")
        return job.data["x"] * 2

    with eager(queue, {"double": flaky, "boom": lambda job: 1 / 0}):
        # When jobs are added
        job = queue.add("double", {"x": 21}, attempts=2, backoff=60_000)
        doomed = queue.add("boom")

    # Then each was processed before add returned, without waiting out the backoff
    assert job.state == "complete" and job.result == 42 and len(tries) == 2
    assert doomed.state == "failed" and "division by zero" in doomed.error
    # ... and after the block, jobs wait for a worker again
    assert queue.add("double", {"x": 1}).state == "inactive"


# ---- the pytest fixtures for users' own tests -----------------------------------------------------------------------

@pytest.mark.slow
def test_the_qk_fixtures_work_in_a_users_test_suite(pytester):
    # Given a user's test module using qk_queue and qk_worker (the plugin is registered by installing queuekit)
    pytester.makepyfile(test_user="""
        def test_email(qk_queue, qk_worker):
            qk_worker({"email": lambda job: "sent to " + job.data["to"]})
            assert qk_queue.add("email", {"to": "ada"}).wait(timeout=5) == "sent to ada"

        def test_isolated(qk_queue):
            assert qk_queue.counts()["complete"] == 0  # a fresh server for each test
    """)

    # When pytest runs it
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    # Then both tests pass
    result.assert_outcomes(passed=2)


def test_qk_fixtures_used_directly(qk_queue, qk_worker):
    qk_worker({"t": lambda job: "ok"}, concurrency=2)
    assert qk_queue.add("t").wait(timeout=5) == "ok"


@pytest.mark.slow
@pytest.mark.realredis
def test_the_qk_fixtures_use_their_own_server_whatever_redis_url_says(pytester, real_redis):
    # Given REDIS_URL pointing at a real Redis (database 1, empty), and a user's tests where the application code
    # makes its own Queue without a URL, as production code does
    assert os.environ["REDIS_URL"] == real_redis.url
    pytester.makepyfile(test_user="""
        from queuekit import Queue, connect

        def signup(email):  # the user's application code
            return Queue("test").add("welcome", {"to": email})

        def test_signup_queues_a_welcome_email(qk_server):
            signup("ada@example.org")
            assert Queue("test").counts()["inactive"] == 1
            assert connect().smembers("qk:queues") == {"test"}

        def test_the_worker_sends_it(qk_queue, qk_worker):
            qk_worker({"welcome": lambda job: "sent to " + job.data["to"]})
            assert signup("alan@example.org").wait(timeout=5) == "sent to alan@example.org"
    """)

    # When pytest runs them
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    # Then nothing was written to the real Redis, and they pass on the fixtures' server
    assert real_redis.keys() == set()
    result.assert_outcomes(passed=2)


def test_inside_qk_server_a_queue_without_url_ignores_redis_url(qk_server, monkeypatch):
    # Given REDIS_URL naming a server nobody listens on
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/0")

    # When a queue is made and used without a URL
    job = queuekit.Queue("mine").add("t", {"n": 1})

    # Then the job is on the test's own server
    on_the_server = queuekit.Queue("mine", client=fakeredis.FakeRedis(server=qk_server, decode_responses=True))
    assert on_the_server.get_job(job.id).data == {"n": 1}
    assert queuekit.connect().smembers("qk:queues") == {"mine"}


# ---- the OpenPaaS registry and the scriptr.io script queue ----------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    ((None, lambda job: 1, lambda data: "t"), "worker.name is required"),
    (("w", "not callable", lambda data: "t"), "worker.handler.handle must be a function"),
    (("w", lambda job: 1, None), "worker.handler.get_title function is required"),
])
def test_the_registry_validates_workers_with_openpaas_messages(queue, args, message):
    registry = Registry(queue, process=False)
    with pytest.raises(ValidationError, match=re.escape(message)):
        registry.add_worker(*args)


def test_the_registry_submits_jobs_with_their_title_and_finds_them_by_id(queue):
    # Given a registry with one worker
    registry = Registry(queue)
    try:
        registry.add_worker("mailer", lambda job: f"mailed {job.data['to']}", lambda data: f"Mail to {data['to']}")

        # When a job is submitted by worker name
        job_id = registry.submit_job("mailer", {"to": "ada"})

        # Then its data carries the title, the worker runs it, and it can be fetched by id
        job = registry.get_job_by_id(job_id)
        assert job.data == {"title": "Mail to ada", "to": "ada"}
        assert job.wait(timeout=10) == "mailed ada"
        assert registry.get_job_by_id("nope") is None
        with pytest.raises(ValidationError, match="Cannot submit a job without workerName"):
            registry.submit_job(None, {})
        with pytest.raises(HandlerNotFound, match="Can not find worker for this job ghost"):
            registry.submit_job("ghost", {})
    finally:
        registry.stop(timeout=2)


def test_the_script_queue_runs_registered_scripts_only(backend):
    # Given a script queue with one registered script
    scripts = ScriptQueue("scripts", client=make_queue(backend, "scripts").client)
    scripts.register("math/add")(lambda params: params["a"] + params["b"])

    # When a registered script is queued it runs with its parameters; an unregistered one is refused
    job = scripts.queue("math/add", {"a": 2, "b": 3})
    with pytest.raises(HandlerNotFound, match="no script registered at 'os/system'"):
        scripts.queue("os/system", {"cmd": "rm -rf /"})
    scripts.start()
    try:
        assert job.wait(timeout=10) == 5
    finally:
        scripts.stop(timeout=2)
    # ... and a job naming an unregistered script by hand fails instead of running anything
    forged = scripts.jobs.add("script", {"script": "os/system", "params": {}})
    Worker(scripts.jobs, {"script": scripts._run}).drain()
    with pytest.raises(JobFailed, match="no script registered"):
        forged.wait(timeout=5)


# ---- the command line ---------------------------------------------------------------------------------------------

def _cli(*args: str, url: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    if url:
        env["REDIS_URL"] = url
    return subprocess.run([sys.executable, "-m", "queuekit.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_queuekit_info_prints_counts_and_live_workers(backend, shared_url, queue, worker):
    # Given a queue with jobs in several states and a live worker
    queue.add("t", delay=60_000)
    queue.add("other")
    w = worker({"t": lambda job: "ok"})
    queue.add("t").wait(timeout=5)

    # When `queuekit info` runs in another process
    out = _cli("info", url=shared_url)

    # Then it prints the counts per state and the worker
    assert out.returncode == 0, out.stderr
    assert "test: inactive 1  active 0  delayed 1  complete 1  failed 0" in out.stdout
    assert f"worker {w.id}" in out.stdout and "types t" in out.stdout


@pytest.mark.slow
def test_queuekit_info_flags_waiting_jobs_no_live_worker_serves(backend, shared_url, queue, worker):
    # Given a queue with two reports waiting and no worker at all
    queue.add("report")
    queue.add("report")

    # Then `queuekit info` says no live worker serves them
    out = _cli("info", url=shared_url)
    assert out.returncode == 0, out.stderr
    assert "  no live workers\n  no live worker serves: report (2 waiting)\n" in out.stdout, out.stdout

    # When a worker serving email reports in, with an email delayed for later
    w = worker({"email": lambda job: "sent"})
    queue.add("email", delay=60_000)
    wait_until(queue.workers, message="the worker reporting in")

    # Then only the reports are flagged, in the text and in the JSON output
    out = _cli("info", url=shared_url)
    assert "  no live worker serves: report (2 waiting)\n" in out.stdout and "email (" not in out.stdout, out.stdout
    out = _cli("info", "--json", url=shared_url)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)["test"]
    assert report["unserved"] == {"report": 2} and [info["id"] for info in report["workers"]] == [w.id]
    assert report["counts"]["inactive"] == 2 and report["counts"]["delayed"] == 1 and report["paused"] is False


@pytest.mark.slow
def test_queuekit_demo_runs_to_the_end_and_prints_the_final_counts():
    out = _cli("demo", timeout=90)
    assert out.returncode == 0, out.stderr
    assert re.search(r"final counts: \{'inactive': 0, 'active': 0, 'delayed': 0, 'complete': 5, 'failed': 1\}",
                     out.stdout), out.stdout


@pytest.mark.slow
def test_queuekit_server_prints_a_url_another_process_can_use():
    # Given `queuekit server --port 0` running
    proc = subprocess.Popen([sys.executable, "-m", "queuekit.cli", "server", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            found = re.search(r"REDIS_URL=(redis://\S+)", line)
            url = found.group(1) if found else None
        assert url, "no URL printed"

        # When two clients in this process use the URL, one queuing and one working
        queue = queuekit.Queue("shared", url=url)
        w = Worker(queuekit.Queue("shared", url=url), {"t": lambda job: job.data * 2}).start()
        try:
            # Then they share the server
            assert queue.add("t", 21).wait(timeout=10) == 42
        finally:
            w.stop(timeout=2)
    finally:
        os.kill(proc.pid, 15)
        proc.wait(10)
        proc.stdout.close()


# ---- connecting ---------------------------------------------------------------------------------------------------

def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_server_fails_fast_naming_host_and_port_with_the_password_masked():
    port = _closed_port()
    began = time.monotonic()
    with pytest.raises(ConnectionFailed) as failed:
        queuekit.connect(f"redis://ada:s3cret@127.0.0.1:{port}/0")
    assert time.monotonic() - began < 10
    message = str(failed.value)
    assert f"127.0.0.1:{port}" in message and "***" in message and "s3cret" not in message


def test_connect_without_a_url_shares_the_embedded_server_across_the_process(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    with fresh_server() as server:
        queuekit.connect().set("k", "v")
        assert queuekit.connect().get("k") == "v"
        assert fakeredis.FakeRedis(server=server, decode_responses=True).get("k") == "v"


# ---- the pub/sub helper -------------------------------------------------------------------------------------------

def test_a_blocking_subscriber_stops_on_its_stop_message(backend):
    received: list[str] = []
    sub = Subscriber("news", received.append, stop_on="bye", client=backend.client)
    threading.Thread(target=lambda: (sub.subscribed.wait(5), publish("news", "hello", backend.client),
                                     publish("news", "bye", backend.client)), daemon=True).start()
    sub.run()  # returns once "bye" arrives
    assert received == ["hello", "bye"] and not sub.subscribed.is_set()


def test_a_background_subscriber_starts_and_stops(backend):
    received: list[tuple[str, str]] = []
    sub = Subscriber(["a", "b"], lambda message, channel: received.append((channel, message)),
                     client=backend.client).start()
    assert sub.running
    assert publish("a", "1", backend.client) == 1 and publish("b", "2", backend.client) == 1
    wait_until(lambda: len(received) == 2, message="two messages")
    sub.stop()
    assert not sub.running and received == [("a", "1"), ("b", "2")]
    assert publish("a", "3", backend.client) == 0  # unsubscribed


def test_an_asyncio_subscriber(backend, queue):
    async def main():
        received: list[str] = []
        sub = Subscriber("news", received.append, stop_on="bye", client=queue.async_client())
        task = asyncio.create_task(sub.run_async())
        while not sub.subscribed.is_set():
            await asyncio.sleep(0.01)
        publish("news", "hello", backend.client)
        publish("news", "bye", backend.client)
        await asyncio.wait_for(task, 5)
        return received

    assert asyncio.run(main()) == ["hello", "bye"]


def test_a_subscribers_handler_error_comes_out_as_the_handler_raised_it(backend):
    # Given a handler that fails with an error of its own which looks like a network one
    def handler(message):
        raise ConnectionError(f"the gateway refused {message}")

    sub = Subscriber("news", handler, client=backend.client)
    threading.Thread(target=lambda: (sub.subscribed.wait(5), publish("news", "hello", backend.client)),
                     daemon=True).start()

    # When a message arrives, the subscription ends with that error unchanged: it is the handler's, not Redis's
    with pytest.raises(ConnectionError) as raised:
        sub.run()
    assert type(raised.value) is ConnectionError and str(raised.value) == "the gateway refused hello"


# ---- notebook display ---------------------------------------------------------------------------------------------

def test_rich_display_of_queue_job_and_worker(queue):
    # Given a job that made progress and failed once
    job = queue.add("t", attempts=2)
    outcomes = iter(["fail", "ok"])

    def handler(job):
        job.progress(3, 4)
        if next(outcomes) == "fail":
            raise ValueError("flaky <b>network</b>")
        return "fine"

    w = Worker(queue, {"t": handler}, concurrency=2)
    w.drain()
    queue.add("t2")
    job.refresh()

    # Then each renders what matters, escaped
    assert "complete" in job._repr_html_() and "100%" in job._repr_html_()
    assert "2 made, 1 failed of 2 allowed" in job._repr_html_()
    queue_html = queue._repr_html_()
    assert "Queue test" in queue_html and ">inactive<" in queue_html and ">1<" in queue_html
    worker_html = w._repr_html_()
    assert w.id in worker_html and "stopped" in worker_html and "concurrency" in worker_html
    failing = queue.add("t", attempts=1)
    outcomes = iter(["fail"])
    Worker(queue, {"t": handler}).drain()
    html = failing.refresh()._repr_html_()
    assert "flaky &lt;b&gt;network&lt;/b&gt;" in html and "<b>network" not in html and "75%" in html
