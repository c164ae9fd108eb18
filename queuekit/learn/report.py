"""``grade`` (for instructors): grade one folder of submitted exercise files (:func:`grade_directory`), or a whole
class, one folder per learner or a roster CSV (:func:`grade_class`), and write JSON and CSV reports."""

from __future__ import annotations

import csv
import io
import json
import queue
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import Catalog, Exercise
from .results import BACKEND_ORDER, ERROR, FAIL, PASS, ExerciseResult
from .runner import REDIS_ENV, check_redis_url, grade, grade_many, redis_database, with_database

__all__ = ["POINTS_RULE", "Learner", "RosterError", "class_learners", "grade_class", "grade_directory",
           "is_class_folder", "read_roster", "submission_root", "write_csv", "write_report"]


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


# -- a whole class ---------------------------------------------------------------------------------------------

#: How points are counted, written into the class report.
POINTS_RULE = ("one point per grader test the submission passes, counting only the tests the reference solution "
               "passes on the same machine and backends (graded first); an exercise's maximum is that number of "
               "tests")
NOT_RUN = "not run"


@dataclass(frozen=True)
class Learner:
    """One learner of a class: an id (the folder name, or the roster's) and the folder holding their files."""

    id: str
    folder: Path


class RosterError(ValueError):
    """The roster or the class folder cannot be read."""


def submission_root(catalog: Catalog, folder: Path) -> Path:
    """Where a learner's exercise files are: ``folder`` itself, or its ``exercises/`` (a whole project copy)."""
    names = {f for ex in catalog.exercises for f in ex.files}
    if any((folder / n).is_file() for n in names):
        return folder
    inner = folder / "exercises"
    if inner.is_dir() and any((inner / n).is_file() for n in names):
        return inner
    return folder


def is_class_folder(catalog: Catalog, folder: Path) -> bool:
    """True when ``folder`` holds learners' folders rather than exercise files: no exercise file in it (nor in its
    ``exercises/``) and at least one sub-folder."""
    if submission_root(catalog, folder) != folder or any(
            (folder / f).is_file() for ex in catalog.exercises for f in ex.files):
        return False
    return any(p.is_dir() and not p.name.startswith(".") for p in folder.iterdir())


def class_learners(folder: Path) -> list[Learner]:
    """One learner per sub-folder of ``folder`` (hidden ones skipped), sorted by name; the id is the folder name."""
    return [Learner(p.name, p.resolve()) for p in sorted(Path(folder).iterdir())
            if p.is_dir() and not p.name.startswith(".") and p.name != "__pycache__"]


def read_roster(path: Path) -> list[Learner]:
    """Read a roster CSV: a header row, then one row per learner; the first column is the learner's id, the
    second the folder holding their files, relative to the roster's folder (more columns are ignored)."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as exc:
        raise RosterError(f"cannot read the roster {path}: {exc}") from None
    learners: list[Learner] = []
    seen: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise RosterError(f"{path}, line {number}: expected 'learner id,folder', got {','.join(row)!r}")
        learner_id, where = row[0].strip(), Path(row[1].strip())
        if learner_id in seen:
            raise RosterError(f"{path}, line {number}: the learner id {learner_id!r} appears twice")
        seen.add(learner_id)
        folder = where if where.is_absolute() else path.parent / where
        if not folder.is_dir():
            raise RosterError(f"{path}, line {number}: {folder} (the folder of {learner_id}) is not a folder")
        learners.append(Learner(learner_id, folder.resolve()))
    if not learners:
        raise RosterError(f"{path}: no learner (expected a header row, then 'learner id,folder' rows)")
    return learners


class _Databases:
    """The real-Redis databases handed out one per grading run, so that no two runs ever share one."""

    def __init__(self, url: str | None, wanted: int) -> None:
        self.url = url
        self.free: queue.Queue[int | None] = queue.Queue()
        self.numbers: list[int] = []
        if url is None:
            for _ in range(wanted):
                self.free.put(None)
            return
        base = redis_database(url)
        assert base is not None  # checked by check_redis_url
        for db in range(base, base + wanted):
            if _database_exists(with_database(url, db)):
                self.numbers.append(db)
                self.free.put(db)
        if not self.numbers:
            raise RosterError(f"no database from {base} to {base + wanted - 1} answers at {url}")

    @property
    def size(self) -> int:
        return self.free.qsize()

    @contextmanager
    def lease(self) -> Iterator[dict[str, str]]:
        """The environment of one grading run: its own database, returned to the pool afterwards."""
        db = self.free.get()
        try:
            yield {} if db is None or self.url is None else {REDIS_ENV: with_database(self.url, db)}
        finally:
            self.free.put(db)


def _database_exists(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()
    return True


def grade_class(catalog: Catalog, learners: list[Learner], only: list[Exercise] | None = None, *, jobs: int = 1,
                time_limit: float | None = None, redis_url: str | None = None,
                echo: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Grade every learner's submission, each exercise in its own grading run (its own processes, its own embedded
    server, with ``redis_url`` its own database: ``redis_url``'s number, the next ones for runs in parallel),
    ``jobs`` runs at a time; returns the class report as a JSON-ready dict (see :data:`POINTS_RULE`)."""
    say = echo or (lambda _line: None)
    exercises = list(only or catalog.exercises)
    if redis_url is not None:
        check_redis_url(redis_url)
    databases = _Databases(redis_url, max(1, jobs))
    started = time.time()

    def run(ex: Exercise, root: Path) -> ExerciseResult:
        with databases.lease() as env:
            return grade(catalog, ex, root, timeout=time_limit, env=env)

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, databases.size))) as pool:
        references = {ex.name: pool.submit(run, ex, catalog.solution_dir) for ex in exercises
                      if all((catalog.solution_dir / f).is_file() for f in ex.files)}
        submissions: dict[tuple[str, str], Future[ExerciseResult]] = {}
        roots = {learner.id: submission_root(catalog, learner.folder) for learner in learners}
        for learner in learners:
            for ex in exercises:
                if any((roots[learner.id] / f).exists() for f in ex.files):
                    submissions[learner.id, ex.name] = pool.submit(run, ex, roots[learner.id])
        counted, warnings, backends = _references(exercises, {n: f.result() for n, f in references.items()})
        for warning in warnings:
            say(f"warning: {warning}")
        entries = []
        for learner in learners:
            graded = []
            for ex in exercises:
                future = submissions.get((learner.id, ex.name))
                result = future.result() if future is not None else ExerciseResult(
                    ex.name, ERROR, "not submitted: " + ", ".join(ex.files) + " not found")
                graded.append(_score(ex, result, counted[ex.name]))
                mark = graded[-1]
                say(f"{learner.id:<16} {ex.name:<24} {result.status:<5} {mark['points']}/{mark['max']} points"
                    + (" (hanging)" if result.hanging else ""))
            entries.append({"id": learner.id, "folder": str(learner.folder),
                            "points": sum(e["points"] for e in graded), "max": sum(e["max"] for e in graded),
                            "exercises": graded})
    maxima = {ex.name: _maximum(counted[ex.name], ex.name, entries) for ex in exercises}
    for entry in entries:  # without a reference, the maximum is the largest number of tests any learner ran
        for graded_ex in entry["exercises"]:
            graded_ex["max"] = maxima[graded_ex["name"]]
        entry["max"] = sum(maxima.values())
    return {"version": 2, "kind": "class", "graded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "points_rule": POINTS_RULE, "backends": [b for b in BACKEND_ORDER if b in backends],
            "redis_url": redis_url, "redis_databases": databases.numbers, "time_limit": time_limit,
            "exercises": [{"name": ex.name, "title": ex.title, "task": ex.task, "max": maxima[ex.name]}
                          for ex in exercises],
            "max": sum(maxima.values()), "warnings": warnings, "learners": entries}


def _references(exercises: list[Exercise], references: dict[str, ExerciseResult]
                ) -> tuple[dict[str, list[str] | None], list[str], set[str]]:
    """From the reference solutions' results: the tests that count per exercise, warnings, the backends that ran."""
    counted: dict[str, list[str] | None] = {}
    warnings: list[str] = []
    backends: set[str] = set()
    for ex in exercises:
        ref = references.get(ex.name)
        counted[ex.name] = None if ref is None else [t.name for t in ref.tests if t.status == PASS]
        if ref is None:
            warnings.append(f"{ex.name}: no reference solution: every test the grader ran counts")
            continue
        backends.update(ref.backends)
        if not ref.passed:
            warnings.append(f"{ex.name}: the reference solution does not pass here ({ref.count(PASS)} of "
                            f"{len(ref.tests)} tests pass: {ref.message or ''}); only the tests it passes count")
    return counted, warnings, backends


def _maximum(counted: list[str] | None, name: str, entries: list[dict[str, Any]]) -> int:
    if counted is not None:
        return len(counted)
    return max((len(e["tests"]) for learner in entries for e in learner["exercises"] if e["name"] == name),
               default=0)


def _score(ex: Exercise, result: ExerciseResult, counted: list[str] | None) -> dict[str, Any]:
    """One exercise of one learner: status, points, message, and every test with its points (the reference's
    tests first, in order, ``not run`` when the submission's run did not reach them)."""
    by_name = {t.name: t for t in result.tests}
    names = list(counted) if counted is not None else [t.name for t in result.tests]
    names += [t.name for t in result.tests if t.name not in names]
    tests = []
    for name in names:
        test = by_name.get(name)
        scored = counted is None or name in counted
        point = 1 if test is not None and test.status == PASS and scored else 0
        tests.append({"name": name, "status": test.status if test else NOT_RUN, "points": point,
                      "message": test.message if test else None, "output": test.output if test else None})
    return {"name": ex.name, "status": result.status, "points": sum(t["points"] for t in tests),
            "max": len(counted) if counted is not None else len(tests), "message": result.message,
            "hanging": result.hanging, "backends": result.backends, "tests": tests}


def write_csv(report: dict[str, Any], path: Path) -> None:
    """The class report as CSV for a learning platform: one row per learner, ``learner``, the points of each
    exercise (one column per exercise, named after it), ``total`` and ``max`` (``-`` writes to standard output)."""
    names = [ex["name"] for ex in report["exercises"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["learner", *names, "total", "max"])
    for learner in report["learners"]:
        points = {e["name"]: e["points"] for e in learner["exercises"]}
        writer.writerow([learner["id"], *(points[n] for n in names), learner["points"], learner["max"]])
    if str(path) == "-":
        print(buffer.getvalue(), end="")
    else:
        Path(path).write_text(buffer.getvalue(), encoding="utf-8")
