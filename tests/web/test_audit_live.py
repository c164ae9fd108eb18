"""The audit log of actions taken through the API (kept in Redis, bounded), and the live stream of events."""

from __future__ import annotations

import json

import pytest
from fixtures import wait_until

from queuekit import Worker
from queuekit.web import audit

pytestmark = pytest.mark.timeout(60)


def test_every_action_is_audited_with_who_what_when_and_the_result(site):
    # Given a failed job
    job = site.queue.add("email")
    Worker(site.queue, {"email": lambda job: 1 / 0}).drain()
    headers = {"X-Queuekit-User": "alice"}

    # When actions are taken through the API
    created = site.http.post(site.q("/job"), json={"type": "sms"}, headers=headers).json()["id"]
    site.http.post(site.q(f"/job/{job.id}/retry"), headers=headers)
    site.http.put(site.q("/pause"))
    site.http.delete(site.q(f"/job/{created}"))
    site.http.get(site.q("/stats"))  # a read is no action
    site.http.delete(site.q("/job/999"))  # a refused action writes nothing, the audit log included

    # Then the audit log has each, newest first
    r = site.http.get(site.q("/audit"))
    assert r.status_code == 200
    entries = r.json()["entries"]
    assert [(e["action"], e["target"], e["result"]) for e in entries] == [
        ("remove", created, "removed"), ("pause", "test", "paused"), ("retry", int(job.id), "retried"),
        ("create", created, "job created")]
    assert entries[-1]["who"] == "127.0.0.1 (alice)" and entries[1]["who"] == "127.0.0.1"
    assert all(isinstance(e["at"], int) and e["at"] > 0 for e in entries)
    assert site.http.get(site.q("/audit"), params={"start": 1, "count": 2}).json()["entries"] == entries[1:3]


def test_the_audit_log_keeps_the_newest_entries_only(site, monkeypatch):
    monkeypatch.setattr(audit, "KEEP", 3)
    for _ in range(5):
        site.http.put(site.q("/pause"))
    assert site.queue.client.llen(site.queue.keys.audit) == 3


def _events(lines):
    """The JSON messages of a server-sent event stream."""
    for line in lines:
        if line.startswith("data: "):
            yield json.loads(line[len("data: "):])


def test_the_event_stream_tells_a_job_completed_and_sends_the_counts(site):
    received: list[dict] = []
    with site.http.stream("GET", site.q("/events")) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        lines = r.iter_lines()
        assert next(lines).startswith("retry:")  # once this arrives, the queue's events are listened to

        # When a worker runs a job
        job = site.queue.add("email", {"to": "a"})
        worker = Worker(site.queue, {"email": lambda job: "sent"}).start()
        try:
            for message in _events(lines):
                received.append(message)
                if message.get("event") == "job complete":
                    break
        finally:
            worker.stop(timeout=2)

    # Then the stream said so, with the job's id and result, after the counts
    done = received[-1]
    assert done == {"event": "job complete", "id": int(job.id), "args": ["sent"]}
    names = [m["event"] for m in received]
    assert "job enqueue" in names
    assert any(m["event"] == "counts" and set(m["counts"]) >= {"inactive", "complete"} for m in received)


def test_counts_are_read_once_a_second_per_queue_however_many_clients_listen(site, monkeypatch):
    calls: list[float] = []
    real = type(site.queue).counts

    def counting(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(site.queue), "counts", counting)
    streams = [site.http.stream("GET", site.q("/events")) for _ in range(3)]
    readers = []
    try:
        for s in streams:
            readers.append(s.__enter__().iter_lines())
        for lines in readers:  # each client gets two counts messages...
            got = 0
            for message in _events(lines):
                got += message["event"] == "counts"
                if got == 2:
                    break
    finally:
        for s in streams:
            s.__exit__(None, None, None)
    # ...from one ticker: about one call a second, never one per client per second
    assert 2 <= len(calls) <= 5


def test_the_last_client_leaving_stops_the_listening(site):
    hub = site.queue.events  # the process's hub of the queue, which the app's feed listens on
    with site.http.stream("GET", site.q("/events")) as r:
        next(r.iter_lines())
        assert any(hub._queue.get(e) for e in list(hub._queue))

    wait_until(lambda: not any(hub._queue.get(e) for e in list(hub._queue)), message="listeners removed")
