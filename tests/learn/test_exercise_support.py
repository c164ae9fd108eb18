"""The graders' process helpers (tests/exercises/exercise_support.py): waits name what they waited for, and a
script's processes, detached ones included, do not outlive it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exercises"))

import exercise_support as support  # noqa: E402


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X")


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(support, "EXERCISE_ROOT", tmp_path)
    (tmp_path / "slow.py").write_text("import time\nprint('one')\ntime.sleep(60)\n")
    (tmp_path / "detach.py").write_text(
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True)\n"
        "print(p.pid)\ntime.sleep(60)\n")
    (tmp_path / "app.py").write_text("print('no server here')\n")
    return tmp_path


def test_a_wait_that_times_out_names_what_it_waited_for(files: Path) -> None:
    with support.Script("slow.py") as script:
        waited = script.wait_line_count(3, timeout=1.5)
        assert not waited
        assert waited.message.startswith("waited 1.5 s for `python slow.py` to print 3 line(s), in vain")
        assert "printed 1 line(s), the last: 'one'" in str(waited)
        assert script.wait_for(lambda lines: "two" in lines, 0.2, what="the line 'two'").message.startswith(
            "waited 0.2 s for the line 'two', in vain")
        assert script.wait_exit(0.5) is None
        assert script.last_wait is not None and "`python slow.py` to finish" in script.last_wait.message
        assert "still running" in script.last_wait.message
        assert script.wait_line_count(1, timeout=5)  # true once the line is there


def test_a_wait_cut_short_by_the_process_ending_says_so(files: Path) -> None:
    with support.Script("app.py") as script:
        waited = script.wait_line_count(2, timeout=20)
        assert not waited
        assert waited.message.startswith("stopped waiting for `python app.py` to print 2 line(s): the process ended")
        assert "the last: 'no server here', and it ended with exit status 0" in waited.message


def test_wait_until_names_the_predicate_or_the_given_description() -> None:
    def queue_drained() -> bool:
        return False

    assert str(support.wait_until(queue_drained, 0.1)).startswith("waited 0.1 s for queue_drained() to hold")
    assert "the 20 jobs to complete" in str(support.wait_until(lambda: False, 0.1, what="the 20 jobs to complete"))
    assert support.wait_until(lambda: True, 1)


def test_start_app_names_what_it_waited_for(files: Path) -> None:
    with pytest.raises(pytest.fail.Exception) as info:
        support.start_app("app.py", "redis://unused", timeout=10)
    message = str(info.value)
    assert "while waiting for `PORT=" in message and "python app.py` to accept connections on port" in message
    assert "no server here" in message


def test_stop_kills_a_detached_child_and_leftovers_are_killed(files: Path) -> None:
    script = support.Script("detach.py")
    assert script.wait_line_count(1, timeout=20), script.transcript()
    child = int(script.lines[0])
    assert _alive(child)
    script.stop()
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the child that left the script's process group survived stop()"

    forgotten = support.Script("detach.py")
    assert forgotten.wait_line_count(1, timeout=20), forgotten.transcript()
    child = int(forgotten.lines[0])
    assert support.kill_leftovers() == ["python detach.py"]
    assert not forgotten.running and not _alive(child)
    assert support.kill_leftovers() == []
