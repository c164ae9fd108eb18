"""RQ: Queue.enqueue / Queue.enqueue_many; SimpleWorker (c=1) and WorkerPool of SimpleWorkers (c=10).

RQ has no in-process concurrency: "c=10" is a WorkerPool of 10 SimpleWorker processes
(counted with one INCR per job across the pool). The default Worker forks a process per
job (~65 jobs/s here); SimpleWorker runs jobs in the worker process, which is the fair
choice for a no-op benchmark.
"""
from __future__ import annotations

import redis

from bench.common import paced, payload
from bench.systems.base import Adapter, timed

QUEUE = "bench"


def noop(i, t):
    from bench.probe import get_probe
    get_probe().hit(t)


def noop_shared(i, t):
    from bench.probe import get_probe
    get_probe().hit_shared(t)


class RQ(Adapter):
    name = "rq"
    dist = "rq"
    has_bulk = True
    drain_caps = {1: 4000, 10: 10000}

    def describe(self, workload, concurrency, variant=""):
        if workload == "drain" and concurrency > 1:
            return f"WorkerPool({concurrency} SimpleWorker processes)"
        if workload in ("drain", "latency"):
            return "SimpleWorker"
        if workload == "enqueue_bulk":
            return "enqueue_many (all jobs in one pipeline)"
        return "Queue.enqueue"

    def _queue(self):
        from rq import Queue
        return Queue(QUEUE, connection=self.client)

    def _func(self, shared=False):
        return noop_shared if shared else noop

    def enqueue(self, n):
        q = self._queue()

        def go():
            for i in range(n):
                p = payload(i)
                q.enqueue(noop, p["i"], p["t"])
        return timed(go)

    def enqueue_bulk(self, n, func=noop):
        from rq import Queue
        q = self._queue()

        def go():
            datas = []
            for i in range(n):
                p = payload(i)
                datas.append(Queue.prepare_data(func, args=(p["i"], p["t"])))
            q.enqueue_many(datas)
        return timed(go)

    def fill_for(self, n, concurrency):
        self.enqueue_bulk(n, noop_shared if concurrency > 1 else noop)

    def produce_paced(self, m, rate):
        q = self._queue()

        def send(i):
            p = payload(i)
            q.enqueue(noop, p["i"], p["t"])
        paced(m, rate, send)


ADAPTER = RQ


def worker_main(mode, concurrency, variant):
    from rq import Queue, SimpleWorker

    from bench.probe import get_probe
    probe = get_probe()
    conn = redis.Redis.from_url(probe.url)
    if concurrency == 1:
        w = SimpleWorker([Queue(QUEUE, connection=conn)], connection=conn)
        probe.ready()
        w.work(logging_level="WARNING")
    else:
        from rq.worker_pool import WorkerPool
        pool = WorkerPool([QUEUE], connection=conn, num_workers=concurrency, worker_class=SimpleWorker)
        probe.ready()
        pool.start(logging_level="WARNING")
