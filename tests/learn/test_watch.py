"""Watch mode's end of the course and its list of exercises (jump to one, reset one), with a pipe and in a real
pseudo-terminal."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_course import INFO, SOLUTIONS, STUBS, make_project

from queuekit.learn.catalog import load_catalog
from queuekit.learn.pristine import snapshot
from queuekit.learn.progress import PROGRESS_FILE, Progress
from queuekit.learn.watch import Watch

REPO = Path(__file__).resolve().parents[2]
FINAL = "You finished the test course. Bravo!"
INFO_FINAL = INFO.replace("welcome = ", f'final = "{FINAL}"\nwelcome = ')


def _watch(project: Path, lines: list[str]) -> tuple[Watch, io.StringIO]:
    out = io.StringIO()
    watch = Watch(load_catalog(project), Progress.load(project), out=out, inp=io.StringIO("".join(
        line + "\n" for line in lines)), poll_interval=0.05)
    return watch, out


def _current(project: Path) -> str | None:
    return json.loads((project / PROGRESS_FILE).read_text())["current"]


# ---- the end of the course ----------------------------------------------------------------------------------------

def test_when_the_last_exercise_passes_watch_says_the_course_is_done(tmp_path) -> None:
    # Given a course whose two exercises are solved, alpha already recorded as passed
    project = make_project(tmp_path / "course", stubs=SOLUTIONS, info=INFO_FINAL)
    progress = Progress.load(project)
    progress.mark_passed("alpha")
    progress.current = "beta"
    progress.save()

    # When watch mode grades beta, the last one, and the learner presses n
    watch, out = _watch(project, ["n"])
    assert watch.run() == 0

    # Then the screen gives the final message and says the course is done, with no next exercise to go to
    text = out.getvalue()
    assert "beta passes" in text
    assert FINAL in text and "The course is done: every exercise passes." in text
    assert "Press n to go on" not in text and "n next" not in text


def test_a_pass_with_exercises_left_still_points_to_the_next_one(tmp_path) -> None:
    project = make_project(tmp_path / "course", stubs={"alpha.py": SOLUTIONS["alpha.py"], "beta.py": STUBS["beta.py"]},
                           info=INFO_FINAL)
    watch, out = _watch(project, ["q"])
    assert watch.run() == 0
    text = out.getvalue()
    assert "alpha passes" in text and "Press n to go on to the next exercise." in text
    assert FINAL not in text and "course is done" not in text


# ---- the list without a terminal ------------------------------------------------------------------------------------

def test_the_list_without_a_terminal_jumps_to_an_exercise_by_number(project) -> None:
    watch, out = _watch(project, ["l", "1", "q"])
    assert watch.run() == 0
    text = out.getvalue()
    assert " *  0  pending  alpha" in text and "    1  pending  beta" in text   # numbered; * marks the current
    assert "number: work on it" in text
    assert "task 1 · beta" in text          # beta was graded as the current exercise
    assert _current(project) == "beta"


def test_the_list_without_a_terminal_resets_after_a_yes(project) -> None:
    # Given the learner's own (wrong) version of beta, and the pristine snapshot taken at start
    snapshot(load_catalog(project))
    mine = '"""Write hello()."""\n\n\ndef hello():\n    print("bye")\n'
    (project / "exercises" / "beta.py").write_text(mine)

    # When they answer no once, then reset it for good by name
    watch, out = _watch(project, ["l", "x 1", "n", "x beta", "y", "", "q"])
    assert watch.run() == 0

    text = out.getvalue()
    assert "not reset" in text and "exercises/beta.py restored" in text
    assert (project / "exercises" / "beta.py").read_text() == STUBS["beta.py"]
    backups = list((project / ".queuekit" / "backup").glob("beta.*.py"))
    assert [b.read_text() for b in backups] == [mine]
    assert _current(project) == "alpha"      # a reset does not move the learner


def test_an_unknown_number_is_refused_plainly(project) -> None:
    watch, out = _watch(project, ["l", "7", "", "q"])
    assert watch.run() == 0
    assert "no exercise '7': type its number (0 to 1) or its name" in out.getvalue()


# ---- the interactive list, in a pseudo-terminal -------------------------------------------------------------------

class Terminal:
    """``queuekit learn`` (watch mode) running in a pseudo-terminal, driven key by key."""

    def __init__(self, project: Path) -> None:
        import pty

        self.master, slave = pty.openpty()
        env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", "TERM": "xterm"}
        self.process = subprocess.Popen([sys.executable, "-m", "queuekit.learn", "--root", str(project)],
                                        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 60.0) -> str:
        """Read until ``text`` appears in what came since the last expect; return that."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"waited {timeout:.0f} s for {text!r} on the terminal; it showed:\n{self.seen}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    self.seen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the process ended and closed the terminal
                    if text not in self.seen:
                        raise AssertionError(f"the terminal closed before {text!r} appeared:\n{self.seen}") from None
        at = self.seen.index(text) + len(text)
        got, self.seen = self.seen[:at], self.seen[at:]
        return got

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        os.close(self.master)


@pytest.fixture
def terminal(project):
    if sys.platform == "win32":
        pytest.skip("pseudo-terminals are POSIX")
    term = Terminal(project)
    yield term
    term.close()


def test_the_interactive_list_moves_jumps_resets_and_goes_back(project, terminal) -> None:
    t = terminal
    t.expect("q quit")                                   # alpha graded, the main screen's prompt
    t.press("l")
    screen = t.expect("q/Esc: back")
    assert ">*  0  pending  alpha" in screen and "    1  pending  beta" in screen

    # j (or the down arrow) selects beta; Enter makes it the current exercise
    t.press("j")
    screen = t.expect("q/Esc: back")
    assert " *  0  pending  alpha" in screen and ">   1  pending  beta" in screen
    t.press("\r")
    t.expect("task 1 · beta")
    t.expect("q quit")
    assert _current(project) == "beta"

    # the learner writes their own beta; x on it asks first, and n keeps it
    mine = '"""Write hello()."""\n\n\ndef hello():\n    print("bye")\n'
    (project / "exercises" / "beta.py").write_text(mine)
    t.expect("q quit")                                   # the save is re-graded
    t.press("l")
    t.expect("q/Esc: back")
    t.press("x")
    t.expect("[y/N]")
    t.press("n")
    t.expect("beta not reset")
    assert (project / "exercises" / "beta.py").read_text() == mine

    # the up arrow, then typing 1, select beta again; x and y reset it, with a backup
    t.press("\x1b[A")
    assert ">   0  pending  alpha" in t.expect("q/Esc: back")
    t.press("1")
    assert ">*  1  pending  beta" in t.expect("q/Esc: back")
    t.press("x")
    t.expect("[y/N]")
    t.press("y")
    t.expect("exercises/beta.py restored")
    assert (project / "exercises" / "beta.py").read_text() == STUBS["beta.py"]
    assert [b.read_text() for b in (project / ".queuekit" / "backup").glob("beta.*.py")] == [mine]

    # Esc goes back to the exercise's screen (graded again: its files changed), and q quits
    t.press("\x1b")
    t.expect("task 1 · beta")
    t.expect("q quit")
    t.press("q")
    assert t.process.wait(timeout=20) == 0
