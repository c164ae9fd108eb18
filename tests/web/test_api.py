"""Kue's JSON API over real HTTP (uvicorn in a thread, httpx), route by route, on both backends: the shapes Kue
documented, and bad input answered with its status and a message naming the field, with nothing written."""

from __future__ import annotations

import pytest
from fixtures import snapshot, wait_until

from queuekit.web import create_app

pytestmark = pytest.mark.timeout(60)


def _fail(job):
    raise RuntimeError(f"smtp down for {job.data['to']}")


# ---- reading ------------------------------------------------------------------------------------------------------

def test_stats_answers_kues_counts_and_work_time(site, worker):
    # Given two jobs run and one waiting
    site.queue.add("email", {"to": "a"})
    site.queue.add("email", {"to": "b"})
    worker({"email": lambda job: None}).drain() if False else None
    w = worker({"email": lambda job: None})
    wait_until(lambda: site.queue.counts()["complete"] == 2)
    w.stop()
    site.queue.add("email", {"to": "c"})

    # When the stats are read
    r = site.http.get(site.q("/stats"))

    # Then they are Kue's, with the time spent running the complete jobs
    assert r.status_code == 200
    body = r.json()
    assert {k: v for k, v in body.items() if k != "workTime"} == {
        "inactiveCount": 1, "activeCount": 0, "delayedCount": 0, "completeCount": 2, "failedCount": 0}
    assert isinstance(body["workTime"], int) and body["workTime"] >= 0


def test_a_job_is_answered_in_kues_shape_with_its_failed_attempts_and_error(site, worker):
    # Given a job that failed for good after two attempts
    job = site.queue.add("email", {"to": "x@example.com"}, attempts=2)
    worker({"email": _fail})
    wait_until(lambda: site.queue.counts()["failed"] == 1)

    # When it is read
    r = site.http.get(site.q(f"/job/{job.id}"))

    # Then its id is a number, as in Kue, and it carries queuekit's history of attempts
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == int(job.id)
    assert (body["type"], body["data"], body["state"]) == ("email", {"to": "x@example.com"}, "failed")
    assert body["error"] == "RuntimeError: smtp down for x@example.com" or "smtp down" in body["error"]
    assert body["attempts"]["max"] == 2 and body["attempts"]["remaining"] == 0
    assert [a["attempt"] for a in body["failed_attempts"]] == [1, 2]
    assert all("smtp down" in a["error"] and a.get("traceback") for a in body["failed_attempts"])
    for field in ("priority", "progress", "created_at", "updated_at", "failed_at"):
        assert field in body


def test_a_jobs_log_is_its_lines_oldest_first(site):
    job = site.queue.add("email")
    site.queue.get_job(job.id).log("sent to %s", "a").log("done")

    r = site.http.get(site.q(f"/job/{job.id}/log"))

    assert (r.status_code, r.json()) == (200, ["sent to a", "done"])


def test_ranges_are_inclusive_ascending_by_default_and_desc_on_request(site):
    # Given five waiting jobs of two types
    ids = [int(site.queue.add("email" if n % 2 else "sms", {"n": n}).id) for n in range(5)]

    def got(path):
        r = site.http.get(site.q(path))
        assert r.status_code == 200, r.text
        return [j["id"] for j in r.json()]

    # Then from..to includes both ends, in line order, or reversed with desc
    assert got("/jobs/inactive/0..2") == ids[:3]
    assert got("/jobs/inactive/0..2/asc") == ids[:3]
    assert got("/jobs/inactive/0..1/desc") == ids[::-1][:2]
    assert got("/jobs/inactive/3..3") == [ids[3]]
    assert got("/jobs/inactive/4..10") == [ids[4]]
    # by type, and across every state
    assert got("/jobs/email/inactive/0..9") == [ids[1], ids[3]]
    assert got("/jobs/sms/inactive/1..1/desc") == [ids[2]]
    assert got("/jobs/0..1") == ids[:2]
    assert got("/jobs/0..0/desc") == [ids[4]]
    # Kue's count of one type in one state
    assert site.http.get(site.q("/jobs/email/inactive/stats")).json() == {"count": 2}


def test_job_types_lists_every_type(site):
    site.queue.add("sms")
    site.queue.add("email")
    assert site.http.get(site.q("/job/types")).json() == ["email", "sms"]


# ---- writing ------------------------------------------------------------------------------------------------------

def test_post_job_creates_one_job_and_answers_its_numeric_id(site):
    r = site.http.post(site.q("/job"), json={"type": "email", "data": {"to": "a"},
                                              "options": {"priority": "high", "attempts": 3, "delay": 60000}})

    assert r.status_code == 200
    body = r.json()
    assert body["message"] == "job created" and isinstance(body["id"], int)
    job = site.queue.get_job(body["id"])
    assert (job.type, job.data, job.opts.priority, job.opts.attempts, job.state) == ("email", {"to": "a"}, -10, 3,
                                                                                      "delayed")


def test_post_job_with_a_list_creates_the_valid_ones_and_answers_an_error_in_place_of_each_invalid(site):
    # When a list holds one invalid job between two valid ones
    r = site.http.post(site.q("/job"), json=[{"type": "email", "data": {"n": 1}},
                                             {"type": "email", "options": {"priority": "urgent"}},
                                             {"type": "sms", "data": {"n": 3}}])

    # Then the status is 400, the answers are in order, and the valid jobs exist
    assert r.status_code == 400
    first, bad, third = r.json()
    assert first["message"] == "job created" and third["message"] == "job created"
    assert "priority" in bad["error"] and "[1]" in bad["error"] and "id" not in bad
    assert site.queue.counts()["inactive"] == 2
    assert site.queue.get_job(third["id"]).data == {"n": 3}


def test_post_job_with_a_list_of_valid_jobs_is_200(site):
    r = site.http.post(site.q("/job"), json=[{"type": "a"}, {"type": "b"}])
    assert r.status_code == 200 and [a["message"] for a in r.json()] == ["job created"] * 2


def test_put_state_moves_a_job_and_put_priority_changes_it(site):
    job = site.queue.add("email")

    r = site.http.put(site.q(f"/job/{job.id}/state/complete"))
    assert (r.status_code, r.json()) == (200, {"message": "updated state"})
    assert site.queue.get_job(job.id).state == "complete"

    other = site.queue.add("email")
    r = site.http.put(site.q(f"/job/{other.id}/priority/-10"))
    assert (r.status_code, r.json()) == (200, {"message": "updated priority"})
    assert site.queue.get_job(other.id).opts.priority == -10
    r = site.http.put(site.q(f"/job/{other.id}/priority/low"))
    assert r.status_code == 200 and site.queue.get_job(other.id).opts.priority == 10


def test_delete_job_removes_it(site):
    job = site.queue.add("email")

    r = site.http.delete(site.q(f"/job/{job.id}"))

    assert (r.status_code, r.json()) == (200, {"message": f"job {job.id} removed"})
    assert site.queue.get_job(job.id) is None


def test_search_answers_the_ids_of_matching_jobs(site):
    site.queue.add("email", {"to": "alice@example.com"})
    wanted = site.queue.add("email", {"to": "bob@example.com"})

    r = site.http.get(site.q("/job/search"), params={"q": "bob@"})

    assert (r.status_code, r.json()) == (200, [int(wanted.id)])


# ---- bad input ----------------------------------------------------------------------------------------------------

BAD = [
    ("GET", "/job/999", None, 404, "id"),
    ("GET", "/job/999/log", None, 404, "id"),
    ("PUT", "/job/999/state/complete", None, 404, "id"),
    ("PUT", "/job/1/state/bogus", None, 400, "state"),
    ("PUT", "/job/1/state/active", None, 400, "state"),
    ("PUT", "/job/1/priority/9999", None, 400, "priority"),
    ("PUT", "/job/1/priority/urgent", None, 400, "priority"),
    ("PUT", "/job/999/priority/5", None, 404, "id"),
    ("DELETE", "/job/999", None, 404, "id"),
    ("GET", "/jobs/5..2", None, 400, "range"),
    ("GET", "/jobs/a..b", None, 400, "range"),
    ("GET", "/jobs/inactive/-1..3", None, 400, "range"),
    ("GET", "/jobs/inactive/0..100000", None, 400, "range"),
    ("GET", "/jobs/bogus/0..3", None, 400, "state"),
    ("GET", "/jobs/inactive/0..3/sideways", None, 400, "order"),
    ("GET", "/job/search", None, 400, "q"),
    ("POST", "/job", b"{not json", 400, "body"),
    ("POST", "/job", b"", 400, "body"),
    ("POST", "/job", {"type": ""}, 400, "type"),
    ("POST", "/job", {"type": "x", "options": {"priority": "urgent"}}, 400, "priority"),
    ("POST", "/job", {"type": "x", "options": {"colour": "red"}}, 400, "options.colour"),
    ("POST", "/job", {"type": "x", "data": {"a": 1}, "extra": 1}, 400, "extra"),
    ("POST", "/job", [], 400, "body"),
    ("POST", "/job", "just text", 400, "job"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), BAD,
                         ids=[f"{m} {p} {s}" for m, p, _, s, _ in BAD])
def test_bad_input_answers_its_status_names_the_field_and_writes_nothing(backend, site, method, path, body, status,
                                                                        field):
    # Given job 1, waiting
    assert site.queue.add("email").id == "1"
    before = snapshot(backend.client)

    # When a bad request is sent
    kwargs = {"content": body} if isinstance(body, bytes) else {} if body is None else {"json": body}
    r = site.http.request(method, site.q(path), **kwargs)

    # Then it is refused with a JSON error naming the field, and nothing changed in Redis
    assert r.status_code == status, r.text
    assert field in r.json()["error"]
    assert snapshot(backend.client) == before


def test_an_unknown_route_is_a_json_404(site):
    r = site.http.get("/api/nothing/here")
    assert r.status_code == 404 and "path" in r.json()["error"]
    r = site.http.patch(site.q("/stats"))
    assert r.status_code == 405 and "method" in r.json()["error"]


def test_a_queue_name_no_queue_can_have_is_a_400(site):
    r = site.http.get("/api/queues/a{b}/stats")
    assert r.status_code == 400 and "queue name" in r.json()["error"]


# ---- every queue, and the root routes ---------------------------------------------------------------------------

def test_api_queues_lists_every_queue_with_its_counts(backend, site):
    from fixtures import make_queue

    site.queue.add("email")
    make_queue(backend, "other").add("sms", delay=60000)

    r = site.http.get("/api/queues")

    assert r.status_code == 200
    by_name = {q["name"]: q for q in r.json()}
    assert by_name["test"]["counts"]["inactive"] == 1 and by_name["other"]["counts"]["delayed"] == 1
    assert by_name["test"]["paused"] is False


def test_with_queue_the_kue_routes_are_served_at_the_root_exactly_as_kue(backend, queue, client_for):
    http = client_for(create_app(client=backend.client, queue="test"))

    r = http.post("/job", json={"type": "email", "data": {"to": "a"}})
    assert r.status_code == 200
    job_id = r.json()["id"]
    assert http.get("/stats").json()["inactiveCount"] == 1
    assert http.get(f"/job/{job_id}").json()["data"] == {"to": "a"}
    assert [j["id"] for j in http.get("/jobs/inactive/0..0").json()] == [job_id]
    assert http.delete(f"/job/{job_id}").json() == {"message": f"job {job_id} removed"}
    # and under /api/queues as well
    assert http.get("/api/queues/test/stats").json()["inactiveCount"] == 0


def test_without_queue_the_root_serves_no_kue_route(site):
    assert site.http.get("/stats").status_code == 404


def test_the_index_page_is_served(site):
    r = site.http.get("/")
    assert r.status_code == 200 and "queuekit" in r.text and "text/html" in r.headers["content-type"]


def test_with_nothing_given_the_app_serves_the_embedded_default(backend, queue, client_for):
    if backend.name != "embedded":
        pytest.skip("the embedded default is the process's own server")
    from queuekit import Queue

    Queue("test").add("email")  # a queue on the process's default server, as the demo makes it
    http = client_for(create_app())

    assert http.get("/api/queues/test/stats").json()["inactiveCount"] == 1
