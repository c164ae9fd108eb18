"""Kue's JSON API, routes and shapes as Kue documented them: stats, a job, its log, search, ranges of jobs,
creating jobs, changing a job's state or priority, removing a job."""

from __future__ import annotations

from typing import Any, cast

from starlette.routing import Route

from ..errors import ValidationError
from ..job import Job, JobOptions
from ..queue import STATES, Queue
from . import audit
from .core import ApiError, Call, Web, endpoint, json_id, parse_int, reply

__all__ = ["existing", "job_json", "routes", "search_all"]

#: the most jobs one range answers (``GET /jobs/0..999``)
MAX_RANGE = 1000
#: the most ids ``GET /job/search`` answers (``GET /search`` pages through the rest)
MAX_SEARCH = 1000
#: the complete jobs whose run times make ``workTime`` (the newest kept)
WORK_SAMPLE = 1000
#: Kue's job options (and queuekit's spelling of them) -> ``Queue.add``'s keyword; None: accepted and ignored
OPTIONS: dict[str, str | None] = {
    "priority": "priority", "attempts": "attempts", "delay": "delay", "backoff": "backoff", "ttl": "ttl",
    "removeOnComplete": "remove_on_complete", "remove_on_complete": "remove_on_complete", "id": "job_id",
    "job_id": "job_id", "searchKeys": None,  # queuekit searches every job's data: Kue's search keys are not needed
}


def job_json(job: Job) -> dict[str, Any]:
    """A job in Kue's shape (times in ms since the epoch, ``attempts`` as ``{made, remaining, max}``), plus
    queuekit's own fields (failures, stalls, finished_at)."""
    o = job.opts
    done = job.finished_at if job.state is not None and job.state.value in ("complete", "failed") else None
    return {
        "id": json_id(job.id or ""), "type": job.type, "data": job.data, "result": job.result,
        "priority": o.priority, "progress": job.percent, "progress_data": job.progress_data,
        "state": job.state.value if job.state is not None else None, "error": job.error,
        "created_at": job.created_at, "promote_at": (job.created_at or 0) + o.delay if o.delay else None,
        "updated_at": max(t or 0 for t in (job.created_at, job.started_at, job.finished_at)) or None,
        "started_at": job.started_at, "finished_at": done,
        "failed_at": done if job.state is not None and job.state.value == "failed" else None,
        "duration": done - job.started_at if done and job.started_at else None,
        "workerId": job.worker, "ttl": o.ttl, "delay": o.delay, "backoff": o.backoff,
        "removeOnComplete": o.remove_on_complete,
        "attempts": {"made": job.attempts_made, "remaining": max(0, o.attempts - job.failures), "max": o.attempts},
        "failures": job.failures, "stalls": job.stalls,
    }


def existing(queue: Queue, job_id: str) -> Job:
    """The job ``job_id`` (ApiError 404 naming ``id`` when there is none)."""
    job = queue.get_job(job_id)
    if job is None:
        raise ApiError(404, "id", f"no job {job_id} in queue {queue.name}")
    return job


# ---- reading ------------------------------------------------------------------------------------------------

def stats(call: Call) -> dict[str, Any]:
    """``GET /stats``: Kue's counts, and ``workTime``, the ms spent running the newest complete jobs kept."""
    queue = call.queue
    counts = queue.counts()
    out: dict[str, Any] = {f"{state}Count": counts[state] for state in STATES}
    out["workTime"] = _work_time(queue)
    return out


def _work_time(queue: Queue) -> int:
    """The sum of the run times of the newest ``WORK_SAMPLE`` complete jobs kept: two round trips, two numbers
    read per job (never its data)."""
    ids = cast("list[str]", queue.client.zrange(queue.keys.complete, 0, WORK_SAMPLE - 1, desc=True))
    pipe = queue.client.pipeline(transaction=False)
    for job_id in ids:
        pipe.hmget(queue.keys.job(job_id), "started", "finished")
    total = 0
    for started, finished in pipe.execute():
        if started and finished and started.isdigit() and finished.isdigit():
            total += max(0, int(finished) - int(started))
    return total


def get_job(call: Call) -> dict[str, Any]:
    """``GET /job/:id``: the job, with every failed attempt (error and traceback)."""
    queue = call.queue
    job = existing(queue, call.params["id"])
    out = job_json(job)
    out["failed_attempts"] = queue.attempt_history(job.id or "")
    return out


def job_log(call: Call) -> list[str]:
    """``GET /job/:id/log``: the job's log lines, oldest first."""
    queue = call.queue
    existing(queue, call.params["id"])
    return queue.log_lines(call.params["id"])


def job_types(call: Call) -> list[str]:
    """``GET /job/types``: every job type the queue has seen."""
    return call.queue.types()


def search_all(queue: Queue, text: str, state: str | None, type: str | None, limit: int | None) -> list[str]:
    """Every id the queue's search finds (at most ``limit``), page after page (each page a bounded scan)."""
    ids: list[str] = []
    cursor: Any = 0
    while True:
        page, cursor = queue.search(text, state=state, type=type, cursor=cursor, count=100)
        ids += page
        if not cursor or (limit is not None and len(ids) >= limit):
            return ids if limit is None else ids[:limit]


def job_search(call: Call) -> list[str | int]:
    """``GET /job/search?q=``: the ids of the jobs whose id, type, error or data holds the text."""
    text = call.query.get("q", "")
    if not text:
        raise ApiError(400, "q", "expected the text to search for")
    return [json_id(i) for i in search_all(call.queue, text, None, None, MAX_SEARCH)]


def jobs_range(call: Call) -> Any:
    """``GET /jobs/[:type/][:state/]:from..:to[/:order]`` and Kue's ``GET /jobs/:type/:state/stats``."""
    parts = call.params["rest"].strip("/").split("/")
    queue = call.queue
    if len(parts) == 3 and parts[2] == "stats":
        return {"count": queue.counts(type=parts[0])[_state(parts[1])]}
    at = next((n for n, p in enumerate(parts) if ".." in p), None)
    if at is None or at > 2 or len(parts) - at > 2:
        raise ApiError(404, "path", "expected /jobs/[type/][state/]from..to[/asc|desc]")
    start, stop = _range(parts[at])
    desc = _order(parts[at + 1] if len(parts) > at + 1 else "asc")
    count = stop - start + 1
    if at == 0:
        jobs = _all_states(queue, start, count, desc)
    else:
        job_type = parts[0] if at == 2 else None
        jobs = queue.jobs(_state(parts[at - 1]), job_type, start=start, count=count, desc=desc)
    return [job_json(job) for job in jobs]


def _state(text: str) -> str:
    if text not in STATES:
        raise ApiError(400, "state", f"unknown state {text!r}; expected one of {', '.join(STATES)}")
    return text


def _range(text: str) -> tuple[int, int]:
    """``from..to`` (inclusive) as two integers; ApiError 400 naming ``range``."""
    low, _, high = text.partition("..")
    start = parse_int("range", low) if low.strip().isdigit() else None
    stop = parse_int("range", high) if high.strip().isdigit() else None
    if start is None or stop is None or stop < start:
        raise ApiError(400, "range", f"expected from..to, two integers with 0 <= from <= to, got {text!r}")
    if stop - start + 1 > MAX_RANGE:
        raise ApiError(400, "range", f"{text!r} is {stop - start + 1} jobs, over the limit of {MAX_RANGE} a page")
    return start, stop


def _order(text: str) -> bool:
    if text not in ("asc", "desc"):
        raise ApiError(400, "order", f"expected asc or desc, got {text!r}")
    return text == "desc"


def _all_states(queue: Queue, start: int, count: int, desc: bool) -> list[Job]:
    """A page of the jobs of every state taken together: state after state (inactive, active, delayed, complete,
    failed; the reverse for ``desc``), each in its own line's order. Reads one page per state it spans."""
    sizes = queue.counts()
    out: list[Job] = []
    for state in reversed(STATES) if desc else STATES:
        if start >= sizes[state]:
            start -= sizes[state]
            continue
        out += queue.jobs(state, start=start, count=count - len(out), desc=desc)
        start = 0
        if len(out) >= count:
            break
    return out


# ---- writing ------------------------------------------------------------------------------------------------

def create(call: Call) -> Any:
    """``POST /job`` with one job ``{type, data, options}``, or with a list: each valid job is created, each invalid
    one answers ``{"error"}`` in its place, and then the status is 400."""
    body = call.json()
    queue = call.queue
    if isinstance(body, list):
        if not body:
            raise ApiError(400, "body", "expected a job or a non-empty list of jobs, got an empty list")
        answers = [_create_or_refuse(queue, item, n) for n, item in enumerate(body)]
        made = [a["id"] for a in answers if "id" in a]
        if made:
            audit.record(call, "create", made, f"{len(made)} of {len(body)} created")
        return _reply_list(answers)
    answer = _create_one(queue, body, "")
    audit.record(call, "create", answer["id"], answer["message"])
    return answer


def _reply_list(answers: list[dict[str, Any]]) -> Any:
    return reply(answers, 400 if any("error" in a for a in answers) else 200)


def _create_or_refuse(queue: Queue, item: Any, n: int) -> dict[str, Any]:
    try:
        return _create_one(queue, item, f"[{n}].")
    except ValidationError as exc:
        return {"error": str(exc)}


def _create_one(queue: Queue, item: Any, where: str) -> dict[str, Any]:
    """Create the job ``item`` describes; ValidationError naming the field (after ``where``) otherwise."""
    if not isinstance(item, dict):
        raise ValidationError(f"{where}job", f"expected an object {{type, data, options}}, got {item!r}")
    extra = sorted(set(item) - {"type", "data", "options"})
    if extra:
        raise ValidationError(f"{where}{extra[0]}", "unknown key; expected type, data, options")
    options = item.get("options")
    options = {} if options is None else options
    if not isinstance(options, dict):
        raise ValidationError(f"{where}options", f"expected an object, got {options!r}")
    kwargs: dict[str, Any] = {}
    for name, value in options.items():
        if name not in OPTIONS:
            raise ValidationError(f"{where}options.{name}", f"unknown option; expected one of {', '.join(OPTIONS)}")
        keyword = OPTIONS[name]
        if keyword is not None:
            kwargs[keyword] = value
    try:
        job = queue.add(item.get("type"), item.get("data"), **kwargs)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ValidationError(f"{where}{exc.field}", exc.reason) from None
    return {"message": "job already exists" if job.duplicate else "job created", "id": json_id(job.id or "")}


def set_state(call: Call) -> dict[str, str]:
    """``PUT /job/:id/state/:state``: move a job to another state (not active: only a worker makes a job active)."""
    queue, job_id = call.queue, call.params["id"]
    state = _state(call.params["state"])
    job = existing(queue, job_id)
    if not queue.move(job_id, state):
        now = job.state.value if job.state is not None else "unknown"
        raise ApiError(409, "state", f"job {job_id} could not be moved from {now} to {state}")
    audit.record(call, "state", json_id(job_id), state)
    return {"message": "updated state"}


def set_priority(call: Call) -> dict[str, str]:
    """``PUT /job/:id/priority/:priority``: a number (-1000 to 1000, lower runs first) or one of Kue's names."""
    queue, job_id = call.queue, call.params["id"]
    raw = call.params["priority"]
    value: int | str = parse_int("priority", raw, -1000, 1000) if raw.lstrip("-").isdigit() else raw
    priority = JobOptions.build(priority=value).priority  # refused here, naming the field, before any write
    existing(queue, job_id)
    if not queue.set_priority(job_id, priority):
        raise ApiError(404, "id", f"no job {job_id} in queue {queue.name}")
    audit.record(call, "priority", json_id(job_id), priority)
    return {"message": "updated priority"}


def remove(call: Call) -> dict[str, str]:
    """``DELETE /job/:id``: remove a job in any state, with its log and history."""
    queue, job_id = call.queue, call.params["id"]
    if not queue.remove(job_id):
        raise ApiError(404, "id", f"no job {job_id} in queue {queue.name}")
    audit.record(call, "remove", json_id(job_id), "removed")
    return {"message": f"job {job_id} removed"}


def routes(web: Web) -> list[Route]:
    """Kue's routes, relative to where the queue is served (``/api/queues/{queue}`` or the root)."""
    return [
        Route("/stats", endpoint(web, stats), methods=["GET"]),
        Route("/job/search", endpoint(web, job_search), methods=["GET"]),
        Route("/job/types", endpoint(web, job_types), methods=["GET"]),
        Route("/job", endpoint(web, create), methods=["POST"]),
        Route("/job/{id}", endpoint(web, get_job), methods=["GET"]),
        Route("/job/{id}", endpoint(web, remove), methods=["DELETE"]),
        Route("/job/{id}/log", endpoint(web, job_log), methods=["GET"]),
        Route("/job/{id}/state/{state}", endpoint(web, set_state), methods=["PUT"]),
        Route("/job/{id}/priority/{priority}", endpoint(web, set_priority), methods=["PUT"]),
        Route("/jobs/{rest:path}", endpoint(web, jobs_range), methods=["GET"]),
    ]
