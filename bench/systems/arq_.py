"""arq: ArqRedis.enqueue_job per job (asyncio); Worker(max_jobs=C, poll_delay=0.01).

arq polls a sorted set; with its default poll_delay (0.5 s) and max_jobs=1 it processes
~2 jobs/s, so the harness uses poll_delay=0.01 (the tuned variant of the performance guide).
arq has no bulk enqueue API. Latency is measured with max_jobs=10 (at max_jobs=1 arq
starts one job per poll, slower than the 100 jobs/s arrival rate).
"""
from __future__ import annotations

import asyncio

from bench.common import payload, url_parts
from bench.systems.base import Adapter

POLL_DELAY = 0.01


async def noop(ctx, i, t):
    from bench.probe import get_probe
    get_probe().hit(t)


def settings(url):
    from arq.connections import RedisSettings
    p = url_parts(url)
    return RedisSettings(host=p["host"], port=p["port"], database=p["db"], password=p["password"])


class Arq(Adapter):
    name = "arq"
    dist = "arq"
    drain_caps = {1: 2000}
    latency_concurrency = 10

    def describe(self, workload, concurrency, variant=""):
        if workload in ("drain", "latency"):
            return f"Worker(max_jobs={concurrency}, poll_delay={POLL_DELAY})"
        return "enqueue_job"

    def enqueue(self, n):
        from arq import create_pool

        async def go():
            pool = await create_pool(settings(self.url))
            try:
                t0 = asyncio.get_running_loop().time()
                for i in range(n):
                    p = payload(i)
                    await pool.enqueue_job("noop", p["i"], p["t"])
                return asyncio.get_running_loop().time() - t0
            finally:
                await pool.aclose()
        return asyncio.run(go())

    def fill(self, n):
        from arq import create_pool

        async def go():
            pool = await create_pool(settings(self.url))
            try:
                for s in range(0, n, 100):
                    await asyncio.gather(*(pool.enqueue_job("noop", i, payload(i)["t"])
                                           for i in range(s, min(n, s + 100))))
            finally:
                await pool.aclose()
        asyncio.run(go())

    def produce_paced(self, m, rate):
        from arq import create_pool

        async def go():
            pool = await create_pool(settings(self.url))
            loop = asyncio.get_running_loop()
            start = loop.time()
            try:
                for i in range(m):
                    delay = start + i / rate - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    p = payload(i)
                    await pool.enqueue_job("noop", p["i"], p["t"])
            finally:
                await pool.aclose()
        asyncio.run(go())


ADAPTER = Arq


def worker_main(mode, concurrency, variant):
    from arq.worker import Worker

    from bench.probe import get_probe
    probe = get_probe()
    w = Worker(functions=[noop], redis_settings=settings(probe.url), max_jobs=concurrency,
               poll_delay=POLL_DELAY)
    probe.ready()
    w.run()
