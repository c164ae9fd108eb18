"""Fixtures of the core suite: every backend-dependent test runs on the embedded server and on the real Redis.

* ``backend`` is parametrized over ``embedded`` (a fresh fakeredis store per test, installed as the process
  default) and ``redis`` (the real Redis, database 1, flushed before and after each test). Without a real Redis
  the ``redis`` case is skipped, except with ``CI=true`` where it fails. Databases 0, 2 and 3 belong to others
  and are never touched.
* ``queue`` is a Queue on the backend; ``worker(handlers, **options)`` starts workers and stops them afterwards.
* ``shared_url`` is a URL other processes can use: the real Redis database 1, or an embedded TCP server that
  serves this test's embedded store.
* ``spawn(...)`` starts a worker process (see ``tests/fixtures.py``) and kills whatever is left of it afterwards.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis

pytest_plugins = ["pytester"]  # test_extras runs a user's test suite using the qk_* fixtures

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from fixtures import REAL_REDIS_URL, Backend, make_queue

import queuekit.queue  # noqa: E402
from queuekit import Queue, Worker
from queuekit.testing import fresh_server

_LOCK_PATH = Path(os.environ.get("TMPDIR", "/tmp")) / "queuekit-core-redis-db1.lock"


def _real_redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REAL_REDIS_URL, decode_responses=True, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        client.close()
        message = f"real Redis not reachable at {REAL_REDIS_URL}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the real-Redis backend is required)", pytrace=False)
        pytest.skip(message)
    return client


def _forget_event_hubs() -> None:
    # Event hubs are cached per process (one subscriber thread per queue and server); a test must not inherit
    # the listeners of the previous one.
    with queuekit.queue._hubs_lock:
        hubs = list(queuekit.queue._hubs.values())
        queuekit.queue._hubs.clear()
    for hub in hubs:
        hub.close()


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.realredis)])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    """The store of one test: a fresh embedded server, or the real Redis database 1 (flushed)."""
    if request.param == "embedded":
        monkeypatch.delenv("REDIS_URL", raising=False)
        with fresh_server() as server:
            client = fakeredis.FakeRedis(server=server, decode_responses=True)
            try:
                yield Backend("embedded", None, client, server)
            finally:
                _forget_event_hubs()
        return
    yield from _real_backend(monkeypatch)


@pytest.fixture
def real_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    """The real Redis only (database 1, flushed before and after), for tests that need a real server."""
    yield from _real_backend(monkeypatch)


def _real_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    client = _real_redis_or_skip()
    monkeypatch.setenv("REDIS_URL", REAL_REDIS_URL)
    # database 1 is shared by every run of this suite on the machine: one test at a time uses it
    with open(_LOCK_PATH, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            client.flushdb()
            yield Backend("redis", REAL_REDIS_URL, client)
        finally:
            _forget_event_hubs()
            try:
                client.flushdb()
            finally:
                client.close()


@pytest.fixture
def queue(backend: Backend) -> Iterator[Queue]:
    """A queue named "test" on the backend; its test mode is left off afterwards."""
    q = make_queue(backend)
    yield q
    q.test_mode.exit()
    q.test_mode.clear()


@pytest.fixture
def worker(queue: Queue) -> Iterator[Callable[..., Worker]]:
    """``worker(handlers, queue=None, **options)`` starts a Worker in the background; all are stopped after."""
    started: list[Worker] = []

    def factory(handlers: dict[str, Callable[..., Any]], on: Queue | None = None, **options: Any) -> Worker:
        w = Worker(on or queue, handlers, **options).start()
        started.append(w)
        return w

    yield factory
    for w in started:
        w.stop(timeout=2)


@pytest.fixture
def shared_url(backend: Backend) -> Iterator[str]:
    """A URL other processes can use for the backend's data."""
    if backend.url is not None:
        yield backend.url
        return
    from queuekit.server import EmbeddedServer

    with EmbeddedServer(port=0, store=backend.server) as server:
        yield server.url


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """``spawn(url, *args, cli=False)`` starts a worker process: ``python tests/fixtures.py worker args...``, or with
    ``cli=True`` the ``queuekit --url URL worker args...`` command. Its output goes to a file (``proc.output()``
    reads it). Every process still running afterwards is killed, by its own pid."""
    procs: list[subprocess.Popen[str]] = []

    def start(url: str, *args: str, cli: bool = False) -> subprocess.Popen[str]:
        env = {**os.environ, "REDIS_URL": url, "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])), "PYTHONUNBUFFERED": "1"}
        if cli:
            cmd = [shutil.which("queuekit") or "queuekit", "--url", url, "worker", *args]
        else:
            cmd = [sys.executable, str(TESTS / "fixtures.py"), "worker", *args]
        log_path = tmp_path / f"proc-{len(procs)}.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, env=env, cwd=str(TESTS), stdout=log, stderr=subprocess.STDOUT, text=True)
        proc.output = log_path.read_text  # type: ignore[attr-defined]
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def pytest_collection_finish(session: pytest.Session) -> None:
    """When the session holds the course's tests (tests/exercises/test_course.py), start grading the course in the
    background now and run those tests last: the grading runs alongside the rest of the suite."""
    if session.config.option.collectonly:
        return
    course = [item for item in session.items if "exercises/test_course.py::" in item.nodeid.replace("\\", "/")]
    if course:
        import course_run

        session.items[:] = [item for item in session.items if item not in course] + course
        course_run.start()
