"""The course runner: exercises, graders, hints and progress (``queuekit learn``).

From a notebook, :func:`check` grades one exercise and returns its result (shown as a table)."""

from __future__ import annotations

from pathlib import Path

from .catalog import Catalog, Exercise, load_catalog
from .results import ExerciseResult, TestResult

__all__ = ["Catalog", "Exercise", "ExerciseResult", "TestResult", "check", "load_catalog"]


def check(name: str, root: Path | str | None = None) -> ExerciseResult:
    """Grade exercise ``name`` (a name, file name or task number) of the project at ``root`` (found from the
    current folder by default) and return the result; nothing is printed."""
    from .runner import grade

    catalog = load_catalog(Path(root) if root is not None else None)
    return grade(catalog, catalog.get(name))
