"""Turning results into text for a learner: a progress bar, the exercise list, the first failure."""

from __future__ import annotations

import os
import sys
import textwrap
from typing import TextIO

from .catalog import Catalog, Exercise
from .progress import Progress
from .results import ERROR, FAIL, PASS, SKIP, ExerciseResult

__all__ = ["Style", "backends_note", "exercise_list", "exercise_menu", "progress_bar", "result_text",
           "summary_line"]


class Style:
    """ANSI colours when writing to a terminal that wants them (honours ``NO_COLOR``), plain text otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        stream = stream or sys.stdout
        self.on = bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.on else text

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def red(self, text: str) -> str:
        return self._wrap("31", text)

    def yellow(self, text: str) -> str:
        return self._wrap("33", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def reverse(self, text: str) -> str:
        return self._wrap("7", text)


def progress_bar(done: int, total: int, width: int = 40) -> str:
    """``Progress: [#########-------------]  5/17``."""
    filled = int(width * done / total) if total else 0
    return f"Progress: [{'#' * filled}{'-' * (width - filled)}] {done:>2}/{total}"


def exercise_list(catalog: Catalog, progress: Progress, style: Style, current: str | None = None) -> str:
    """One line per exercise: done or pending, its name, task number and title."""
    lines = [style.bold(f"{'':2}{'state':<8} {'exercise':<24} {'task':<5} title")]
    for ex in catalog.exercises:
        state = style.green("done   ") if progress.is_passed(ex.name) else style.yellow("pending")
        mark = ">" if ex.name == current else " "
        task = "" if ex.task is None else str(ex.task)
        lines.append(f"{mark} {state:<8} {ex.name:<24} {task:<5} {ex.title}")
    return "\n".join(lines)


def exercise_menu(catalog: Catalog, progress: Progress, style: Style, current: str | None = None,
                  selected: int | None = None) -> str:
    """The list of watch mode's ``l``: each exercise with its number (what the learner types to pick it), the
    selected row marked ``>`` (and shown in reverse video with colours), the current exercise marked ``*``."""
    lines = [style.bold(f"{'':2}{'#':>3}  {'state':<8} {'exercise':<24} title")]
    for n, ex in enumerate(catalog.exercises):
        state = "done   " if progress.is_passed(ex.name) else "pending"
        mark = ">" if n == selected else " "
        here = "*" if ex.name == current else " "
        row = f"{mark}{here}{n:>3}  {state:<8} {ex.name:<24} {ex.title}"
        if n == selected:
            row = style.reverse(row)
        elif progress.is_passed(ex.name):
            row = row.replace(state, style.green(state), 1)
        else:
            row = row.replace(state, style.yellow(state), 1)
        lines.append(row)
    return "\n".join(lines)


def _indent(text: str, prefix: str = "    ") -> str:
    return textwrap.indent(text.rstrip("\n"), prefix, lambda _: True)


def backends_note(result: ExerciseResult) -> str:
    """Which servers the grader ran on: ``backends: embedded + real Redis redis://…/2`` ('' when it used none)."""
    names = {"embedded": "embedded server", "redis": f"real Redis {result.redis_url or ''}".rstrip()}
    ran = [names.get(b, b) for b in result.backends]
    text = "backends: " + " + ".join(ran) if ran else ""
    skipped = [names.get(b, b) for b in result.skipped_backends]
    if skipped:
        text += ("; " if text else "") + " and ".join(skipped) + " skipped (see the skipped tests)"
    if ran and result.redis_url is None and os.environ.get("REDIS_URL"):
        text += " (the graders ignore REDIS_URL; `queuekit learn --redis URL` grades on a real Redis too)"
    return text


def result_text(catalog: Catalog, exercise: Exercise, result: ExerciseResult, style: Style,
                show_passing: bool = True) -> str:
    """What the learner reads after a check: a one-line verdict, then the first failure in detail."""
    files = ", ".join(f"exercises/{f}" for f in exercise.files)
    counts = f"{result.count(PASS)} passed, {result.count(FAIL) + result.count(ERROR)} failed"
    if result.count(SKIP):
        counts += f", {result.count(SKIP)} skipped"
    note = backends_note(result)
    if note:
        counts += f"; {note}"
    if result.status == PASS:
        head = style.green(f"✓ {exercise.name} passes") + f"  ({counts})"
        return head if show_passing else ""
    if result.status == ERROR:
        body = [style.red(f"✗ {exercise.name} could not be graded") + f"  ({files})", "",
                _indent(result.message or "unknown error")]
        return "\n".join(body)
    lines = [style.red(f"✗ {exercise.name} does not pass yet") + f"  ({counts}; {files})"]
    if result.hanging:
        lines.append(style.yellow(f"  ⏱ {result.message}"))
    failure = result.first_failure
    if failure is not None:
        lines += ["", style.bold(f"First failing check: {failure.name}"), _indent(failure.message or "(no message)")]
        if failure.output:
            lines += ["", style.bold("What your code printed:"), _indent(failure.output)]
    elif result.message:
        lines += ["", _indent(result.message)]
    return "\n".join(lines)


def summary_line(results: list[ExerciseResult]) -> str:
    """``3 passed, 2 failed, 1 error``."""
    counts = {s: sum(1 for r in results if r.status == s) for s in (PASS, FAIL, ERROR)}
    return ", ".join(f"{n} {'passed' if s == PASS else 'failed' if s == FAIL else 'error'}"
                     for s, n in counts.items() if n) or "nothing graded"
