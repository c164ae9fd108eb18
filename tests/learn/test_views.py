"""The course's notebook views in queuekit.learn.views, used by the lessons: the grading table and the plots."""

from __future__ import annotations

import subprocess
import sys

import pytest

from queuekit import JobState, Queue
from queuekit.learn.results import ExerciseResult
from queuekit.learn.results import TestResult as Outcome
from queuekit.learn.views import Cell, Table, results_table, throughput, timeline
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


def test_the_views_do_not_import_matplotlib_by_themselves() -> None:
    code = "import queuekit.learn.views, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.strip()
    assert out == "False"


@pytest.mark.parametrize("name", ["Table", "Cell", "results_table", "timeline", "throughput"])
def test_the_old_names_in_queuekit_display_still_work_with_a_deprecation_warning(name: str) -> None:
    import queuekit.display
    import queuekit.learn.views

    with pytest.warns(DeprecationWarning, match=f"queuekit.display.{name} moved to queuekit.learn.views"):
        found = getattr(queuekit.display, name)
    assert found is getattr(queuekit.learn.views, name)
    with pytest.raises(AttributeError):
        queuekit.display.no_such_view  # noqa: B018
