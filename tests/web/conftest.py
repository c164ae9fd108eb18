"""Fixtures of the web suite: the dashboard served by uvicorn on a free port, in a thread of the test's process
(so the embedded backend is served too), and an httpx client to it.

* ``serve(app)`` starts uvicorn on 127.0.0.1 and a free port and returns its base URL; every server is stopped
  after the test.
* ``site`` is the dashboard of the backend's Redis (``create_app(client=...)``), with ``site.http`` an httpx client
  to it and ``site.q(path)`` the path of a route of the ``queue`` fixture's queue.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from fixtures import Backend, wait_until
from queuekit import Queue
from queuekit.web import create_app, listen


@dataclass
class Site:
    url: str
    http: httpx.Client
    queue: Queue

    def q(self, path: str) -> str:
        """The path of ``path`` served for the test's queue."""
        return f"/api/queues/{self.queue.name}{path}"


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    started: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: Any) -> str:
        sock = listen("127.0.0.1", 0)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                               timeout_graceful_shutdown=1))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        started.append((server, thread))
        wait_until(lambda: server.started, message="uvicorn started")
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, _ in started:
        server.should_exit = True
    for _, thread in started:
        thread.join(timeout=10)


@pytest.fixture
def client_for(serve: Callable[[Any], str]) -> Iterator[Callable[..., httpx.Client]]:
    """``client_for(app, **httpx options)``: serve ``app`` and return an httpx client to it (closed after)."""
    clients: list[httpx.Client] = []

    def make(app: Any, **options: Any) -> httpx.Client:
        http = httpx.Client(base_url=serve(app), timeout=10, **options)
        clients.append(http)
        return http

    yield make
    for http in clients:
        http.close()


@pytest.fixture
def site(backend: Backend, queue: Queue, client_for: Callable[..., httpx.Client]) -> Site:
    http = client_for(create_app(client=backend.client))
    return Site(str(http.base_url), http, queue)
