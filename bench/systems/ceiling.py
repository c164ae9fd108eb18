"""The ceiling: bare redis-py, no queue semantics at all.

enqueue: one LPUSH round trip per job; enqueue_bulk: the same LPUSHes pipelined 1,000 per
round trip (transaction=False); drain c=1: one BRPOP round trip per job in a worker process;
latency: BRPOP worker; memory: a JSON string per job in one list.
"""
from __future__ import annotations

import json
import time

import redis

from bench.common import paced, payload
from bench.systems.base import Adapter, timed

KEY = "ceiling:list"


class Ceiling(Adapter):
    name = "redis-py"
    kind = "ceiling"
    dist = "redis"
    has_bulk = True
    drain_concurrencies = (1,)

    def describe(self, workload, concurrency, variant=""):
        return {
            "enqueue": "LPUSH, 1 round trip per call",
            "enqueue_bulk": "LPUSH pipelined, 1000 per round trip",
            "drain": "BRPOP + json.loads, 1 round trip per job",
            "latency": "BRPOP worker",
            "memory": "JSON string in a list",
        }.get(workload, "")

    def enqueue(self, n):
        r, dumps = self.client, json.dumps

        def go():
            for i in range(n):
                r.lpush(KEY, dumps(payload(i)))
        return timed(go)

    def enqueue_bulk(self, n):
        r, dumps = self.client, json.dumps

        def go():
            pipe = r.pipeline(transaction=False)
            for i in range(n):
                pipe.lpush(KEY, dumps(payload(i)))
                if len(pipe) >= 1000:
                    pipe.execute()
            pipe.execute()
        return timed(go)

    def produce_paced(self, m, rate):
        r, dumps = self.client, json.dumps
        paced(m, rate, lambda i: r.lpush(KEY, dumps(payload(i))))


ADAPTER = Ceiling


def worker_main(mode, concurrency, variant):
    from bench.probe import get_probe
    probe = get_probe()
    r = redis.Redis.from_url(probe.url)
    probe.ready()
    loads = json.loads
    while not probe.done:
        item = r.brpop(KEY, timeout=1)
        if item is None:
            continue
        data = loads(item[1])
        probe.hit(data["t"])
    time.sleep(0.1)
