"""The common adapter interface."""
from __future__ import annotations

import importlib.metadata
import importlib.util
import time

import redis

from bench.common import DBS, db_url, python_worker_argv


class Unsupported(Exception):
    """The system has no API for this workload (e.g. no bulk enqueue)."""


class Adapter:
    name = "?"
    kind = "python"            # "python", "node" or "ceiling"
    dist = None                # distribution name for the version / availability check
    has_bulk = False
    drain_concurrencies = (1, 10)
    drain_caps: dict = {}      # concurrency -> max jobs for drain (slow configurations)
    drain_variants = ("",)     # e.g. ("sync", "async") for queuekit
    latency_concurrency = 1
    latency_variants = ("",)
    enqueue_variants = ("",)   # e.g. ("", "poll") for the ceiling

    def __init__(self, base_url: str):
        self.db = DBS[self.name]
        self.url = db_url(base_url, self.db)
        self.client = redis.Redis.from_url(self.url)

    # --- discovery -------------------------------------------------------------------
    def unavailable(self) -> str | None:
        """None if the system can run here, else a reason."""
        if self.dist and importlib.util.find_spec(self.dist) is None:
            return f"python package '{self.dist}' not installed (pip install -e '.[bench]')"
        return None

    def version(self) -> str:
        try:
            return importlib.metadata.version(self.dist) if self.dist else ""
        except importlib.metadata.PackageNotFoundError:
            return "?"

    def describe(self, workload: str, concurrency, variant: str = "") -> str:
        """Settings used, shown in the table/JSON."""
        return variant

    def row_system(self, variant: str = "") -> str:
        return self.name

    # --- workloads -------------------------------------------------------------------
    def flush(self) -> None:
        self.client.flushdb()

    def enqueue(self, n: int) -> float:
        """Enqueue n jobs one call at a time; return elapsed seconds."""
        raise Unsupported

    def enqueue_variant(self, n: int, variant: str) -> float:
        """Enqueue n jobs one call at a time in one of ``enqueue_variants``; return elapsed seconds."""
        if variant:
            raise Unsupported
        return self.enqueue(n)

    def enqueue_bulk(self, n: int) -> float:
        """Enqueue n jobs through the bulk API; return elapsed seconds."""
        raise Unsupported

    def fill(self, n: int) -> None:
        """Enqueue n waiting jobs, untimed (bulk API where there is one)."""
        if self.has_bulk:
            self.enqueue_bulk(n)
        else:
            self.enqueue(n)

    def fill_for(self, n: int, concurrency: int) -> None:
        """Pre-enqueue n jobs for a drain at this concurrency."""
        self.fill(n)

    def produce_paced(self, m: int, rate: float) -> None:
        raise Unsupported

    def worker_argv(self, mode: str, concurrency: int, variant: str = "") -> list:
        return python_worker_argv(self.name, mode, concurrency, variant)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0
