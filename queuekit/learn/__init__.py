"""The course runner: exercises, graders, hints and progress (``queuekit learn``).

From a notebook, :func:`check` grades one exercise and returns its result (shown as a table)."""

from __future__ import annotations

from pathlib import Path

from .catalog import Catalog, Exercise, load_catalog
from .results import ExerciseResult, TestResult

__all__ = ["Catalog", "Exercise", "ExerciseResult", "TestResult", "check", "load_catalog"]


def check(name: str, root: Path | str | None = None, *, stop_first: bool = True) -> ExerciseResult:
    """Grade exercise ``name`` (a name, file name or task number) of the project at ``root`` (found from the
    current folder by default) and return the result; nothing is printed.

    ``stop_first``: stop at the first failing check, the one to fix next (the checks after it are reported as not
    run); an unfinished exercise is then graded in seconds instead of waiting on every check. ``False`` runs them
    all."""
    from .runner import grade

    catalog = load_catalog(Path(root) if root is not None else None)
    return grade(catalog, catalog.get(name), stop_first=stop_first)
