"""What every route shares: the app's settings and queues (``Web``), one request's inputs (``Call``), the error
reply (``ApiError``), and ``endpoint``, which runs a route's plain function on a thread and maps errors to JSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import redis
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..connection import connect
from ..errors import JobNotFound, QueuekitError, ValidationError
from ..queue import Queue

__all__ = ["ApiError", "Call", "Web", "endpoint", "json_id", "reply"]

#: the largest request body read (bytes); a bigger one is refused before it is parsed
MAX_BODY = 16 * 1024 * 1024
#: the most Queue objects kept (one per queue name asked for); past it a request gets a Queue of its own
MAX_QUEUES = 1000


class ApiError(Exception):
    """A refusal answered as ``{"error": "<field>: <reason>"}`` with ``status``; nothing has been written."""

    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.status = status

    def response(self) -> Response:
        return reply({"error": str(self)}, self.status)


def reply(body: Any, status: int = 200) -> Response:
    """``body`` as a JSON response."""
    return JSONResponse(body, status_code=status)


def json_id(job_id: str) -> str | int:
    """A job id as Kue answered it: a number when it is one (the queue's counter), else the custom id's text."""
    return int(job_id) if job_id.isdigit() else job_id


class Web:
    """The settings of one app and the queues it serves, all on one Redis client."""

    def __init__(self, client: redis.Redis, queue: str | None, read_only: bool, token: str | None) -> None:
        self.client = client
        self.queue = queue
        self.read_only = read_only
        self.token = token
        self._queues: dict[str, Queue] = {}

    @classmethod
    def build(cls, url: str | None, client: redis.Redis | None, queue: str | None, read_only: bool,
              token: str | None) -> Web:
        if client is None:
            client = connect(url)
        web = cls(client, queue, read_only, token)
        if queue is not None:
            web.get_queue(queue)  # a bad name is refused when the app is made, not on each request
        return web

    def get_queue(self, name: str) -> Queue:
        """The Queue named ``name`` (ValidationError for a name no queue can have)."""
        found = self._queues.get(name)
        if found is not None:
            return found
        made = Queue(name, client=self.client)
        if len(self._queues) < MAX_QUEUES:
            self._queues[name] = made
        return made


class Call:
    """One request's inputs, read on the event loop, for a route function running on a thread."""

    def __init__(self, request: Request, web: Web, body: bytes) -> None:
        self.request = request
        self.web = web
        self.params: dict[str, str] = dict(request.path_params)
        self.query = request.query_params
        self.body = body

    @property
    def queue(self) -> Queue:
        """The queue named in the path, else the app's own queue (the routes served at the root)."""
        name = self.params.get("queue", self.web.queue)
        if name is None:
            raise ApiError(404, "queue", "no queue named in the path and the app serves no default queue")
        return self.web.get_queue(name)

    @property
    def who(self) -> str:
        """Who sent the request: the remote address, and the X-Queuekit-User header when sent (clipped)."""
        host = self.request.client.host if self.request.client else "unknown"
        user = self.request.headers.get("x-queuekit-user", "")
        user = "".join(c for c in user if c.isprintable())[:100]
        return f"{host} ({user})" if user else host

    def json(self) -> Any:
        """The body as JSON (ApiError 400 naming ``body`` when it is not)."""
        if not self.body:
            raise ApiError(400, "body", "expected a JSON body, got none")
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise ApiError(400, "body", f"not valid JSON ({exc})") from None

    def int_query(self, name: str, default: int | None, low: int = 0, high: int | None = None) -> int | None:
        """The query parameter ``name`` as an integer from ``low`` to ``high`` (ApiError 400 naming it)."""
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        return parse_int(name, raw, low, high)


def parse_int(name: str, raw: str, low: int = 0, high: int | None = None) -> int:
    """``raw`` as an integer from ``low`` to ``high``; ApiError 400 naming ``name`` otherwise."""
    text = raw.strip()
    if not (text.isdigit() or (text.startswith("-") and text[1:].isdigit())):
        raise ApiError(400, name, f"expected an integer, got {raw!r}")
    value = int(text)
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of {low} or more"
        raise ApiError(400, name, f"expected an integer {bound}, got {value}")
    return value


Handler = Callable[[Call], Any]


def endpoint(web: Web, fn: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint running ``fn(call)`` on a worker thread (queuekit's calls block) and answering its
    value as JSON (a Response is passed as it is); refusals become JSON errors with their status."""

    async def run(request: Request) -> Response:
        try:
            body = await _body(request)
            result = await run_in_threadpool(fn, Call(request, web, body))
        except ApiError as exc:
            return exc.response()
        except ValidationError as exc:
            return reply({"error": str(exc)}, 400)
        except JobNotFound as exc:
            return reply({"error": f"id: {exc}"}, 404)
        except QueuekitError as exc:  # Redis could not be reached or refused a call: not the client's fault
            return reply({"error": f"redis: {exc}"}, 503)
        return result if isinstance(result, Response) else reply(result)

    run.__name__ = getattr(fn, "__name__", "endpoint")
    return run


async def _body(request: Request) -> bytes:
    if request.method in ("GET", "HEAD"):
        return b""
    size = request.headers.get("content-length", "")
    if size.isdigit() and int(size) > MAX_BODY:
        raise ApiError(413, "body", f"{size} bytes, over the limit of {MAX_BODY}")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ApiError(413, "body", f"{len(body)} bytes, over the limit of {MAX_BODY}")
    return body
