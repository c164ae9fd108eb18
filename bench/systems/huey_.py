"""Huey: RedisHuey, task() call per enqueue, consumer with thread workers.

Huey has no bulk enqueue API (so no enqueue_bulk row); its consumer runs C worker threads
(worker_type="thread"), periodic tasks off. Results are on (library default; a None result
is not stored).
"""
from __future__ import annotations

import os

from bench.common import paced, payload, url_parts
from bench.systems.base import Adapter, timed

_huey = None
_task = None


def get_huey(url=None):
    global _huey, _task
    if _huey is None:
        from huey import RedisHuey
        p = url_parts(url or os.environ["BENCH_URL"])
        _huey = RedisHuey("bench", host=p["host"], port=p["port"], db=p["db"], password=p["password"])

        @_huey.task()
        def noop(i, t):
            from bench.probe import get_probe
            get_probe().hit(t)
        _task = noop
    return _huey, _task


class Huey(Adapter):
    name = "huey"
    dist = "huey"

    def describe(self, workload, concurrency, variant=""):
        if workload in ("drain", "latency"):
            return f"RedisHuey, consumer {concurrency} thread worker(s)"
        return "RedisHuey"

    def enqueue(self, n):
        _, task = get_huey(self.url)

        def go():
            for i in range(n):
                p = payload(i)
                task(p["i"], p["t"])
        return timed(go)

    def produce_paced(self, m, rate):
        _, task = get_huey(self.url)

        def send(i):
            p = payload(i)
            task(p["i"], p["t"])
        paced(m, rate, send)


ADAPTER = Huey


def worker_main(mode, concurrency, variant):
    import logging
    logging.basicConfig(level=logging.WARNING)
    from bench.probe import get_probe
    probe = get_probe()
    huey, _ = get_huey(probe.url)
    consumer = huey.create_consumer(workers=concurrency, worker_type="thread", periodic=False)
    probe.ready()
    consumer.run()
