"""queuekit: Queue.add per job, Queue.add_bulk, Worker(queue, {"noop": fn}, concurrency=C).run().

Enqueue runs twice: with the default Queue, which blocks for each reply (system "queuekit"), and with
``Queue(poll_replies=True)``, which polls its socket for the replies of a burst of adds (system
"queuekit[poll]": lower latency per add for more of the producer's CPU; see queuekit/polling.py).
Drain and latency run twice: a sync handler (system "queuekit") and an ``async def`` handler
(system "queuekit[async]"). Drain lets the worker hold as many claimed jobs as it runs
(prefetch=C, an option that is off by default); latency uses the defaults (an idle worker has
nothing to prefetch).
"""
from __future__ import annotations

from bench.common import paced, payload
from bench.systems.base import Adapter, timed

QUEUE = "bench"
TYPE = "noop"


class Queuekit(Adapter):
    name = "queuekit"
    kind = "queuekit"
    dist = "queuekit"
    has_bulk = True
    drain_variants = ("sync", "async")
    latency_variants = ("sync", "async")
    enqueue_variants = ("", "poll")

    def unavailable(self):
        try:
            from queuekit import Queue, Worker  # noqa: F401
        except Exception as e:  # noqa: BLE001
            return f"queuekit core not importable yet ({type(e).__name__}: {e})"
        return None

    def row_system(self, variant=""):
        return f"queuekit[{variant}]" if variant in ("async", "poll") else "queuekit"

    def describe(self, workload, concurrency, variant=""):
        if workload in ("drain", "latency"):
            kind = "async def" if variant == "async" else "def"
            prefetch = f", prefetch={concurrency}" if workload == "drain" else ""
            return f"Worker(concurrency={concurrency}{prefetch}), {kind} handler"
        if workload == "enqueue" and variant == "poll":
            return "Queue(poll_replies=True).add"
        return {"enqueue": "Queue.add", "enqueue_bulk": "Queue.add_bulk (all jobs in one call)"}.get(workload, "")

    def _queue(self, poll_replies=False):
        from queuekit import Queue
        return Queue(QUEUE, url=self.url, poll_replies=poll_replies)

    def enqueue(self, n):
        return self._enqueue(n, self._queue())

    def enqueue_variant(self, n, variant):
        if variant != "poll":
            return super().enqueue_variant(n, variant)
        return self._enqueue(n, self._queue(poll_replies=True))

    def _enqueue(self, n, q):
        add = q.add

        def go():
            for i in range(n):
                add(TYPE, payload(i))
        return timed(go)

    def enqueue_bulk(self, n):
        q = self._queue()

        def go():
            q.add_bulk([(TYPE, payload(i)) for i in range(n)])
        return timed(go)

    def produce_paced(self, m, rate):
        q = self._queue()
        paced(m, rate, lambda i: q.add(TYPE, payload(i)))


ADAPTER = Queuekit


def worker_main(mode, concurrency, variant):
    from queuekit import Queue, Worker

    from bench.probe import get_probe
    probe = get_probe()
    q = Queue(QUEUE, url=probe.url)
    hit = probe.hit

    if variant == "async":
        async def handler(job):
            hit(job.data["t"])
    else:
        def handler(job):
            hit(job.data["t"])

    # prefetch (off by default) lets the worker hold as many claimed jobs as it runs: fewer round trips per job
    # when draining; an idle worker waiting for the next job (latency) has nothing to hold
    w = Worker(q, {TYPE: handler}, concurrency=concurrency, prefetch=concurrency if mode == "drain" else 0)
    probe.ready()
    w.run()
