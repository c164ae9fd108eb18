"""Notebook display of the library's objects: rich HTML for queues, jobs and workers (their ``_repr_html_``) and a
live view of a queue updated in the foreground (``Queue.watch``).

Nothing here prints, and nothing runs on a background thread: ``watch`` refreshes one display in place from the
cell that called it, so its output can never land in the wrong cell. Nothing here imports queue, job or worker at
run time (they import this module to show themselves). The course's tables and plots are ``queuekit.learn.views``.
"""

from __future__ import annotations

import html
import time
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .job import Job
    from .queue import Queue
    from .worker import Worker

__all__ = ["job_html", "queue_html", "watch", "worker_html"]

#: the course's views that lived here until issue 20, now in queuekit.learn.views (still found here, deprecated)
_MOVED = frozenset({"Table", "Cell", "results_table", "timeline", "throughput"})

_COLORS = {"inactive": "#6c757d", "active": "#0d6efd", "delayed": "#fd7e14", "complete": "#198754",
           "failed": "#dc3545"}
_TABLE = "border-collapse:collapse;font-family:sans-serif;font-size:13px"
_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left"


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _bar(percent: int, color: str = "#0d6efd") -> str:
    percent = max(0, min(100, int(percent)))
    return (f'<div style="width:120px;background:#e9ecef;border-radius:3px;display:inline-block">'
            f'<div style="width:{percent}%;background:{color};height:10px;border-radius:3px"></div></div> '
            f"{percent}%")


def _badge(state: Any) -> str:
    name = str(state) if state is not None else "unsaved"
    return (f'<span style="background:{_COLORS.get(name, "#adb5bd")};color:white;padding:1px 6px;'
            f'border-radius:3px">{_esc(name)}</span>')


def queue_html(queue: Queue, active_jobs: int = 10) -> str:
    """The queue's counts per state, a warning naming the waiting job types no live worker serves, and the progress
    of its first active jobs."""
    counts = queue.counts()
    rows = "".join(f'<tr><td style="{_CELL}">{_badge(state)}</td><td style="{_CELL}">{n}</td></tr>'
                   for state, n in counts.items())
    active = queue.jobs("active", count=active_jobs) if counts["active"] else []
    jobs = "".join(f'<tr><td style="{_CELL}">#{_esc(j.id)}</td><td style="{_CELL}">{_esc(j.type)}</td>'
                   f'<td style="{_CELL}">{_bar(j.percent)}</td></tr>' for j in active)
    paused = " (paused)" if queue.paused else ""
    return (f'<div><b>Queue {_esc(queue.name)}</b>{paused}{_unserved_html(queue.unserved())}'
            f'<table style="{_TABLE}">{rows}</table>'
            + (f'<table style="{_TABLE}"><tr><th style="{_CELL}">active job</th><th style="{_CELL}">type</th>'
               f'<th style="{_CELL}">progress</th></tr>{jobs}</table>' if jobs else "") + "</div>")


def _unserved_html(unserved: dict[str, int]) -> str:
    """A warning naming the job types that have jobs waiting and no live worker to run them ("" if none)."""
    if not unserved:
        return ""
    types = ", ".join(f"{_esc(t)} ({n} waiting)" for t, n in unserved.items())
    return f'<div style="color:{_COLORS["failed"]}">no live worker serves: {types}</div>'


def job_html(job: Job) -> str:
    """A job's id, type, state, progress bar, attempts and last error."""
    rows = [("id", _esc(job.id if job.id is not None else "(unsaved)")), ("type", _esc(job.type)),
            ("state", _badge(job.state)),
            ("progress", _bar(job.percent, _COLORS.get(str(job.state), "#0d6efd"))),
            ("attempts", f"{job.attempts_made} made, {job.failures} failed of {job.opts.attempts} allowed"
                         + (f", {job.stalls} stalled" if job.stalls else ""))]
    if job.error:
        rows.append(("last error", f'<span style="color:#dc3545">{_esc(job.error)}</span>'))
    if job.result is not None:
        rows.append(("result", f"<code>{_esc(job.result)}</code>"))
    body = "".join(f'<tr><th style="{_CELL}">{k}</th><td style="{_CELL}">{v}</td></tr>' for k, v in rows)
    return f'<table style="{_TABLE}">{body}</table>'


def worker_html(worker: Worker) -> str:
    """A worker's id, state, job types, concurrency and counters."""
    state = "running" if worker.running else "stopped"
    rows = [("worker", _esc(worker.id)), ("state", state), ("queue", _esc(worker.queue.name)),
            ("types", _esc(", ".join(sorted(worker.handlers)))), ("concurrency", str(worker.concurrency)),
            ("running jobs", str(len(worker._running)))]
    rows += [(k, str(v)) for k, v in worker.stats.items()]
    body = "".join(f'<tr><th style="{_CELL}">{k}</th><td style="{_CELL}">{v}</td></tr>' for k, v in rows)
    return f'<table style="{_TABLE}">{body}</table>'


def watch(queue: Queue, interval: float = 0.5, duration: float | None = None,
          until_idle: bool = True) -> dict[str, int]:
    """Show the queue's counts, the waiting job types no live worker serves and the active jobs' progress, refreshed
    in place every ``interval`` seconds.

    Stops after ``duration`` seconds, or (``until_idle``) once nothing is waiting, delayed or running. Returns the
    last counts. Outside a notebook it simply waits and returns the counts.
    """
    shown = _ipython_display()
    handle = shown.display(shown.HTML(queue_html(queue)), display_id=True) if shown is not None else None
    start = time.monotonic()
    while True:
        counts = queue.counts()
        if handle is not None:
            handle.update(shown.HTML(queue_html(queue)))
        busy = counts["inactive"] + counts["active"] + counts["delayed"]
        if (until_idle and busy == 0) or (duration is not None and time.monotonic() - start >= duration):
            return counts
        time.sleep(interval)



def _ipython_display() -> Any:
    """The module ``IPython.display`` (untyped, hence Any), or None outside IPython."""
    try:
        import IPython.display
    except ImportError:  # pragma: no cover - IPython ships with the notebooks extra
        return None
    return IPython.display

def __getattr__(name: str) -> Any:
    """``queuekit.display.results_table`` (and Table, Cell, timeline, throughput) still work, with a
    DeprecationWarning: they are course material, now in ``queuekit.learn.views``."""
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(f"queuekit.display.{name} moved to queuekit.learn.views; import it from there",
                  DeprecationWarning, stacklevel=2)
    from .learn import views

    return getattr(views, name)
