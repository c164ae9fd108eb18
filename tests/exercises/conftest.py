"""Fixtures for the exercise graders: a shared server per test on each backend, fresh in-process stores.

``server_url`` runs on ``embedded`` (queuekit's TCP server on a free port, started here) and, only when a real
Redis was asked for, also on ``redis``: ``QUEUEKIT_EXERCISE_REDIS_URL=redis://HOST:PORT/DB`` (what
``queuekit learn --redis URL`` sets). That database is emptied before and after each test, so the URL must name
it and it may not be 0 (``queuekit.learn.runner.check_redis_url``); ``REDIS_URL`` is never used by the graders.
A real Redis that was asked for but does not answer skips the ``redis`` cases, except with ``CI=true`` where it
fails them. ``QUEUEKIT_EXERCISE_BACKENDS=embedded`` limits the backends. Each test records the backend it ran on
(``record_property("backend", ...)``), so results say which backends ran.

Whatever a test started with ``exercise_support.Script`` and did not stop is killed when the test ends.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import fakeredis
import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from exercise_support import REAL_REDIS_URL, kill_leftovers  # noqa: E402

from queuekit.learn.runner import RedisUrlError, check_redis_url, redis_database  # noqa: E402

# The graders grade the files in $EXERCISE_ROOT (the runner always sets it). A plain `pytest` run of the project
# does not set it: then the graders are not collected (they would grade the unsolved stubs and fail by design);
# test_course.py grades the stubs and the reference solutions through the runner instead.
if not os.environ.get("EXERCISE_ROOT"):
    collect_ignore_glob = ["test_ex[0-9][0-9]_*.py"]

_DEFAULT_BACKENDS = "embedded,redis" if REAL_REDIS_URL else "embedded"
BACKENDS = [b.strip() for b in os.environ.get("QUEUEKIT_EXERCISE_BACKENDS", _DEFAULT_BACKENDS).split(",")
            if b.strip() and (b.strip() != "redis" or REAL_REDIS_URL)]


def _lock_path(url: str) -> Path:
    """One lock file per database number: one test at a time empties and uses it, across processes (the same file
    as earlier versions of this file used for database 2, so that they exclude each other too)."""
    return Path(os.environ.get("TMPDIR", "/tmp")) / f"queuekit-exercises-redis-db{redis_database(url)}.lock"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "task(taskno): the task of the exercise a test grades")


@pytest.fixture(params=BACKENDS)
def server_url(request: pytest.FixtureRequest, record_property: Callable[[str, object], None]) -> Iterator[str]:
    """The URL of one server shared by the grader and the learner's processes."""
    record_property("backend", request.param)
    if request.param == "embedded":
        from queuekit.server import EmbeddedServer

        with EmbeddedServer(port=0) as server:
            yield server.url
        return
    try:
        check_redis_url(REAL_REDIS_URL)
    except RedisUrlError as exc:
        pytest.fail(f"QUEUEKIT_EXERCISE_REDIS_URL: {exc}", pytrace=False)
    client = redis.Redis.from_url(REAL_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        message = f"real Redis not reachable at {REAL_REDIS_URL}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the real-Redis backend is required)", pytrace=False)
        pytest.skip(message)
    # the database may be shared by several graders: one test at a time uses it (verify grades in parallel)
    with open(_lock_path(REAL_REDIS_URL), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            client.flushdb()
            yield REAL_REDIS_URL
        finally:
            try:
                client.flushdb()
            finally:
                client.close()
                fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def store(record_property: Callable[[str, object], None]) -> Iterator[fakeredis.FakeServer]:
    """A fresh embedded store, installed as the process-wide default for ``queuekit.connect()``."""
    from queuekit.connection import use_embedded_server

    record_property("backend", "embedded")
    fresh = fakeredis.FakeServer(version=(7, 0))
    previous = use_embedded_server(fresh)
    try:
        yield fresh
    finally:
        use_embedded_server(previous)


@pytest.fixture
def client(store: fakeredis.FakeServer) -> fakeredis.FakeRedis:
    """A client of the fresh embedded store (what ``queuekit.connect()`` returns in this test)."""
    return fakeredis.FakeRedis(server=store, decode_responses=True)


@pytest.fixture(autouse=True)
def _no_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process checks use the embedded store, whatever the shell exported."""
    monkeypatch.delenv("REDIS_URL", raising=False)


@pytest.fixture(autouse=True)
def _kill_what_the_test_started() -> Iterator[None]:
    """Every process a test started (``Script``, ``run_script``, ``start_app``) is killed when it ends, even when
    the test failed before stopping it."""
    yield
    kill_leftovers()
