"""The routes beyond Kue, over real HTTP on both backends: retry, promote, pause/resume, clean, bulk retry and
remove of a selection or of a search result, failures grouped by error, paged search, the overviews, the audit."""

from __future__ import annotations

import pytest
from fixtures import snapshot, wait_until

from queuekit import Worker

pytestmark = pytest.mark.timeout(60)


def _fail(job):
    raise TimeoutError("smtp")


def _failed(site, n: int, job_type: str = "email") -> list[str]:
    """``n`` jobs of ``job_type`` failed for good (a worker drains them)."""
    ids = [site.queue.add(job_type, {"n": k}).id for k in range(n)]
    Worker(site.queue, {job_type: _fail}).drain()
    assert site.queue.counts()["failed"] >= n
    return ids


def test_retry_puts_a_failed_job_back_in_line(site):
    [job_id] = _failed(site, 1)

    r = site.http.post(site.q(f"/job/{job_id}/retry"))

    assert (r.status_code, r.json()) == (200, {"message": f"job {job_id} retried"})
    assert site.queue.get_job(job_id).state == "inactive"


def test_retry_of_a_job_that_is_not_failed_is_a_409_and_writes_nothing(backend, site):
    job = site.queue.add("email")
    before = snapshot(backend.client)

    r = site.http.post(site.q(f"/job/{job.id}/retry"))

    assert r.status_code == 409 and "not failed" in r.json()["error"]
    assert snapshot(backend.client) == before


def test_promote_runs_a_delayed_job_now(backend, site):
    job = site.queue.add("email", delay=3_600_000)
    waiting = site.queue.add("email")
    before = snapshot(backend.client)
    r = site.http.post(site.q(f"/job/{waiting.id}/promote"))
    assert r.status_code == 409 and snapshot(backend.client) == before

    r = site.http.post(site.q(f"/job/{job.id}/promote"))

    assert r.status_code == 200
    assert site.queue.get_job(job.id).state == "inactive"


def test_pause_and_resume(site):
    assert site.http.put(site.q("/pause")).json() == {"message": "queue test paused"}
    assert site.queue.paused is True
    assert site.http.put(site.q("/resume")).json() == {"message": "queue test resumed"}
    assert site.queue.paused is False


def test_clean_removes_finished_jobs_keeping_the_newest_on_request(backend, site):
    for _ in range(3):
        site.queue.add("email")
    Worker(site.queue, {"email": lambda job: None}).drain()

    r = site.http.delete(site.q("/jobs/complete"), params={"keep": 1})
    assert (r.status_code, r.json()["count"]) == (200, 2)
    assert site.queue.counts()["complete"] == 1

    before = snapshot(backend.client)
    for bad in ({"keep": "lots"}, {"older_than": "-5"}):
        r = site.http.delete(site.q("/jobs/complete"), params=bad)
        assert r.status_code == 400 and list(bad)[0] in r.json()["error"]
    r = site.http.delete(site.q("/jobs/inactive"))
    assert r.status_code == 400 and "state" in r.json()["error"]
    assert snapshot(backend.client) == before


def test_bulk_retry_and_remove_of_a_selection(site):
    ids = _failed(site, 3)

    r = site.http.post(site.q("/jobs/retry"), json={"ids": [int(ids[0]), ids[1], "nope"]})
    assert r.status_code == 200 and r.json()["count"] == 2
    assert sorted(r.json()["ids"]) == sorted([int(ids[0]), int(ids[1])])
    assert site.queue.counts()["inactive"] == 2

    r = site.http.post(site.q("/jobs/remove"), json={"ids": ids})
    assert (r.status_code, r.json()["count"]) == (200, 3)
    assert sum(site.queue.counts().values()) == 0


def test_bulk_actions_of_a_search_result_page_through_every_match(site):
    # Given 130 failed jobs whose data holds "acme" (more than a page of the search) and 2 others
    ids = [site.queue.add("email", {"to": f"user{n}@acme.test"}).id for n in range(130)]
    others = [site.queue.add("email", {"to": "someone@else.test"}).id for _ in range(2)]
    Worker(site.queue, {"email": _fail}).drain()

    r = site.http.post(site.q("/jobs/retry"), json={"search": "acme", "state": "failed"})

    assert r.status_code == 200 and r.json()["count"] == 130
    assert site.queue.counts()["inactive"] == 130 and site.queue.counts()["failed"] == 2

    r = site.http.post(site.q("/jobs/remove"), json={"search": "acme"})
    assert r.json()["count"] == 130
    assert all(site.queue.get_job(i) is None for i in ids)
    assert all(site.queue.get_job(i) is not None for i in others)


@pytest.mark.parametrize("body", [None, b"[1,", {"ids": []}, {"ids": "1"}, {"ids": [True]}, {"search": ""},
                                  {"ids": [1], "search": "x"}, {"search": "x", "state": 5}, {}])
def test_bulk_actions_refuse_bad_bodies_and_write_nothing(backend, site, body):
    _failed(site, 1)
    before = snapshot(backend.client)
    kwargs = {} if body is None else {"content": body} if isinstance(body, bytes) else {"json": body}

    for action in ("retry", "remove"):
        r = site.http.post(site.q(f"/jobs/{action}"), **kwargs)
        assert r.status_code == 400, r.text
        assert r.json()["error"].split(":")[0] in ("body", "ids", "search", "state")
    assert snapshot(backend.client) == before


def test_failures_are_grouped_by_error_and_a_group_is_retried_or_removed_whole(site):
    _failed(site, 3, "email")
    _failed(site, 2, "sms")

    r = site.http.get(site.q("/failures"))

    assert r.status_code == 200
    [group] = r.json()
    assert (group["count"], sorted(group["types"])) == (5, ["email", "sms"]) and "smtp" in group["error"]
    page = site.http.get(site.q(f"/failures/{group['key']}/jobs"), params={"count": 2}).json()
    assert len(page["ids"]) == 2 and page["jobs"][0]["state"] == "failed"

    r = site.http.post(site.q(f"/failures/{group['key']}/retry"))
    assert (r.status_code, r.json()["count"]) == (200, 5)
    assert site.http.get(site.q("/failures")).json() == []
    r = site.http.post(site.q(f"/failures/{group['key']}/remove"))
    assert r.status_code == 404 and "key" in r.json()["error"]


def test_search_answers_a_page_its_next_cursor_and_the_jobs(site):
    for n in range(60):
        site.queue.add("email", {"to": f"user{n}@acme.test"})
    site.queue.add("email", {"to": "nobody@else.test"})

    seen: list[int] = []
    cursor = 0
    while True:
        r = site.http.get(site.q("/search"), params={"q": "acme", "cursor": cursor, "count": 25})
        assert r.status_code == 200
        body = r.json()
        assert [j["id"] for j in body["jobs"]] == body["ids"]
        seen += body["ids"]
        cursor = body["cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 60
    assert site.http.get(site.q("/search")).status_code == 400
    assert site.http.get(site.q("/search"), params={"q": "x", "count": 0}).status_code == 400


def test_the_overview_of_a_queue_shows_counts_by_type_workers_their_jobs_and_unserved_types(site, worker):
    import threading

    release = threading.Event()
    running = site.queue.add("slow")
    site.queue.add("orphan")
    worker({"slow": lambda job: release.wait(10)})
    wait_until(lambda: site.queue.counts()["active"] == 1)
    try:
        wait_until(lambda: site.http.get(site.q("/overview")).json()["workers"], message="a live worker")
        body = site.http.get(site.q("/overview")).json()
    finally:
        release.set()

    assert body["counts"]["active"] == 1 and body["types"]["orphan"]["inactive"] == 1
    assert body["paused"] is False
    assert body["unserved"] == {"orphan": 1}
    [w] = body["workers"]
    assert w["types"] == ["slow"] and [j["id"] for j in w["jobs"]] == [int(running.id)]
    # ... and its last hour per minute, the current minute last (the pages draw throughput and failures from it)
    assert len(body["history"]) == 60 and body["history"][-1]["at"] > body["history"][0]["at"]


def test_the_global_overview_names_every_queue_and_redis_eviction_policy(backend, site):
    site.queue.add("email")

    body = site.http.get("/api/overview").json()

    assert [q["name"] for q in body["queues"]] == ["test"]
    redis_info = body["redis"]
    if backend.name == "embedded":  # the embedded server refuses CONFIG: the policy is unknown, and said so
        assert redis_info["maxmemory_policy"] in ("unknown", "noeviction")
    else:
        assert redis_info["maxmemory_policy"] == backend.client.config_get("maxmemory-policy")["maxmemory-policy"]
        assert redis_info["used_memory_human"]
    assert (redis_info["warning"] is None) == (redis_info["maxmemory_policy"] == "noeviction")


def test_the_policy_warning_is_given_unless_noeviction(monkeypatch, backend):
    from queuekit.web.overview import redis_memory

    monkeypatch.setattr(backend.client, "config_get", lambda *a: {"maxmemory-policy": "allkeys-lru"})
    assert "allkeys-lru" in redis_memory(backend.client)["warning"]
    monkeypatch.setattr(backend.client, "config_get", lambda *a: {"maxmemory-policy": "noeviction"})
    assert redis_memory(backend.client)["warning"] is None


def test_config_tells_the_pages_the_mode(site):
    assert site.http.get("/api/config").json() == {"read_only": False, "queue": None}
