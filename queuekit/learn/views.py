"""The course's notebook views: a table of grading results, and plots of what a queue did (a job timeline,
throughput). Course material built on the public API only (a Queue's ``jobs`` and ``counts``, a Job's fields);
the library's own notebook display (``_repr_html_``, ``Queue.watch``) is ``queuekit.display``.

Nothing here prints. matplotlib is imported only inside the plotting functions, so importing this module never
needs it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

    from queuekit import Job

    from .results import ExerciseResult

__all__ = ["Cell", "Table", "results_table", "throughput", "timeline"]

#: a job state's colour, as in the library's notebook display
_COLORS = {"inactive": "#6c757d", "active": "#0d6efd", "delayed": "#fd7e14", "complete": "#198754",
           "failed": "#dc3545"}
_STATUS_COLORS = {"pass": "#198754", "fail": "#dc3545", "error": "#dc3545", "skip": "#6c757d"}
_TABLE = "border-collapse:collapse;font-family:sans-serif;font-size:13px"
_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left"


def _esc(value: Any) -> str:
    return html.escape(str(value))


# ---- tables ------------------------------------------------------------------------------------------------------

class Table:
    """A small table that shows as HTML in a notebook and as aligned text elsewhere (no pandas needed).

    ``rows`` are sequences of cells; a cell may be a :class:`Cell` to carry a colour in HTML.
    """

    def __init__(self, columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "") -> None:
        self.columns = list(columns)
        self.rows = [list(r) for r in rows]
        self.title = title

    def __len__(self) -> int:
        return len(self.rows)

    def _repr_html_(self) -> str:
        head = "".join(f'<th style="{_CELL}">{_esc(c)}</th>' for c in self.columns)
        body = "".join("<tr>" + "".join(f'<td style="{_CELL};vertical-align:top">{_cell_html(v)}</td>' for v in row)
                       + "</tr>" for row in self.rows)
        title = f"<b>{_esc(self.title)}</b>" if self.title else ""
        return f'<div>{title}<table style="{_TABLE}"><tr>{head}</tr>{body}</table></div>'

    def __repr__(self) -> str:
        cells = [self.columns] + [[str(v) for v in row] for row in self.rows]
        widths = [min(60, max(len(line) for r in cells for line in (r[i].splitlines() or [""])))
                  for i in range(len(self.columns))]
        lines = [self.title] if self.title else []
        for n, row in enumerate(cells):
            first = [str(v).splitlines()[0] if str(v) else "" for v in row]
            lines.append("  ".join(v[:w].ljust(w) for v, w in zip(first, widths)).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


class Cell(str):
    """A table cell with a colour (a ``str``, so the text form stays plain)."""

    color: str = ""

    def __new__(cls, text: Any, color: str = "") -> Self:
        obj = super().__new__(cls, str(text))
        obj.color = color
        return obj


def _cell_html(value: Any) -> str:
    text = _esc(value)
    if "\n" in str(value):
        text = f'<pre style="margin:0;white-space:pre-wrap;max-width:60em">{text}</pre>'
    color = getattr(value, "color", "")
    return f'<span style="color:{color};font-weight:bold">{text}</span>' if color else text


def results_table(result: ExerciseResult, *, with_code: bool = False) -> Table:
    """A table of one graded exercise: one row per test (name, status, message).

    ``result`` is what ``queuekit.learn.check(name)`` returns (an ``ExerciseResult``). Only the first failing test
    shows its full message, as the runner does; ``with_code`` adds the test's code.
    """
    first = getattr(result, "first_failure", None)
    rows = []
    for test in result.tests:
        message = test.message or ""
        if test is not first and message:
            message = message.splitlines()[0][:120]
        row = [test.name, Cell(test.status, _STATUS_COLORS.get(test.status, "")), message]
        if with_code:
            row.append(test.test_code or "")
        rows.append(row)
    if not rows and result.message:
        rows.append(["(grader)", Cell(result.status, _STATUS_COLORS.get(result.status, "")), result.message])
    columns = ["test", "status", "message"] + (["test code"] if with_code else [])
    passed = sum(1 for t in result.tests if t.status == "pass")
    title = f"{result.name}: {result.status} ({passed}/{len(result.tests)} tests pass)"
    return Table(columns, rows, title)


# ---- plots -------------------------------------------------------------------------------------------------------

def _finished_jobs(source: Any, limit: int = 1000) -> list[Job]:
    """The jobs to plot: a list of Jobs as given, or a Queue's complete and failed jobs (newest ``limit``)."""
    if hasattr(source, "jobs") and callable(source.jobs) and hasattr(source, "counts"):
        jobs = source.jobs("complete", count=limit, desc=True) + source.jobs("failed", count=limit, desc=True)
    else:
        jobs = list(source)
    return [j for j in jobs if j.started_at and j.finished_at]


def _creation_order(job: Job) -> tuple[int, int]:
    """Sort key of the timeline: creation time, then the counter id (a custom id counts as 0)."""
    job_id = str(job.id or "")
    return job.created_at or job.started_at or 0, int(job_id) if job_id.isdigit() else 0


def timeline(source: Any, *, ax: Any = None, limit: int = 200, title: str = "Job timeline") -> Any:
    """Draw one line per job: waiting (thin, grey) from creation to its last start, running (thick, coloured by
    final state) from start to finish. Times are seconds from the first job's creation.

    ``source`` is a Queue (its finished jobs) or a list of Jobs (refresh them first). Returns the matplotlib
    Figure (displayed by the notebook) or, when ``ax`` is given, draws on it and returns it.
    """
    jobs = sorted(_finished_jobs(source), key=_creation_order)[:limit]
    fig, ax = _axes(ax, height=min(8.0, 1.2 + 0.22 * max(1, len(jobs))))
    if not jobs:
        ax.set_title(f"{title}: no finished jobs yet")
        return _result(fig, ax)
    # the producer stamps created_at and the worker started_at: on a busy machine they may disagree by a few ms
    origin = min(min(j.created_at or j.started_at or 0, j.started_at or 0) for j in jobs)
    for row, job in enumerate(jobs):
        start = ((job.started_at or 0) - origin) / 1000
        end = ((job.finished_at or 0) - origin) / 1000
        created = min(start, ((job.created_at or job.started_at or 0) - origin) / 1000)
        color = _COLORS.get(str(job.state), "#adb5bd")
        ax.hlines(row, created, start, color="#adb5bd", linewidth=1)
        ax.hlines(row, start, max(end, start + 0.0005), color=color, linewidth=6)
    ax.set_yticks(range(len(jobs)))
    ax.set_yticklabels([f"#{j.id} {j.type}"[:32] for j in jobs], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the first job was created")
    ax.set_title(f"{title} (grey: waiting, colour: running; green complete, red failed)", fontsize=10)
    return _result(fig, ax)


def throughput(source: Any, *, bucket: float | None = None, ax: Any = None, title: str = "Throughput") -> Any:
    """Bar chart of jobs finished per second, in time buckets of ``bucket`` seconds (chosen from the span when
    None). ``source`` is a Queue or a list of Jobs. Returns the Figure (or ``ax`` when given)."""
    jobs = _finished_jobs(source, limit=100_000)
    fig, ax = _axes(ax, height=3.0)
    if not jobs:
        ax.set_title(f"{title}: no finished jobs yet")
        return _result(fig, ax)
    ends = sorted((j.finished_at or 0) for j in jobs)
    origin = min(j.started_at or 0 for j in jobs)
    span = max(0.001, (ends[-1] - origin) / 1000)
    size = bucket if bucket else max(0.01, span / 20)
    counts: dict[int, int] = {}
    for end in ends:
        slot = int(((end - origin) / 1000) // size)
        counts[slot] = counts.get(slot, 0) + 1
    slots = range(max(counts) + 1)
    ax.bar([i * size for i in slots], [counts.get(i, 0) / size for i in slots], width=size * 0.9, align="edge",
           color="#198754")
    ax.set_xlabel("seconds since the first job started")
    ax.set_ylabel("jobs finished per second")
    ax.set_title(f"{title}: {len(jobs)} jobs in {span:.2f} s = {len(jobs) / span:.0f} jobs/s", fontsize=10)
    return _result(fig, ax)


def _axes(ax: Any, height: float) -> tuple[Any, Any]:
    if ax is not None:
        return None, ax
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, height))
    return fig, ax


def _result(fig: Any, ax: Any) -> Any:
    if fig is None:
        return ax
    import matplotlib.pyplot as plt

    fig.tight_layout()
    plt.close(fig)  # returned, so the notebook shows it once (not again when the cell ends)
    return fig
