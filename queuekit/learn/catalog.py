"""The exercise catalog: ``exercises/info.toml`` read into :class:`Exercise` records, and its consistency checks."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["ROOT_ENV", "Catalog", "CatalogError", "Exercise", "find_root", "load_catalog"]

#: Environment variable naming the project root (the folder holding ``exercises/info.toml``).
ROOT_ENV = "QUEUEKIT_LEARN_ROOT"
#: Where the catalog lives, relative to the project root.
CATALOG_PATH = Path("exercises") / "info.toml"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DEFAULT_TIMEOUT = 30.0


class CatalogError(Exception):
    """Raised when the catalog cannot be found or read."""


@dataclass(frozen=True)
class Exercise:
    """One exercise of the course, as the catalog describes it."""

    name: str
    title: str
    files: tuple[str, ...]
    grader: str
    hints: tuple[str, ...]
    timeout: float = DEFAULT_TIMEOUT
    task: int | None = None
    lesson: str | None = None
    run: str | None = None

    @property
    def label(self) -> str:
        """A short label: ``task 5 · ex05_pubsub`` or just the name beyond the original course."""
        return f"task {self.task} · {self.name}" if self.task is not None else self.name


@dataclass
class Catalog:
    """The ordered list of exercises and where they live on disk."""

    root: Path
    exercises: list[Exercise]
    welcome: str = ""
    final: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def exercise_dir(self) -> Path:
        """The folder holding the learner's exercise files."""
        return self.root / "exercises"

    @property
    def solution_dir(self) -> Path:
        """The folder holding the reference solutions (same file names as the exercises)."""
        return self.exercise_dir / "solutions"

    def get(self, name: str) -> Exercise:
        """The exercise called ``name``; also accepts a task number (``5``), a file name or a unique prefix.

        Raises:
            KeyError: with a message listing the known names when nothing (or several things) match.
        """
        wanted = name.strip()
        for ex in self.exercises:
            if wanted == ex.name or wanted in ex.files or wanted.removesuffix(".py") == ex.name:
                return ex
        if wanted.isdigit():
            for ex in self.exercises:
                if ex.task == int(wanted):
                    return ex
        matches = [ex for ex in self.exercises if ex.name.startswith(wanted)
                   or any(Path(f).stem.startswith(wanted) for f in ex.files)]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(ex.name for ex in self.exercises)
        if matches:
            several = ", ".join(m.name for m in matches)
            raise KeyError(f"'{name}' matches several exercises ({several}); be more precise")
        raise KeyError(f"no exercise called '{name}'. Known exercises: {known}")

    def index(self, name: str) -> int:
        """The position of exercise ``name`` in course order."""
        return [ex.name for ex in self.exercises].index(name)

    def paths(self, ex: Exercise, base: Path | None = None) -> list[Path]:
        """The files of ``ex`` inside ``base`` (the learner's exercise folder by default)."""
        folder = base if base is not None else self.exercise_dir
        return [folder / f for f in ex.files]


def find_root(start: Path | None = None) -> Path:
    """The project root: ``$QUEUEKIT_LEARN_ROOT``, else the nearest folder at or above ``start`` (the current
    directory) that holds ``exercises/info.toml``.

    Raises:
        CatalogError: no such folder; the message says where it looked.
    """
    env = os.environ.get(ROOT_ENV)
    if env:
        root = Path(env).resolve()
        if not (root / CATALOG_PATH).is_file():
            raise CatalogError(f"{ROOT_ENV}={env}, but {root / CATALOG_PATH} does not exist")
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CATALOG_PATH).is_file():
            return folder
    raise CatalogError(f"no {CATALOG_PATH} found in {here} or any folder above it: run this command inside the "
                       "queuekit project (the folder that has the exercises/ folder)")


def _text(value: object, where: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: expected a non-empty string")
        return ""
    return value


def load_catalog(root: Path | None = None) -> Catalog:
    """Read ``exercises/info.toml`` under ``root`` (found with :func:`find_root` when None).

    Structural problems that still let the catalog load (missing hints, duplicate names …) are collected in
    ``Catalog.problems`` for ``verify``; a file that is not valid TOML raises :class:`CatalogError`.
    """
    root = find_root() if root is None else Path(root).resolve()
    path = root / CATALOG_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path} is not valid TOML: {exc}") from None
    problems: list[str] = []
    if data.get("format_version") != 1:
        problems.append(f"{CATALOG_PATH}: format_version must be 1")
    exercises: list[Exercise] = []
    for i, entry in enumerate(data.get("exercises", [])):
        where = f"{CATALOG_PATH} exercise #{i + 1}"
        name = _text(entry.get("name"), f"{where} name", problems)
        if name and not _NAME.match(name):
            problems.append(f"{where}: name '{name}' must be lowercase letters, digits and _ (at most 40)")
        where = f"{CATALOG_PATH} [{name or i + 1}]"
        files = entry.get("files", [f"{name}.py"])
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
            problems.append(f"{where}: files must be a non-empty list of file names")
            files = [f"{name}.py"]
        hints = entry.get("hints", [])
        if not isinstance(hints, list) or not all(isinstance(h, str) and h.strip() for h in hints):
            problems.append(f"{where}: hints must be a list of non-empty strings")
            hints = []
        timeout = entry.get("timeout", DEFAULT_TIMEOUT)
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            problems.append(f"{where}: timeout must be a positive number of seconds")
            timeout = DEFAULT_TIMEOUT
        task = entry.get("task")
        if task is not None and not isinstance(task, int):
            problems.append(f"{where}: task must be an integer")
            task = None
        exercises.append(Exercise(
            name=name,
            title=_text(entry.get("title"), f"{where} title", problems),
            files=tuple(files),
            grader=entry.get("grader", f"tests/exercises/test_{name}.py"),
            hints=tuple(hints),
            timeout=float(timeout),
            task=task,
            lesson=entry.get("lesson"),
            run=entry.get("run"),
        ))
    return Catalog(root=root, exercises=exercises, welcome=data.get("welcome", ""), final=data.get("final", ""),
                   problems=problems)


def check_catalog(catalog: Catalog, min_hints: int = 2) -> list[str]:
    """Every consistency problem of ``catalog``: the ones found while loading, plus duplicate names or files,
    files missing from ``exercises/`` or ``exercises/solutions/``, Python files in ``exercises/`` no exercise
    lists, exercises without a ``# TODO``, without a grader, or with fewer than ``min_hints`` hints, and lessons
    that do not exist (when the project has a ``lessons/`` folder)."""
    problems = list(catalog.problems)
    seen_names: set[str] = set()
    seen_files: dict[str, str] = {}
    for ex in catalog.exercises:
        problems += _duplicates(ex, seen_names, seen_files)
        problems += _exercise_problems(catalog, ex, min_hints)
    problems += [f"exercises/{name} is not listed in {CATALOG_PATH}"
                 for name in _strays(catalog.exercise_dir, seen_files)]
    problems += [f"exercises/solutions/{name} belongs to no exercise of the catalog"
                 for name in _strays(catalog.solution_dir, seen_files)]
    if not catalog.exercises:
        problems.append(f"{CATALOG_PATH} lists no exercise")
    return problems


def _duplicates(ex: Exercise, seen_names: set[str], seen_files: dict[str, str]) -> list[str]:
    """The name or files of ``ex`` that an exercise before it already has; records its own in the ``seen`` ones."""
    problems = []
    if ex.name in seen_names:
        problems.append(f"exercise name '{ex.name}' appears twice in the catalog")
    seen_names.add(ex.name)
    for f in ex.files:
        if f in seen_files:
            problems.append(f"file {f} is listed by both {seen_files[f]} and {ex.name}")
        seen_files[f] = ex.name
    return problems


def _exercise_problems(catalog: Catalog, ex: Exercise, min_hints: int) -> list[str]:
    """What is wrong with ``ex`` on its own: missing files or solutions, no ``# TODO``, no grader, no lesson, too
    few hints."""
    missing = [f for f in ex.files if not (catalog.exercise_dir / f).is_file()]
    problems = [f"{ex.name}: exercises/{f} does not exist" for f in missing]
    problems += [f"{ex.name}: no reference solution exercises/solutions/{f}" for f in ex.files
                 if not (catalog.solution_dir / f).is_file()]
    if not missing and not any("# TODO" in (catalog.exercise_dir / f).read_text(encoding="utf-8")
                               for f in ex.files):
        problems.append(f"{ex.name}: none of its files has a '# TODO' marker")
    if not (catalog.root / ex.grader).is_file():
        problems.append(f"{ex.name}: grader {ex.grader} does not exist")
    if ex.lesson and (catalog.root / "lessons").is_dir() and not (catalog.root / ex.lesson).is_file():
        problems.append(f"{ex.name}: its lesson {ex.lesson} does not exist")
    if len(ex.hints) < min_hints:
        problems.append(f"{ex.name}: has {len(ex.hints)} hint(s), at least {min_hints} expected")
    return problems


def _strays(folder: Path, listed: dict[str, str]) -> list[str]:
    """The names of the Python files of ``folder`` (but ``__init__.py``) that are not in ``listed``, sorted."""
    if not folder.is_dir():
        return []
    return [path.name for path in sorted(folder.glob("*.py"))
            if path.name != "__init__.py" and path.name not in listed]
