"""System adapters. Each module defines ``ADAPTER`` (an Adapter subclass) and, for Python
systems, ``worker_main(mode, concurrency, variant)`` run in the worker subprocess."""
from __future__ import annotations

import importlib

MODULES = {
    "redis-py": "bench.systems.ceiling",
    "queuekit": "bench.systems.queuekit_",
    "rq": "bench.systems.rq_",
    "arq": "bench.systems.arq_",
    "saq": "bench.systems.saq_",
    "huey": "bench.systems.huey_",
    "bullmq": "bench.systems.bullmq_",
    "bee-queue": "bench.systems.beequeue_",
}
ALL = list(MODULES)
PEERS = ["rq", "arq", "saq", "huey", "bullmq", "bee-queue"]


def load_module(name: str):
    return importlib.import_module(MODULES[name])


def adapter_class(name: str):
    return load_module(name).ADAPTER
