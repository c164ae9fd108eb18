"""What an operator looks at first: every queue with its counts, one queue's overview (counts per state and type,
paused, live workers and what they run, unserved types), Redis's memory and eviction policy, the app's settings."""

from __future__ import annotations

from typing import Any

import redis
from starlette.routing import Route

from ..errors import ValidationError
from ..history import history as read_history
from ..keys import QUEUES, validate_queue_name
from ..queue import Queue
from .core import Call, Web, endpoint, json_id

__all__ = ["queue_routes", "routes"]

#: the job types whose counts a queue's overview reads one by one (a queue has a few; past it, the rest are named)
MAX_TYPES = 100
#: the running jobs the overview lists with the worker running each
MAX_ACTIVE = 100
#: the queues the global overview and ``GET /api/queues`` read
MAX_QUEUES = 1000


def queue_names(client: redis.Redis) -> list[str]:
    """Every queue's name (the set every add and worker registers into), sorted."""
    names = sorted(str(n) for n in client.smembers(QUEUES) if _valid(n))
    return names[:MAX_QUEUES]


def _valid(name: object) -> bool:
    try:
        validate_queue_name(name)
    except ValidationError:
        return False  # a name written there by hand that no queue can have: left out
    return True


def _summary(queue: Queue) -> dict[str, Any]:
    return {"name": queue.name, "counts": queue.counts(), "paused": queue.paused}


def queue_overview(queue: Queue) -> dict[str, Any]:
    """One queue: counts per state and per type, paused, live workers each with the jobs it runs, unserved types."""
    types = queue.types()
    workers = queue.workers()
    running: dict[str, list[dict[str, Any]]] = {}
    for job in queue.jobs("active", count=MAX_ACTIVE):
        running.setdefault(job.worker or "", []).append(
            {"id": json_id(job.id or ""), "type": job.type, "progress": job.percent, "started_at": job.started_at})
    for info in workers:
        info["jobs"] = running.get(str(info.get("id")), [])
    return {
        **_summary(queue),
        "types": {t: queue.counts(type=t) for t in types[:MAX_TYPES]},
        "more_types": types[MAX_TYPES:],
        "workers": workers,
        "unserved": queue.unserved(),
        "history": read_history(queue, "minute", 60),  # the last hour, per minute (throughput, failures)
    }


def overview(call: Call) -> dict[str, Any]:
    """``GET /overview`` of one queue."""
    return queue_overview(call.queue)


def history(call: Call) -> list[dict[str, Any]]:
    """``GET /history?span=minute&count=60`` of one queue: its buckets, oldest first (see queuekit.history)."""
    return read_history(call.queue, call.query.get("span", "minute"), call.int_query("count", 60, 1) or 60)


def queues(call: Call) -> list[dict[str, Any]]:
    """``GET /api/queues``: every queue with its counts."""
    web = call.web
    return [_summary(web.get_queue(name)) for name in queue_names(web.client)]


def redis_memory(client: redis.Redis) -> dict[str, Any]:
    """Redis's memory in use and its ``maxmemory-policy``, with a warning unless it is ``noeviction`` (under
    memory pressure any other policy deletes keys, jobs among them, without a word)."""
    try:
        info = client.info("memory")
    except redis.RedisError:
        info = {}
    policy = _policy(client) or info.get("maxmemory_policy") or "unknown"
    out: dict[str, Any] = {"used_memory_human": info.get("used_memory_human"), "maxmemory_policy": policy,
                           "warning": None}
    if policy == "unknown":
        out["warning"] = ("maxmemory-policy could not be read (CONFIG refused): make sure it is noeviction, or "
                          "Redis may delete jobs when memory runs short")
    elif policy != "noeviction":
        out["warning"] = (f"maxmemory-policy is {policy}: when memory runs short Redis deletes keys, jobs among them, "
                          "without an error; set it to noeviction")
    return out


def _policy(client: redis.Redis) -> str | None:
    """``CONFIG GET maxmemory-policy``, or None where the server refuses CONFIG (an ACL user, the embedded one)."""
    try:
        reply = client.config_get("maxmemory-policy")
    except (redis.RedisError, NotImplementedError):
        return None
    value = reply.get("maxmemory-policy") if isinstance(reply, dict) else None
    return str(value) if value else None


def global_overview(call: Call) -> dict[str, Any]:
    """``GET /api/overview``: every queue's overview, and Redis's memory."""
    web = call.web
    return {"queues": [queue_overview(web.get_queue(name)) for name in queue_names(web.client)],
            "redis": redis_memory(web.client)}


def config(call: Call) -> dict[str, Any]:
    """``GET /api/config``: what the pages need to know of the app (read-only: show no action)."""
    return {"read_only": call.web.read_only, "queue": call.web.queue}


def routes(web: Web) -> list[Route]:
    """The routes of the app as a whole, under ``/api``."""
    return [
        Route("/queues", endpoint(web, queues), methods=["GET"]),
        Route("/overview", endpoint(web, global_overview), methods=["GET"]),
        Route("/config", endpoint(web, config), methods=["GET"]),
    ]


def queue_routes(web: Web) -> list[Route]:
    return [Route("/overview", endpoint(web, overview), methods=["GET"]),
            Route("/history", endpoint(web, history), methods=["GET"])]
