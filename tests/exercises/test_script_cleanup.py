"""A learner's process started by a grader dies with the grader, even when the grader is killed before it can stop
it (a processor left running would take the jobs of the next grading run on the shared Redis)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux only")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_a_learners_process_dies_when_the_grader_is_killed(tmp_path: Path) -> None:
    (tmp_path / "forever.py").write_text("import time\nprint('up', flush=True)\nwhile True:\n    time.sleep(1)\n")
    grader = textwrap.dedent(f"""
        import os, sys, time
        os.environ["EXERCISE_ROOT"] = {str(tmp_path)!r}
        sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
        from exercise_support import Script
        s = Script("forever.py")
        assert s.wait_line_count(1, timeout=20)
        print(s.proc.pid, flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", grader], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(proc.stdout.readline())
        assert _alive(pid)
        proc.kill()  # the grader dies without stopping its script (as at the runner's time limit)
        proc.wait(5)
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), "the learner's process outlived the grader that started it"
    finally:
        proc.kill()


def test_ctrl_c_reaches_a_learners_process_even_from_a_grader_started_in_the_background(tmp_path: Path) -> None:
    # a grader started in the background (`cmd &`) inherits SIGINT ignored; its learner's process must not
    (tmp_path / "forever.py").write_text("import time\nprint('up', flush=True)\nwhile True:\n    time.sleep(1)\n")
    grader = textwrap.dedent(f"""
        import os, signal, sys
        os.environ["EXERCISE_ROOT"] = {str(tmp_path)!r}
        sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
        from exercise_support import Script
        with Script("forever.py") as s:
            assert s.wait_line_count(1, timeout=20)
            s.proc.send_signal(signal.SIGINT)
            print(s.wait_exit(timeout=10), flush=True)
    """)
    import signal

    done = subprocess.run([sys.executable, "-c", grader], capture_output=True, text=True, timeout=60,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert done.stdout.strip() not in ("", "None"), (done.stdout, done.stderr[-500:])
