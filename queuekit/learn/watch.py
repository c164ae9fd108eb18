"""Watch mode: grade the current exercise, re-grade whenever one of its files is saved, answer single keys.

Keys: ``h`` next hint · ``n`` next exercise (once this one passes) · ``r`` re-grade · ``l`` list · ``q`` quit.
Files are polled for changes (no extra dependency). Without a terminal (a pipe, CI) the same commands are read
one per line from standard input, and ``--once`` grades a single time and exits.

``l`` opens the list of every exercise. In a terminal it is interactive: arrows or ``j``/``k`` (or typing its
number) select one, Enter makes it the current exercise, ``x`` resets it (after a y/n question; the learner's file
is backed up), ``q`` or Esc goes back. Without a terminal the list is printed, followed by a prompt that takes a
number (work on it), ``x NUMBER`` (reset it) or an empty line (back).

When every exercise passes, the screen says so with the catalog's final message: there is no next exercise.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO

from .catalog import Catalog, Exercise
from .pristine import reset
from .progress import Progress
from .render import Style, exercise_menu, progress_bar, result_text
from .results import ExerciseResult
from .runner import grade

__all__ = ["Watch"]

PROMPT = "n next · h hint · r re-check · l list · q quit"
DONE_PROMPT = "h hint · r re-check · l list · q quit"
MENU_KEYS = "↑/↓ or j/k move · type a number to jump · Enter: work on it · x: reset it · q/Esc: back"
MENU_PROMPT = "number: work on it · x NUMBER: reset it · empty line: back > "
#: what the terminal reader returns for the keys of the list that are not single characters
UP, DOWN, ESC, ENTER = "<up>", "<down>", "<esc>", "<enter>"


class Watch:
    """The interactive loop of ``queuekit learn`` (no argument)."""

    def __init__(self, catalog: Catalog, progress: Progress, *, out: TextIO | None = None,
                 inp: TextIO | None = None, once: bool = False, poll_interval: float = 0.5) -> None:
        self.catalog = catalog
        self.progress = progress
        self.out = out or sys.stdout
        self.inp = inp or sys.stdin
        self.once = once
        self.poll_interval = poll_interval
        self.style = Style(self.out)
        self.tty = bool(getattr(self.inp, "isatty", lambda: False)()) and bool(
            getattr(self.out, "isatty", lambda: False)())
        self.result: ExerciseResult | None = None
        self.current = self._start_exercise()
        self._read: Callable[[float | None], str | None] | None = None

    # -- state -------------------------------------------------------------------------------------------------
    def _start_exercise(self) -> Exercise:
        names = [ex.name for ex in self.catalog.exercises]
        if self.progress.current in names:
            return self.catalog.get(self.progress.current)
        pending = [ex for ex in self.catalog.exercises if not self.progress.is_passed(ex.name)]
        return pending[0] if pending else self.catalog.exercises[-1]

    def _next_pending(self) -> Exercise | None:
        order = self.catalog.exercises
        start = self.catalog.index(self.current.name)
        for ex in order[start + 1:] + order[:start]:
            if not self.progress.is_passed(ex.name):
                return ex
        return None

    def course_done(self) -> bool:
        """True when every exercise of the catalog passes."""
        return all(self.progress.is_passed(ex.name) for ex in self.catalog.exercises)

    def _final(self) -> None:
        self._write(self.style.green(self.catalog.final.strip() or "Every exercise passes. Congratulations!"))
        self._write(self.style.green("The course is done: every exercise passes."))

    def _write(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _mtimes(self) -> tuple[float, ...]:
        stamps = []
        for path in self.catalog.paths(self.current):
            try:
                stamps.append(path.stat().st_mtime)
            except OSError:
                stamps.append(0.0)
        return tuple(stamps)

    # -- screens -----------------------------------------------------------------------------------------------
    def check(self) -> ExerciseResult:
        """Grade the current exercise, record a pass, and show the screen."""
        if self.tty:
            self.out.write("\033[2J\033[H")
        self._write(self.style.dim(f"grading {self.current.name} …"))
        self.result = grade(self.catalog, self.current)
        if self.result.passed:
            self.progress.mark_passed(self.current.name)
        self.progress.current = self.current.name
        self.progress.save()
        self.show()
        return self.result

    def show(self) -> None:
        """Print the status screen for the current exercise."""
        ex, result = self.current, self.result
        done = sum(1 for e in self.catalog.exercises if self.progress.is_passed(e.name))
        self._write(self.style.bold(f"{ex.label}: {ex.title}"))
        if ex.lesson:
            self._write(self.style.dim(f"lesson: {ex.lesson}"))
        self._write()
        if result is not None:
            self._write(result_text(self.catalog, ex, result, self.style))
            if result.passed:
                self._write()
                if self.course_done():
                    self._final()
                else:
                    self._write(self.style.green("Well done! Press n to go on to the next exercise."))
            else:
                seen = self.progress.hints_seen.get(ex.name, 0)
                if ex.hints and seen < len(ex.hints):
                    self._write()
                    self._write(self.style.dim(f"hint {seen + 1}/{len(ex.hints)} available (h)"))
        self._write()
        self._write(progress_bar(done, len(self.catalog.exercises)) + "   " + "  ".join(
            f"exercises/{f}" for f in ex.files))
        if not self.once:
            self._write(self.style.dim(DONE_PROMPT if self.course_done() else PROMPT))

    def hint(self) -> None:
        """Show the next unseen hint of the current exercise."""
        ex = self.current
        if not ex.hints:
            self._write("This exercise has no hint.")
            return
        index = self.progress.next_hint(ex.name, len(ex.hints))
        self.progress.save()
        more = "" if index + 1 < len(ex.hints) else " (that was the last one)"
        self._write(self.style.yellow(f"Hint {index + 1}/{len(ex.hints)}{more}:"))
        self._write("    " + ex.hints[index].strip().replace("\n", "\n    "))

    def next(self) -> bool:
        """Go to the next pending exercise if the current one passes; False when the course is finished."""
        if not (self.result and self.result.passed):
            self._write(self.style.yellow(f"{self.current.name} does not pass yet: fix it first "
                                          "(or run `queuekit learn check NAME` to try another one)."))
            return True
        nxt = self._next_pending()
        if nxt is None:
            self._final()
            return False
        self.go_to(nxt)
        return True

    def go_to(self, exercise: Exercise) -> None:
        """Make ``exercise`` the current one and grade it."""
        self.current = exercise
        self.progress.current = exercise.name
        self.progress.save()
        self.check()

    # -- the list ----------------------------------------------------------------------------------------------
    def _reset(self, exercise: Exercise) -> list[str]:
        """Restore the stub of ``exercise`` (pristine.reset backs the learner's files up) and forget its pass."""
        try:
            lines = reset(self.catalog, exercise)
        except FileNotFoundError as exc:
            return [self.style.red(str(exc))]
        self.progress.mark_unpassed(exercise.name)
        self.progress.save()
        if exercise.name == self.current.name:
            self.result = None
        return lines

    def _next_input(self) -> str:
        """One key (terminal) or one line (otherwise), waiting as long as it takes; ``"eof"`` at the end."""
        assert self._read is not None
        while True:
            got = self._read(0.5)
            if got is not None:
                return got

    def exercise_list(self) -> None:
        """``l``: the list of exercises, to jump to one or reset one (see the module docstring)."""
        if self.tty:
            self._menu()
        else:
            self._list_prompt()

    def _list_prompt(self) -> None:
        exercises = self.catalog.exercises
        self._write(exercise_menu(self.catalog, self.progress, self.style, self.current.name))
        while True:
            self.out.write(MENU_PROMPT)
            self.out.flush()
            answer = self._next_input()
            if answer == "eof":
                self._write()
                return
            answer = answer.strip()
            if answer.lower() in ("", "q", "quit", "back"):
                self._back()
                return
            words = answer.split()
            resetting = words[0].lower() == "x"
            pick = words[1] if resetting and len(words) > 1 else words[0]
            index = self._find(pick)
            if index is None:
                self._write(f"no exercise {pick!r}: type its number (0 to {len(exercises) - 1}) or its name")
                continue
            exercise = exercises[index]
            if not resetting:
                self.go_to(exercise)
                return
            self.out.write(f"Reset {exercise.name} to its original files? Your version is kept in .queuekit/backup/. "
                           "[y/N] ")
            self.out.flush()
            if self._next_input().strip().lower() in ("y", "yes"):
                self._write("\n".join(self._reset(exercise)))
            else:
                self._write("not reset")

    def _back(self) -> None:
        """Leave the list: the current exercise's screen again (graded anew if its files were just reset)."""
        if self.result is None:
            self.check()
            return
        if self.tty:
            self.out.write("\033[2J\033[H")
        self.show()

    def _find(self, text: str) -> int | None:
        names = [ex.name for ex in self.catalog.exercises]
        if text.isdigit():
            return int(text) if int(text) < len(names) else None
        return names.index(text) if text in names else None

    def _menu(self) -> None:
        """The interactive list, in a terminal: the screen is redrawn after every key."""
        exercises = self.catalog.exercises
        selected = self.catalog.index(self.current.name)
        typed = ""        # digits typed so far
        message = ""
        while True:
            self.out.write("\033[2J\033[H")
            self._write(exercise_menu(self.catalog, self.progress, self.style, self.current.name, selected))
            self._write()
            self._write(message or self.style.dim(MENU_KEYS))
            message = ""
            key = self._next_input()
            if key.isdigit():
                typed = typed + key if typed and int(typed + key) < len(exercises) else key
                if int(typed) < len(exercises):
                    selected = int(typed)
                continue
            typed = ""
            if key in (UP, "k"):
                selected = (selected - 1) % len(exercises)
            elif key in (DOWN, "j"):
                selected = (selected + 1) % len(exercises)
            elif key in (ENTER, "\n", "\r"):
                self.go_to(exercises[selected])
                return
            elif key in ("x", "X"):
                exercise = exercises[selected]
                self._write(self.style.yellow(f"Reset {exercise.name} to its original files? Your version is kept "
                                              "in .queuekit/backup/. [y/N]"))
                if self._next_input().lower() == "y":
                    message = "\n".join(self._reset(exercise))
                else:
                    message = f"{exercise.name} not reset"
            elif key in ("q", ESC, "eof", "\x04"):
                self._back()
                return

    # -- loop --------------------------------------------------------------------------------------------------
    def run(self) -> int:
        """Run until ``q`` (or end of input); with ``once``, grade once and return 0 on a pass, 1 otherwise."""
        if self.catalog.welcome and not self.progress.passed and not self.once:
            self._write(self.catalog.welcome.strip())
            self._write()
        if self.once:
            return 0 if self.check().passed else 1
        with self._keys() as read_key:  # keys pressed during the first grading are kept, and not echoed
            self.check()
            stamps = self._mtimes()
            while True:
                key = read_key(self.poll_interval)
                if key is None:
                    new = self._mtimes()
                    if new != stamps:
                        time.sleep(0.1)  # let the editor finish writing
                        stamps = self._mtimes()
                        self.check()
                    continue
                outcome = self._on_key(key)
                if outcome == "quit":
                    return 0
                if outcome == "moved":  # another exercise, or its files were reset: watch them from now on
                    stamps = self._mtimes()

    def _on_key(self, key: str) -> str | None:
        """Act on one key (or line) of the main screen: ``"quit"``, ``"moved"`` (the files to watch may have
        changed), or None."""
        key = key.strip().lower()
        if key in ("q", "quit", "\x04", "eof"):
            return "quit"
        if key in ("h", "hint"):
            self.hint()
        elif key in ("n", "next"):
            return "moved" if self.next() else "quit"
        elif key in ("r", "run", "check", "", ENTER):
            self.check()
        elif key in ("l", "list"):
            self.exercise_list()
            return "moved"
        elif key not in (UP, DOWN, ESC):
            self._write(f"unknown key {key!r}: {DONE_PROMPT if self.course_done() else PROMPT}")
        return None

    @contextlib.contextmanager
    def _keys(self) -> Iterator[Callable[[float | None], str | None]]:
        """Yield ``read(timeout) -> str | None``: one key in a terminal (the arrows, Esc and Enter as ``UP``,
        ``DOWN``, ``ESC``, ``ENTER``), one line otherwise; ``"eof"`` at the end. It is kept as ``self._read`` for the
        list."""
        if self.tty:
            import termios
            import tty

            fd = self.inp.fileno()
            saved = termios.tcgetattr(fd)
            tty.setcbreak(fd, termios.TCSANOW)  # not TCSAFLUSH: a key typed already must not be lost
            try:
                def read_key(timeout: float | None) -> str | None:
                    ready, _, _ = select.select([fd], [], [], timeout)
                    if not ready:
                        return None
                    ch = os.read(fd, 1).decode(errors="replace")
                    if ch in ("\r", "\n"):
                        return ENTER
                    if ch != "\x1b":
                        return ch or "eof"
                    # Esc alone, or the start of an arrow key's sequence (ESC [ A, or ESC O A in application mode)
                    rest = b""
                    while len(rest) < 2 and select.select([fd], [], [], 0.05)[0]:
                        rest += os.read(fd, 1)
                    return {b"[A": UP, b"OA": UP, b"[B": DOWN, b"OB": DOWN}.get(rest, ESC)
                self._read = read_key
                yield read_key
            finally:
                self._read = None
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            return

        def read_line(timeout: float | None) -> str | None:
            try:
                ready, _, _ = select.select([self.inp], [], [], timeout)
            except (ValueError, OSError, TypeError):  # not a real file (tests use StringIO)
                ready = [self.inp]
            if not ready:
                return None
            line = self.inp.readline()
            return "eof" if line == "" else line
        self._read = read_line
        try:
            yield read_line
        finally:
            self._read = None
