"""Testing helpers: Kue's test mode, an eager mode, and pytest fixtures for your own tests.

The fixtures are available to any project that installs queuekit (pytest plugin ``queuekit``):

* ``qk_server``: a fresh, empty embedded server for the test; meanwhile ``queuekit.connect()`` and ``Queue()``
  without a URL use it, even with ``REDIS_URL`` set (a test never writes to the Redis your shell points at).
* ``qk_queue``: a ``Queue`` on that server.
* ``qk_worker``: a factory ``qk_worker(handlers, **options)`` that starts workers and stops them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import fakeredis

if TYPE_CHECKING:
    from .job import Job
    from .queue import Queue
    from .worker import Worker

__all__ = ["TestMode", "test_mode_for", "eager", "fresh_server"]

from .testmode import TestMode, test_mode_for


@contextmanager
def fresh_server() -> Iterator[fakeredis.FakeServer]:
    """Swap in a new, empty embedded server for the duration (what ``qk_server`` does). Calls without a URL use it
    whatever ``REDIS_URL`` says; a call given a URL still goes there."""
    from .connection import pin_embedded_server, use_embedded_server

    server = fakeredis.FakeServer(version=(7, 0))
    previous = use_embedded_server(server)
    was_pinned = pin_embedded_server(True)
    try:
        yield server
    finally:
        pin_embedded_server(was_pinned)
        use_embedded_server(previous)


@contextmanager
def eager(queue: Queue, handlers: Mapping[str, Callable[..., Any]]) -> Iterator[Queue]:
    """Run jobs inline: every job added to ``queue`` inside the block is processed before ``add``/``save`` returns,
    retries included (backoff waits are skipped). The job object is refreshed with its final state and result.
    """
    from .worker import Worker

    worker = Worker(queue, dict(handlers), concurrency=1)
    original = queue._enqueue

    def enqueue_and_run(jobs: list[Job]) -> list[Job]:
        saved = original(jobs)
        worker.drain(run_delayed=True)
        for job in saved:
            if job.id is not None and queue.get_job(job.id) is not None:
                job.refresh()
        return saved

    queue._enqueue = enqueue_and_run  # type: ignore[method-assign]
    try:
        yield queue
    finally:
        queue._enqueue = original  # type: ignore[method-assign]


# ---- pytest plugin -----------------------------------------------------------------------------------------------

try:
    import pytest
except ImportError:  # pragma: no cover - pytest is optional for the library
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def qk_server() -> Iterator[fakeredis.FakeServer]:
        """A fresh embedded server for one test."""
        with fresh_server() as server:
            yield server

    @pytest.fixture
    def qk_queue(qk_server: fakeredis.FakeServer) -> Iterator[Queue]:
        """A queue named "test" on a fresh embedded server."""
        from .queue import Queue

        queue = Queue("test", client=fakeredis.FakeRedis(server=qk_server, decode_responses=True))
        yield queue
        queue.test_mode.exit()
        queue.test_mode.clear()

    @pytest.fixture
    def qk_worker(qk_queue: Queue) -> Iterator[Callable[..., Worker]]:
        """``qk_worker(handlers, **options)`` starts a worker on ``qk_queue``; all are stopped after the test."""
        from .worker import Worker

        started: list[Worker] = []

        def factory(handlers: Mapping[str, Callable[..., Any]], **options: Any) -> Worker:
            worker = Worker(qk_queue, dict(handlers), **options).start()
            started.append(worker)
            return worker

        yield factory
        for worker in started:
            worker.stop(timeout=5)
