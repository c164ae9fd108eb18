"""The audit log: every action taken through the web API, kept in Redis per queue (newest first, the last 1,000)."""

from __future__ import annotations

import json
from typing import Any

from starlette.routing import Route

from ..job import now_ms
from .core import Call, Web, endpoint

__all__ = ["KEEP", "record", "routes"]

#: how many entries each queue's audit log keeps
KEEP = 1000


def record(call: Call, action: str, target: Any, result: Any) -> None:
    """Append ``{at, who, action, target, result}`` to the audit log of the call's queue, in one round trip."""
    queue = call.queue
    entry = json.dumps({"at": now_ms(), "who": call.who, "action": action, "target": target, "result": result},
                       separators=(",", ":"), ensure_ascii=False)
    pipe = queue.client.pipeline(transaction=False)
    pipe.lpush(queue.keys.audit, entry)
    pipe.ltrim(queue.keys.audit, 0, KEEP - 1)
    pipe.execute()


def read(call: Call) -> dict[str, Any]:
    """``GET /audit?start=&count=``: a page of the queue's audit log, newest first."""
    start = call.int_query("start", 0, 0, KEEP) or 0
    count = call.int_query("count", 100, 1, KEEP) or 100
    queue = call.queue
    raw = queue.client.lrange(queue.keys.audit, start, start + count - 1)
    return {"entries": [json.loads(x) for x in raw], "start": start, "total": queue.client.llen(queue.keys.audit)}


def routes(web: Web) -> list[Route]:
    return [Route("/audit", endpoint(web, read), methods=["GET"])]
