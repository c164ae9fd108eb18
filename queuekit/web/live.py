"""Live updates as server-sent events: the queue's own events, heard through queuekit's event hub (never by
polling keys), and a counts message at most once a second while anyone listens (one ``counts()`` call per queue
per second, shared by every client)."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..errors import ValidationError
from ..events import QUEUE_EVENTS
from ..queue import Queue
from .core import ApiError, Web, json_id, reply

__all__ = ["Feed", "Live"]

#: messages kept for a client that reads slowly; past it, events are dropped for it (the next counts catch up)
BACKLOG = 1000
#: seconds between two counts messages
COUNTS_EVERY = 1.0
#: seconds of silence after which a comment line is sent, so proxies keep the stream open
KEEPALIVE = 15.0


class Feed:
    """One queue's live feed: listens to the queue's events while at least one client does, and fans each one
    out to every client's inbox; a ticker sends the counts."""

    def __init__(self, queue: Queue, loop: asyncio.AbstractEventLoop) -> None:
        self.queue = queue
        self.loop = loop
        self.inboxes: set[asyncio.Queue[str]] = set()
        self._listeners: list[tuple[str, Callable[..., None]]] = []
        self._ticker: asyncio.Task[None] | None = None

    async def join(self) -> asyncio.Queue[str]:
        """A new client's inbox; the first client starts the listening and the ticker."""
        inbox: asyncio.Queue[str] = asyncio.Queue(maxsize=BACKLOG)
        first = not self.inboxes
        self.inboxes.add(inbox)
        if first:
            self._ticker = asyncio.ensure_future(self._tick())
            if not self._listeners:
                await run_in_threadpool(self._listen)  # the hub's first subscription waits for Redis
                if not self.inboxes:  # every client left while the listening started
                    self.leave(inbox)
        return inbox

    def leave(self, inbox: asyncio.Queue[str]) -> None:
        """Forget a client; the last one stops the ticker and the listening (on a thread, not awaited)."""
        self.inboxes.discard(inbox)
        if self.inboxes:
            return
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        listeners, self._listeners = self._listeners, []
        self.loop.run_in_executor(None, self._unlisten, listeners)

    def _listen(self) -> None:
        hub = self.queue.events
        listeners: list[tuple[str, Callable[..., None]]] = [
            (event, functools.partial(self._heard, event)) for event in QUEUE_EVENTS]
        for event, listener in listeners:
            hub.on_queue(event, listener)
        self._listeners = listeners

    def _unlisten(self, listeners: list[tuple[str, Callable[..., None]]]) -> None:
        hub = self.queue.events
        for event, listener in listeners:
            hub.off_queue(event, listener)

    def _heard(self, event: str, job_id: str, *args: Any) -> None:
        """Called on the hub's thread for each event: hand it to the event loop."""
        message = json.dumps({"event": event, "id": json_id(str(job_id)), "args": list(args)}, ensure_ascii=False)
        self.loop.call_soon_threadsafe(self.broadcast, message)

    def broadcast(self, message: str) -> None:
        for inbox in list(self.inboxes):
            try:
                inbox.put_nowait(message)
            except asyncio.QueueFull:
                pass  # a client that does not read loses events, never the others; the counts catch it up

    async def _tick(self) -> None:
        while self.inboxes:
            try:
                counts = await run_in_threadpool(self.queue.counts)
                self.broadcast(json.dumps({"event": "counts", "counts": counts}))
            except Exception as exc:  # Redis away for a moment: say so, and try again next second
                self.broadcast(json.dumps({"event": "error", "error": f"redis: {exc}"}))
            await asyncio.sleep(COUNTS_EVERY)


class Live:
    """The feeds of one app, one per queue listened to."""

    def __init__(self, web: Web) -> None:
        self.web = web
        self.feeds: dict[str, Feed] = {}

    def feed(self, name: str) -> Feed:
        loop = asyncio.get_running_loop()
        found = self.feeds.get(name)
        if found is None or (found.loop is not loop and not found.inboxes):
            found = self.feeds[name] = Feed(self.web.get_queue(name), loop)
        return found

    async def events(self, request: Request) -> Response:
        """``GET /events``: the queue's live stream (``text/event-stream``), each message one JSON object:
        ``{"event": "job complete", "id": 17, "args": [...]}`` or ``{"event": "counts", "counts": {...}}``."""
        name = request.path_params.get("queue", self.web.queue)
        try:
            if name is None:
                raise ApiError(404, "queue", "no queue named in the path and the app serves no default queue")
            feed = self.feed(name)
        except ApiError as exc:
            return exc.response()
        except ValidationError as exc:
            return reply({"error": str(exc)}, 400)
        return StreamingResponse(_stream(feed), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    def routes(self) -> list[Route]:
        return [Route("/events", self.events, methods=["GET"])]


async def _stream(feed: Feed) -> AsyncIterator[str]:
    inbox = await feed.join()
    try:
        yield "retry: 2000\n\n"
        while True:
            try:
                message = await asyncio.wait_for(inbox.get(), KEEPALIVE)
            except asyncio.TimeoutError:
                yield ": keep-alive\n\n"
                continue
            yield f"data: {message}\n\n"
    finally:
        feed.leave(inbox)
