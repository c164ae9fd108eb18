"""A queue's recent history, per minute for a day and per hour for a week: how many jobs completed, failed and were
retried, and how long their attempts ran. Written by the scripts that finish jobs (see ``tally`` in
``lua/_lib.lua``), in the calls the workers already make; each bucket expires by itself, so the history stays
bounded without anyone cleaning it.
"""

from __future__ import annotations

from typing import Any

from .errors import ValidationError
from .job import now_ms
from .queue import Queue

__all__ = ["SPANS", "FIELDS", "history"]

#: span -> (its length in ms, how many of them are kept)
SPANS = {"minute": (60_000, 24 * 60), "hour": (3_600_000, 7 * 24)}
#: what each bucket counts
FIELDS = ("completed", "failed", "retried", "runs", "run_ms")


def history(queue: Queue, span: str = "minute", count: int = 60) -> list[dict[str, Any]]:
    """The last ``count`` buckets of ``span`` ("minute" or "hour"), oldest first, the current one last: each
    ``{"at": <bucket start, ms>, "completed", "failed", "retried", "runs", "run_ms"}`` (0 where nothing happened).
    At most a day of minutes and a week of hours are kept. One round trip."""
    if span not in SPANS:
        raise ValidationError("span", f"expected 'minute' or 'hour', got {span!r}")
    length, kept = SPANS[span]
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= kept:
        raise ValidationError("count", f"expected an integer from 1 to {kept}, got {count!r}")
    key = queue.keys.minute if span == "minute" else queue.keys.hour
    last = now_ms() // length
    numbers = range(last - count + 1, last + 1)
    pipe = queue.client.pipeline(transaction=False)
    for number in numbers:
        pipe.hgetall(key(str(number)))
    buckets = []
    for number, raw in zip(numbers, pipe.execute()):
        bucket: dict[str, Any] = {"at": number * length}
        bucket.update({field: int(raw.get(field, 0)) for field in FIELDS})
        buckets.append(bucket)
    return buckets
