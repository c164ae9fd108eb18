"""queuekit.display, the library's own notebook display: the queue's live view (the course's tables and plots are
queuekit.learn.views, tested in tests/learn/test_views.py)."""

from __future__ import annotations

import sys

import pytest
from fixtures import wait_until

from queuekit.display import queue_html, watch


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
