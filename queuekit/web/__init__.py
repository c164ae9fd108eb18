"""The dashboard's web server: Kue's JSON API and queuekit's own routes, live events, an audit log, a token and a
read-only mode. ``create_app`` makes a Starlette app (mountable in a Starlette or FastAPI app); ``serve`` runs one.

Needs the ``web`` extra: ``pip install 'queuekit[web]'``.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import redis
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import QueuekitError, ValidationError
from . import actions, api, audit, overview
from .auth import Guard
from .core import Web
from .live import Live

__all__ = ["create_app", "serve"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"


def create_app(url: str | None = None, *, client: redis.Redis | None = None, queue: str | None = None,
               read_only: bool = False, token: str | None = None) -> Starlette:
    """The dashboard as a Starlette app.

    Args:
        url: where Redis is (else ``REDIS_URL``, else the embedded server); ignored when ``client`` is given.
        client: a redis-py client to use instead.
        queue: serve this queue's routes at the root too, exactly as Kue had them (``GET /stats``, ``GET /job/17``).
        read_only: refuse every action (403) and tell the pages to show none.
        token: require it on every request: ``Authorization: Bearer <token>``, ``?token=<token>`` (which sets a
            cookie for the pages' own requests) or that cookie.

    Every queue is served under ``/api/queues/<name>/``. Mount it in another app with
    ``app.mount("/queues", create_app(...))``.
    """
    if token is not None and (not isinstance(token, str) or not token):
        raise ValidationError("token", f"expected a non-empty string, got {token!r}")
    web = Web.build(url, client, queue, read_only, token)
    live = Live(web)
    per_queue: list[BaseRoute] = [*api.routes(web), *actions.routes(web), *audit.routes(web),
                                  *overview.queue_routes(web), *live.routes()]
    routes: list[BaseRoute] = [
        Route("/", _index, methods=["GET"]),
        Route("/metrics", _metrics(web), methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        Mount("/api", routes=[*overview.routes(web), Mount("/queues/{queue}", routes=per_queue)]),
    ]
    if queue is not None:
        routes += per_queue
    app = Starlette(routes=routes, middleware=[Middleware(Guard, token=token, read_only=read_only)],
                    exception_handlers={HTTPException: _http_error, Exception: _server_error})
    app.state.web = web
    return app


def _metrics(web: Web) -> Any:
    """``GET /metrics``: every queue's metrics in Prometheus's text format (queuekit.metrics), read when scraped."""
    from prometheus_client import CONTENT_TYPE_LATEST

    from ..metrics import render

    async def metrics(request: Request) -> Response:
        body = await run_in_threadpool(render, web.client)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics


async def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html")


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, a method the route does not take) as JSON errors."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    what = "method" if status == 405 else "path"
    return JSONResponse({"error": f"{what}: {request.method} {request.url.path}: "
                                  f"{getattr(exc, 'detail', '') or 'refused'}"}, status_code=status)


async def _server_error(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback, answered as a JSON error without it."""
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": f"server: {type(exc).__name__} (see the server's log)"}, status_code=500)


def serve(app: Starlette, host: str = "127.0.0.1", port: int = 8790, *, log_level: str = "warning",
          sock: socket.socket | None = None) -> None:
    """Serve ``app`` with uvicorn until interrupted. Listens on 127.0.0.1 unless told otherwise; a port already in
    use (or any address that cannot be listened on) raises a QueuekitError with a one-line message. ``sock``: a
    socket already listening (:func:`listen`), used instead of ``host`` and ``port``."""
    import uvicorn

    sock = sock or listen(host, port)
    config = uvicorn.Config(app, log_level=log_level, lifespan="off", timeout_graceful_shutdown=3)
    uvicorn.Server(config).run(sockets=[sock])


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (port 0: a free one), or a QueuekitError saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise QueuekitError(f"cannot listen on {host}:{port}: {reason}") from None
