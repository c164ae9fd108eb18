"""The command line's logging set-up: text or one JSON object per line, and ``-v`` for queuekit's own DEBUG.

The library itself installs no handler (its modules only call ``logging.getLogger(__name__)``); only the
``queuekit`` command configures logging, here.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

__all__ = ["FIELDS", "JsonFormatter", "configure"]

#: the fields a log record of queuekit may carry (``extra=``), written as such by the JSON format
FIELDS = ("job_id", "job_type", "queue", "worker", "attempt", "duration_ms", "error")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (ISO 8601, UTC, ms), ``level``, ``logger``, ``message``, then the job's
    fields the record carries (:data:`FIELDS`) and ``traceback`` for a logged exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def configure(*, verbose: bool = False, fmt: str = "text", level: int = logging.INFO) -> None:
    """Log to stderr at ``level``; ``verbose`` turns on DEBUG for queuekit's loggers only (not redis-py's or
    asyncio's); ``fmt`` is "text" or "json"."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.set_name("queuekit-cli")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "queuekit-cli"]:  # ours only (main() may run twice)
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("queuekit").setLevel(logging.DEBUG if verbose else logging.NOTSET)
