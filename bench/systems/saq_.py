"""SAQ: Queue.enqueue per job (asyncio); Worker(queue, functions, concurrency=C), defaults.

SAQ has no bulk enqueue API (``map`` waits for results).
"""
from __future__ import annotations

import asyncio

from bench.common import payload
from bench.systems.base import Adapter

QUEUE = "bench"


async def noop(ctx, *, i, t):
    from bench.probe import get_probe
    get_probe().hit(t)


def make_queue(url):
    from saq import Queue
    return Queue.from_url(url, name=QUEUE)


class Saq(Adapter):
    name = "saq"
    dist = "saq"
    drain_caps = {1: 10000}

    def describe(self, workload, concurrency, variant=""):
        if workload in ("drain", "latency"):
            return f"Worker(concurrency={concurrency})"
        return "Queue.enqueue"

    def _run(self, body):
        async def go():
            q = make_queue(self.url)
            await q.connect()
            try:
                return await body(q)
            finally:
                await q.disconnect()
        return asyncio.run(go())

    def enqueue(self, n):
        async def body(q):
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            for i in range(n):
                p = payload(i)
                await q.enqueue("noop", i=p["i"], t=p["t"])
            return loop.time() - t0
        return self._run(body)

    def fill(self, n):
        async def body(q):
            for s in range(0, n, 100):
                await asyncio.gather(*(q.enqueue("noop", i=i, t=payload(i)["t"])
                                       for i in range(s, min(n, s + 100))))
        self._run(body)

    def produce_paced(self, m, rate):
        async def body(q):
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i in range(m):
                delay = start + i / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                p = payload(i)
                await q.enqueue("noop", i=p["i"], t=p["t"])
        self._run(body)


ADAPTER = Saq


def worker_main(mode, concurrency, variant):
    import signal

    from saq import Worker

    from bench.probe import get_probe
    probe = get_probe()

    async def go():
        q = make_queue(probe.url)
        await q.connect()
        w = Worker(q, functions=[noop], concurrency=concurrency)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(w.stop()))
        probe.ready()
        await w.start()
    asyncio.run(go())
