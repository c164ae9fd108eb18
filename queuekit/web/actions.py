"""Beyond Kue, in the same style: retry and promote a job, pause and resume, clean a state, bulk retry or remove
of a selection or of a search result, failures grouped by error, and a paged search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.routing import Route

from ..queue import Queue
from . import audit
from .api import existing, job_json, search_all
from .core import ApiError, Call, Web, endpoint, json_id

__all__ = ["routes"]

#: the most failure groups one ``GET /failures`` answers
MAX_GROUPS = 1000
#: the most jobs a page of ``GET /search`` or ``GET /failures/:key/jobs`` answers
MAX_PAGE = 500


# ---- one job ------------------------------------------------------------------------------------------------

def retry(call: Call) -> dict[str, str]:
    """``POST /job/:id/retry``: put a failed job back in line with fresh attempts."""
    return _one_job(call, "retry", "retried", "failed", lambda queue, job_id: bool(queue.retry(job_id)))


def promote(call: Call) -> dict[str, str]:
    """``POST /job/:id/promote``: run a delayed job now."""
    return _one_job(call, "promote", "promoted", "delayed", lambda queue, job_id: queue.promote(job_id))


def _one_job(call: Call, action: str, done: str, state: str, act: Callable[[Queue, str], bool]) -> dict[str, str]:
    """``act`` on the job the path names, which must exist (404) and be in ``state`` (409 otherwise); audited."""
    queue, job_id = call.queue, call.params["id"]
    job = existing(queue, job_id)
    if not act(queue, job_id):
        raise ApiError(409, "state", f"job {job_id} is {job.state}, not {state}: only a {state} job can be {done}")
    audit.record(call, action, json_id(job_id), done)
    return {"message": f"job {job_id} {done}"}


# ---- the queue ----------------------------------------------------------------------------------------------

def pause(call: Call) -> dict[str, str]:
    """``PUT /pause``: workers start no new job of this queue (running ones finish)."""
    queue = call.queue
    queue.pause()
    audit.record(call, "pause", queue.name, "paused")
    return {"message": f"queue {queue.name} paused"}


def resume(call: Call) -> dict[str, str]:
    """``PUT /resume``: workers start jobs again."""
    queue = call.queue
    queue.resume()
    audit.record(call, "resume", queue.name, "resumed")
    return {"message": f"queue {queue.name} resumed"}


def clean(call: Call) -> dict[str, Any]:
    """``DELETE /jobs/:state?keep=&older_than=``: remove finished jobs (all, or all but the newest ``keep``, and/or
    those finished more than ``older_than`` ms ago)."""
    queue, state = call.queue, call.params["state"]
    keep = call.int_query("keep", None)
    older_than = call.int_query("older_than", None)
    removed = queue.clean(state, keep=keep, older_than=older_than)
    audit.record(call, "clean", {"state": state, "keep": keep, "older_than": older_than}, f"{removed} removed")
    return {"message": f"{removed} {state} jobs removed", "count": removed}


# ---- bulk ---------------------------------------------------------------------------------------------------

def _selection(call: Call) -> tuple[list[str], dict[str, Any]]:
    """The ids a bulk action acts on, and how the request named them (for the audit log): ``{"ids": [...]}``, or
    ``{"search": text, "state": ..., "type": ...}`` for every job the search finds (paged through, no cap)."""
    body = call.json()
    if not isinstance(body, dict) or ("ids" in body) == ("search" in body):
        raise ApiError(400, "body", 'expected {"ids": [...]} or {"search": "text", "state": ..., "type": ...}')
    if "ids" in body:
        ids = body["ids"]
        if not isinstance(ids, list) or not ids or not all(_is_id(i) for i in ids):
            raise ApiError(400, "ids", f"expected a non-empty list of job ids (strings or numbers), got {ids!r}")
        return [str(i) for i in ids], {"ids": len(ids)}
    text, state, job_type = body["search"], body.get("state"), body.get("type")
    if not isinstance(text, str) or not text:
        raise ApiError(400, "search", f"expected the text to search for, got {text!r}")
    for name, value in (("state", state), ("type", job_type)):
        if value is not None and not isinstance(value, str):
            raise ApiError(400, name, f"expected a string, got {value!r}")
    return search_all(call.queue, text, state, job_type, None), {"search": text, "state": state, "type": job_type}


def _is_id(value: Any) -> bool:
    return (isinstance(value, str) and bool(value)) or (isinstance(value, int) and not isinstance(value, bool))


def bulk_retry(call: Call) -> dict[str, Any]:
    """``POST /jobs/retry``: retry the failed jobs of a selection or of a search result."""
    queue = call.queue
    ids, target = _selection(call)
    done = queue.retry_many(ids)  # in batches of 1,000 a script call: no cap on the selection
    audit.record(call, "bulk retry", target, f"{len(done)} of {len(ids)} retried")
    return {"message": f"{len(done)} jobs retried", "count": len(done), "ids": [json_id(i) for i in done]}


def bulk_remove(call: Call) -> dict[str, Any]:
    """``POST /jobs/remove``: remove the jobs of a selection or of a search result."""
    queue = call.queue
    ids, target = _selection(call)
    removed = queue.remove_many(ids)
    audit.record(call, "bulk remove", target, f"{removed} of {len(ids)} removed")
    return {"message": f"{removed} jobs removed", "count": removed}


# ---- failures grouped by error ------------------------------------------------------------------------------

def failures(call: Call) -> list[dict[str, Any]]:
    """``GET /failures?limit=``: the failed jobs grouped by error, largest group first."""
    limit = call.int_query("limit", 100, 1, MAX_GROUPS) or 100
    return call.queue.failure_groups(limit)


def failure_jobs(call: Call) -> dict[str, Any]:
    """``GET /failures/:key/jobs?start=&count=``: a page of one group's jobs."""
    queue = call.queue
    start = call.int_query("start", 0) or 0
    count = call.int_query("count", 50, 1, MAX_PAGE) or 50
    ids = queue.failure_group_ids(call.params["key"], start, count)
    return {"ids": [json_id(i) for i in ids], "jobs": _jobs(queue, ids)}


def failure_retry(call: Call) -> dict[str, Any]:
    """``POST /failures/:key/retry``: retry every job of one group."""
    key = call.params["key"]
    done = call.queue.retry_group(key)
    if not done:
        raise ApiError(404, "key", f"no failed job in the group {key!r}")
    audit.record(call, "group retry", key, f"{len(done)} retried")
    return {"message": f"{len(done)} jobs retried", "count": len(done), "ids": [json_id(i) for i in done]}


def failure_remove(call: Call) -> dict[str, Any]:
    """``POST /failures/:key/remove``: remove every job of one group."""
    key = call.params["key"]
    removed = call.queue.remove_group(key)
    if not removed:
        raise ApiError(404, "key", f"no failed job in the group {key!r}")
    audit.record(call, "group remove", key, f"{removed} removed")
    return {"message": f"{removed} jobs removed", "count": removed}


# ---- search -------------------------------------------------------------------------------------------------

def search(call: Call) -> dict[str, Any]:
    """``GET /search?q=&state=&type=&cursor=&count=``: one page of matches (ids, the next cursor, 0 at the end,
    and the jobs themselves)."""
    text = call.query.get("q", "")
    if not text:
        raise ApiError(400, "q", "expected the text to search for")
    queue = call.queue
    cursor = call.int_query("cursor", 0) or 0
    count = call.int_query("count", 50, 1, MAX_PAGE) or 50
    ids, after = queue.search(text, state=call.query.get("state") or None, type=call.query.get("type") or None,
                              cursor=cursor, count=count)
    return {"ids": [json_id(i) for i in ids], "cursor": after, "jobs": _jobs(queue, ids)}


def _jobs(queue: Queue, ids: list[str]) -> list[dict[str, Any]]:
    """The jobs still there among ``ids``, in Kue's shape (one round trip each; a page is small)."""
    return [job_json(job) for job in (queue.get_job(i) for i in ids) if job is not None]


def routes(web: Web) -> list[Route]:
    return [
        Route("/job/{id}/retry", endpoint(web, retry), methods=["POST"]),
        Route("/job/{id}/promote", endpoint(web, promote), methods=["POST"]),
        Route("/pause", endpoint(web, pause), methods=["PUT"]),
        Route("/resume", endpoint(web, resume), methods=["PUT"]),
        Route("/jobs/retry", endpoint(web, bulk_retry), methods=["POST"]),
        Route("/jobs/remove", endpoint(web, bulk_remove), methods=["POST"]),
        Route("/jobs/{state}", endpoint(web, clean), methods=["DELETE"]),
        Route("/failures", endpoint(web, failures), methods=["GET"]),
        Route("/failures/{key}/jobs", endpoint(web, failure_jobs), methods=["GET"]),
        Route("/failures/{key}/retry", endpoint(web, failure_retry), methods=["POST"]),
        Route("/failures/{key}/remove", endpoint(web, failure_remove), methods=["POST"]),
        Route("/search", endpoint(web, search), methods=["GET"]),
    ]
