"""The ceiling: bare redis-py, no queue semantics at all.

enqueue: one LPUSH round trip per job; and the same on one kept connection with the reply awaited by polling
the socket (the "poll" variant, redis-py[poll]: how ``Queue(poll_replies=True)`` waits, see queuekit/polling.py,
written out here rather than borrowed so that the ceiling stays bare redis-py); enqueue_bulk: the same LPUSHes pipelined 1,000
per round trip (transaction=False); drain c=1: one BRPOP round trip per job in a worker process;
latency: BRPOP worker; memory: a JSON string per job in one list.
"""
from __future__ import annotations

import json
import select
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
    enqueue_variants = ("", "poll")

    def row_system(self, variant=""):
        return f"redis-py[{variant}]" if variant else self.name

    def describe(self, workload, concurrency, variant=""):
        if workload == "enqueue" and variant == "poll":
            return "LPUSH, 1 round trip per call, reply awaited by polling"
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

    def enqueue_variant(self, n, variant):
        if variant != "poll":
            return super().enqueue_variant(n, variant)
        dumps = json.dumps
        conn = self.client.connection_pool.make_connection()
        conn.connect()
        poller = select.poll()
        poller.register(conn._sock, select.POLLIN)
        poll = poller.poll

        def go():
            for i in range(n):
                conn.send_command("LPUSH", KEY, dumps(payload(i)))
                while not poll(0):  # the reply of a local server comes within microseconds: never sleep for it
                    pass
                conn.read_response()
        try:
            return timed(go)
        finally:
            conn.disconnect()

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
