"""The dashboard's /metrics and a queue's /history, over real HTTP on both backends."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from queuekit import Worker


def _run(site) -> None:
    site.queue.add_bulk([("mail", {"n": n}) for n in range(5)])
    site.queue.add("mail", {"fail": True})
    Worker(site.queue, {"mail": lambda job: (_ for _ in ()).throw(ValueError("no")) if job.data.get("fail")
                        else "sent"}).drain()


def test_metrics_are_served_in_prometheus_format_and_match_the_counts(site):
    # Given five jobs completed and one failed
    _run(site)

    # When /metrics is scraped
    response = site.http.get("/metrics")

    # Then it is Prometheus's text format, and its counts are the queue's
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {(s.name, s.labels.get("state", "")): s.value
               for family in text_string_to_metric_families(response.text) for s in family.samples
               if s.labels.get("queue") == site.queue.name and s.labels.get("type") == "mail"}
    counts = site.queue.counts(type="mail")
    assert samples[("queuekit_jobs", "complete")] == counts["complete"] == 5
    assert samples[("queuekit_jobs", "failed")] == counts["failed"] == 1
    assert samples[("queuekit_jobs_completed_total", "")] == 5
    assert samples[("queuekit_jobs_failed_total", "")] == 1


def test_history_gives_the_recent_buckets_and_refuses_a_bad_span(site):
    _run(site)

    buckets = site.http.get(site.q("/history"), params={"span": "minute", "count": 3}).json()
    assert len(buckets) == 3 and buckets[0]["at"] < buckets[-1]["at"]
    assert sum(b["completed"] for b in buckets) == 5 and sum(b["failed"] for b in buckets) == 1

    refused = site.http.get(site.q("/history"), params={"span": "year"})
    assert refused.status_code == 400 and refused.json()["error"].startswith("span")
    refused = site.http.get(site.q("/history"), params={"count": "0"})
    assert refused.status_code == 400 and "count" in refused.json()["error"]
