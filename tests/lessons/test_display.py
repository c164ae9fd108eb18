"""The notebook helpers of queuekit.display used by the lessons: the grading table and the plots."""

from __future__ import annotations

import sys

import pytest

from fixtures import wait_until
from queuekit import JobState, Queue
from queuekit.display import Cell, Table, queue_html, results_table, throughput, timeline, watch
from queuekit.learn.results import ExerciseResult
from queuekit.learn.results import TestResult as Outcome
from queuekit.testing import eager, fresh_server


def _result() -> ExerciseResult:
    return ExerciseResult("ex00_server", "fail", tests=[
        Outcome("test_ok", "pass"),
        Outcome("test_ping", "fail", message="ping() returned None\nexpected 'PONG'"),
        Outcome("test_seed", "fail", message="seed() is not written yet\nmore"),
    ])


def test_results_table_html_and_text() -> None:
    table = results_table(_result())
    assert len(table) == 3
    html = table._repr_html_()
    assert "ex00_server: fail (1/3 tests pass)" in html
    assert "expected &#x27;PONG&#x27;" in html            # the first failure keeps its whole message, escaped
    assert "more" not in html                             # later failures show their first line only
    text = repr(table)
    assert text.splitlines()[0] == "ex00_server: fail (1/3 tests pass)"
    assert "test_ping" in text and "fail" in text


def test_results_table_of_a_grader_error() -> None:
    table = results_table(ExerciseResult("ex01", "error", message="missing file(s): ex01.py"))
    assert "missing file(s): ex01.py" in table._repr_html_()


def test_table_escapes_and_colours() -> None:
    table = Table(["a"], [[Cell("<b>", "#198754")]], title="t")
    html = table._repr_html_()
    assert "&lt;b&gt;" in html and "#198754" in html
    assert repr(table).splitlines() == ["t", "a", "---", "<b>"]


@pytest.fixture
def finished_queue():
    with fresh_server():
        queue = Queue("display")

        def work(job):
            if job.data["n"] == 3:
                raise ValueError("boom")
            return job.data["n"]

        with eager(queue, {"work": work}):
            jobs = [queue.add("work", {"n": n}) for n in range(5)]
        yield queue, jobs


def test_timeline_and_throughput_draw_figures(finished_queue) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    queue, jobs = finished_queue
    assert [j.state for j in jobs].count(JobState.FAILED) == 1
    fig = timeline(queue)
    ax = fig.axes[0]
    assert len(ax.get_yticklabels()) == 5 and "#1 work" in ax.get_yticklabels()[0].get_text()
    fig = throughput(jobs)
    assert "5 jobs" in fig.axes[0].get_title()
    empty = timeline([])
    assert "no finished jobs" in empty.axes[0].get_title()


def test_display_does_not_import_matplotlib_by_itself() -> None:
    import subprocess

    code = "import queuekit.display, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.strip()
    assert out == "False"


# ---- the live view of a queue -------------------------------------------------------------------------------------

def test_the_queue_view_flags_waiting_jobs_no_live_worker_serves(queue, worker) -> None:
    # Given two reports waiting, and no worker at all
    queue.add("report")
    queue.add("report")

    # Then the view says no live worker serves them
    assert "no live worker serves: report (2 waiting)" in queue._repr_html_()

    # When a worker serving report reports in and runs them, the flag goes away
    worker({"report": lambda job: "done"})
    wait_until(lambda: queue.counts()["complete"] == 2, message="the reports done")
    assert "no live worker" not in queue_html(queue)


def test_watch_keeps_the_flag_in_view_while_it_refreshes(queue, monkeypatch) -> None:
    pytest.importorskip("IPython")
    import IPython.display

    # Given a notebook display that records what it is shown, and a waiting <job> nobody serves
    shown: list[str] = []

    class Handle:
        def update(self, obj) -> None:
            shown.append(obj.data)

    def display(obj, display_id=False):
        shown.append(obj.data)
        return Handle()

    monkeypatch.setattr(IPython.display, "display", display)
    queue.add("<b>report</b>")

    # When the queue is watched for a moment
    counts = watch(queue, interval=0.01, duration=0.05)

    # Then every refresh flags the job, its type escaped
    assert counts["inactive"] == 1 and len(shown) >= 2
    assert all("no live worker serves: &lt;b&gt;report&lt;/b&gt; (1 waiting)" in html for html in shown)
