"""Handlers for the soak run, loaded by the real CLI: ``queuekit worker soak_handlers:handlers --queue soak``."""

from __future__ import annotations

from typing import Any


async def echo(job: Any) -> dict[str, Any]:
    """A small result, so retention has something to drop."""
    return {"i": job.data.get("i"), "ok": True}


handlers = {"echo": echo}
