"""The token and read-only mode: every request (pages too) needs the token when there is one; in read-only mode
every action is refused, even one forged by hand, and nothing is written."""

from __future__ import annotations

import pytest
from fixtures import snapshot
from starlette.applications import Starlette

from queuekit.errors import QueuekitError, ValidationError
from queuekit.web import create_app, listen, serve

pytestmark = pytest.mark.timeout(60)

TOKEN = "s3cret-token"


@pytest.fixture
def guarded(backend, queue, client_for):
    return client_for(create_app(client=backend.client, token=TOKEN))


@pytest.mark.parametrize("path", ["/", "/api/queues", "/api/queues/test/stats", "/api/queues/test/events",
                                  "/static/index.html"])
def test_without_the_token_every_request_is_a_401(guarded, path):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        r = guarded.get(path, headers=headers)
        assert r.status_code == 401 and "token" in r.json()["error"]
    assert guarded.get(path, params={"token": "wrong"}).status_code == 401


def test_a_refused_action_without_the_token_writes_nothing(backend, guarded):
    before = snapshot(backend.client)
    r = guarded.post("/api/queues/test/job", json={"type": "email"})
    assert r.status_code == 401
    assert snapshot(backend.client) == before


def test_the_token_is_taken_from_the_header(guarded):
    r = guarded.get("/api/queues", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200


def test_the_token_in_the_query_sets_a_cookie_the_pages_own_requests_use(guarded):
    # When a page is opened with ?token=
    r = guarded.get("/", params={"token": TOKEN})

    # Then it is served and a cookie is set, which is not the token itself
    assert r.status_code == 200
    cookie = guarded.cookies.get("queuekit_token")
    assert cookie and TOKEN not in cookie
    assert "httponly" in r.headers["set-cookie"].lower()
    # and the next requests need nothing else
    assert guarded.get("/api/queues").status_code == 200
    guarded.cookies.set("queuekit_token", "forged")
    assert guarded.get("/api/queues").status_code == 401


def test_an_empty_token_is_refused_when_the_app_is_made(backend):
    with pytest.raises(ValidationError, match="token"):
        create_app(client=backend.client, token="")


FORGED = [("POST", "/job", {"type": "email"}), ("PUT", "/job/1/state/complete", None),
          ("PUT", "/job/1/priority/high", None), ("DELETE", "/job/1", None), ("POST", "/job/1/retry", None),
          ("POST", "/job/1/promote", None), ("PUT", "/pause", None), ("PUT", "/resume", None),
          ("DELETE", "/jobs/complete", None), ("POST", "/jobs/retry", {"ids": [1]}),
          ("POST", "/jobs/remove", {"ids": [1]}), ("POST", "/failures/x/retry", None),
          ("POST", "/failures/x/remove", None)]


@pytest.mark.parametrize(("method", "path", "body"), FORGED, ids=[f"{m} {p}" for m, p, _ in FORGED])
def test_read_only_refuses_every_action_and_writes_nothing(backend, queue, client_for, method, path, body):
    # Given a read-only dashboard served for the queue, also at the root
    http = client_for(create_app(client=backend.client, read_only=True, queue="test"))
    queue.add("email")
    before = snapshot(backend.client)

    # When an action is forged, under /api/queues and at the root
    for where in (f"/api/queues/test{path}", path):
        r = http.request(method, where, json=body)
        # Then it is refused
        assert r.status_code == 403 and "read_only" in r.json()["error"]
    assert snapshot(backend.client) == before
    # while reading works, and the pages are told
    assert http.get("/api/queues/test/stats").status_code == 200
    assert http.get("/api/config").json() == {"read_only": True, "queue": "test"}


def test_the_app_mounts_in_another_app_and_the_cookie_is_scoped_to_its_path(backend, queue, client_for):
    from starlette.routing import Mount

    outer = Starlette(routes=[Mount("/queues", app=create_app(client=backend.client, token=TOKEN))])
    http = client_for(outer)
    queue.add("email")

    r = http.get("/queues/api/queues", params={"token": TOKEN})

    assert r.status_code == 200 and r.json()[0]["counts"]["inactive"] == 1
    assert "path=/queues" in r.headers["set-cookie"].lower()
    assert http.get("/queues/api/queues/test/stats").json()["inactiveCount"] == 1


def test_serving_on_a_busy_port_is_a_one_line_queuekit_error(backend):
    busy = listen("127.0.0.1", 0)
    try:
        port = busy.getsockname()[1]
        with pytest.raises(QueuekitError) as caught:
            serve(create_app(client=backend.client), port=port)
    finally:
        busy.close()
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "\n" not in message


def test_a_bad_host_is_a_queuekit_error_too():
    with pytest.raises(QueuekitError, match="cannot listen on"):
        listen("256.0.0.1", 0)


def test_an_action_a_browser_sends_from_another_site_is_refused(backend, site):
    before = snapshot(backend.client)
    r = site.http.post(site.q("/job"), json={"type": "email"}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "origin" in r.json()["error"]
    assert snapshot(backend.client) == before
    # from the dashboard's own pages (same origin), or from a client that sends no Origin, it is taken
    own = str(site.http.base_url).rstrip("/")
    assert site.http.post(site.q("/job"), json={"type": "email"}, headers={"Origin": own}).status_code == 200
    assert site.http.post(site.q("/job"), json={"type": "email"}).status_code == 200
    # a browser that says where the request comes from is believed, even behind a proxy that rewrites Host
    for fetch_site, status in (("cross-site", 403), ("same-site", 403), ("same-origin", 200)):
        r = site.http.post(site.q("/job"), json={"type": "email"},
                           headers={"Sec-Fetch-Site": fetch_site, "Origin": "https://dash.example"})
        assert r.status_code == status
