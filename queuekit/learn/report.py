"""``grade DIR --json FILE`` (for instructors): grade a folder of submitted exercise files and write a report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .catalog import Catalog, Exercise
from .results import ERROR, FAIL, PASS, ExerciseResult
from .runner import grade_many

__all__ = ["grade_directory", "write_report"]


def grade_directory(catalog: Catalog, folder: Path, only: list[Exercise] | None = None, jobs: int = 1,
                    echo: Callable[[Exercise, ExerciseResult], None] | None = None) -> dict[str, Any]:
    """Grade every exercise of the catalog (or ``only`` these) with the files found in ``folder``.

    An exercise whose files are all absent is reported with status ``error`` and message ``not submitted``.
    Returns the report as a JSON-ready dict.
    """
    folder = Path(folder).resolve()
    started = time.time()
    entries = []
    for ex, result in grade_many(catalog, only or catalog.exercises, folder, jobs=jobs):
        if all(not (folder / f).exists() for f in ex.files):
            result = ExerciseResult(ex.name, ERROR, "not submitted: " + ", ".join(ex.files) + " not found")
        if echo is not None:
            echo(ex, result)
        entry = result.to_dict()
        entry.update({"title": ex.title, "task": ex.task, "files": list(ex.files)})
        entries.append(entry)
    summary = {s: sum(1 for e in entries if e["status"] == s) for s in (PASS, FAIL, ERROR)}
    return {"version": 1, "directory": str(folder), "graded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                               time.gmtime(started)),
            "summary": summary, "exercises": entries}


def write_report(report: dict[str, Any], path: Path) -> None:
    """Write ``report`` as indented JSON (``-`` writes to standard output)."""
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if str(path) == "-":
        print(text, end="")
    else:
        Path(path).write_text(text, encoding="utf-8")
