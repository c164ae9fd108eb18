"""Watch mode: grade the current exercise, re-grade whenever one of its files is saved, answer single keys.

Keys: ``h`` next hint · ``n`` next exercise (once this one passes) · ``r`` re-grade · ``l`` list · ``q`` quit.
Files are polled for changes (no extra dependency). Without a terminal (a pipe, CI) the same commands are read
one per line from standard input, and ``--once`` grades a single time and exits.
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
from .progress import Progress
from .render import Style, exercise_list, progress_bar, result_text
from .results import ExerciseResult
from .runner import grade

__all__ = ["Watch"]

PROMPT = "n next · h hint · r re-check · l list · q quit"


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
            self._write(self.style.dim(PROMPT))

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
            self._write(self.style.green(self.catalog.final or "Every exercise passes. Congratulations!"))
            return False
        self.current = nxt
        self.progress.current = nxt.name
        self.progress.save()
        self.check()
        return True

    # -- loop --------------------------------------------------------------------------------------------------
    def run(self) -> int:
        """Run until ``q`` (or end of input); with ``once``, grade once and return 0 on a pass, 1 otherwise."""
        if self.catalog.welcome and not self.progress.passed and not self.once:
            self._write(self.catalog.welcome.strip())
            self._write()
        result = self.check()
        if self.once:
            return 0 if result.passed else 1
        with self._keys() as read_key:
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
                key = key.strip().lower()
                if key in ("q", "quit", "\x04", "eof"):
                    return 0
                if key in ("h", "hint"):
                    self.hint()
                elif key in ("n", "next"):
                    if not self.next():
                        return 0
                    stamps = self._mtimes()
                elif key in ("r", "run", "check", ""):
                    self.check()
                elif key in ("l", "list"):
                    self._write(exercise_list(self.catalog, self.progress, self.style, self.current.name))
                else:
                    self._write(f"unknown key {key!r}: {PROMPT}")

    @contextlib.contextmanager
    def _keys(self) -> Iterator[Callable[[float], str | None]]:
        """Yield ``read(timeout) -> str | None``: one key in a terminal, one line otherwise; ``"eof"`` at the end."""
        if self.tty:
            import termios
            import tty

            fd = self.inp.fileno()
            saved = termios.tcgetattr(fd)
            tty.setcbreak(fd)
            try:
                def read_key(timeout: float) -> str | None:
                    ready, _, _ = select.select([fd], [], [], timeout)
                    if not ready:
                        return None
                    ch = os.read(fd, 1).decode(errors="replace")
                    return ch or "eof"
                yield read_key
            finally:
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            return

        def read_line(timeout: float) -> str | None:
            try:
                ready, _, _ = select.select([self.inp], [], [], timeout)
            except (ValueError, OSError, TypeError):  # not a real file (tests use StringIO)
                ready = [self.inp]
            if not ready:
                return None
            line = self.inp.readline()
            return "eof" if line == "" else line
        yield read_line
