"""Handlers for the multi-process drain on the cluster, loaded by the real CLI:
``queuekit --url redis+cluster://... worker cluster_handlers:handlers --queue <name>``.

Each run counts itself with ``HINCRBY $QK_RUNS_KEY <job id> 1`` (a key outside the queue's own) so the test
can prove each job's handler completed exactly once.
"""

from __future__ import annotations

import os
from typing import Any

from queuekit import connect

_client: Any = None


def record(job: Any) -> int:
    global _client
    if _client is None:
        _client = connect(os.environ["QK_CLUSTER_URL"])
    _client.hincrby(os.environ["QK_RUNS_KEY"], job.id, 1)
    return os.getpid()


handlers = {"record": record}
