"""Child-side instrumentation used inside every Python worker subprocess.

Environment (set by the harness): BENCH_URL (redis URL of the system's database),
BENCH_N (handler calls expected), BENCH_MODE ("drain" or "latency").

* ``probe.ready()`` just before the worker's run loop starts: records the start time and
  tells the harness (READY_KEY).
* ``probe.hit(t_enqueued)`` from the handler: counts in process memory (no Redis command per
  job); in latency mode records now - t_enqueued. On the N-th call it writes RESULT_KEY.
* ``probe.hit_shared(t_enqueued)`` for systems whose "one worker" is several processes
  (RQ's WorkerPool): one INCR per job on COUNT_KEY instead of the in-process counter.
"""
from __future__ import annotations

import json
import os
import threading
import time

import redis

from bench.common import COUNT_KEY, READY_KEY, RESULT_KEY


class Probe:
    def __init__(self) -> None:
        self.url = os.environ["BENCH_URL"]
        self.n = int(os.environ["BENCH_N"])
        self.mode = os.environ.get("BENCH_MODE", "drain")
        self.count = 0
        self.lat: list[float] = []
        self.start = None
        self.done = False
        self._lock = threading.Lock()
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = redis.Redis.from_url(self.url)
        return self._client

    def ready(self) -> None:
        self.start = time.time()
        self.client.set(READY_KEY, repr(self.start))

    def hit(self, t_enqueued=None) -> None:
        now = time.time()
        with self._lock:
            self.count += 1
            c = self.count
            if self.mode == "latency" and t_enqueued is not None:
                self.lat.append(now - float(t_enqueued))
        if c == self.n:
            self._finish(now)

    def hit_shared(self, t_enqueued=None) -> None:
        now = time.time()
        c = self.client.incr(COUNT_KEY)
        if c == self.n:
            start = float(self.client.get(READY_KEY))
            self.client.set(RESULT_KEY, json.dumps({"start": start, "end": now, "count": c}))

    def _finish(self, now: float) -> None:
        if self.done:
            return
        self.done = True
        self.client.set(RESULT_KEY, json.dumps(
            {"start": self.start, "end": now, "count": self.count, "lat": self.lat}))


_probe = None


def get_probe() -> Probe:
    global _probe
    if _probe is None:
        _probe = Probe()
    return _probe
