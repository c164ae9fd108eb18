"""The kept wrong versions of the exercises: plausible mistakes a grader must catch, every time.

Each exercise has a file ``tests/exercises/wrong/<exercise>.toml``. A wrong version is the reference solution with
one behaviour broken, written as the small changes it makes (so it stays in step with the solution: a change that no
longer applies is reported, not skipped)::

    [[wrong]]
    name = "prefix_only"            # unique within the exercise, [a-z0-9_]
    class = "exact-line"            # one of CLASSES
    why = "prints the line's start only"   # the mistake, as a reviewer would say it
    test = "test_connected_message" # the grader test that must fail (a prefix of its name)
    words = ["Redis client connected to the server"]   # the failure message must contain each
    [[wrong.change]]
    file = "ex01_redis_client.py"
    old = '''    print("Redis client connected to the server")\n'''
    new = '''    print("Redis client connected")  # WRONG: the line is cut short\n'''

The changed text must contain ``# WRONG`` (or ``// WRONG``) where the mistake is.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["CLASSES", "WRONG_DIR", "Change", "WrongVersion", "WrongVersionError", "build", "load_wrong_versions"]

#: Where the wrong versions live, relative to the project root.
WRONG_DIR = Path("tests") / "exercises" / "wrong"

#: The kinds of mistakes the wrong versions stand for (issue 22's classes, plus "behaviour" for the rest).
CLASSES = {
    "exact-line": "an output line checked by its start only, not as the whole line the statement gives",
    "error-path": "an error path never driven: a command that raises, a save that fails, a server that is down",
    "argument-unused": "an argument not used: the data passed in, the queue passed in",
    "ids-from-1": "ids assumed to start at 1 on a server that already holds jobs",
    "sequence": "the end state right but the sequence of events wrong (progress, listeners)",
    "setting": "a setting the statement names not as it says (a concurrency, a job type's exact name)",
    "timing": "a delay missing or a poll too slow; output order that holds only by luck",
    "clean-up": "something started and not stopped: a child process, a subscription, a connection",
    "learner-tests": "the learner's own tests accept a wrong function",
    "atomicity": "a read-then-write where one atomic step is needed",
    "behaviour": "another behaviour of the statement broken",
}
_NAME = re.compile(r"^[a-z0-9_]{1,60}$")


class WrongVersionError(Exception):
    """A wrong-version file that cannot be used as written (the message names the file and the entry)."""


@dataclass(frozen=True)
class Change:
    """Replace ``old`` (found exactly once in the solution's ``file``) with ``new``."""

    file: str
    old: str
    new: str


@dataclass(frozen=True)
class WrongVersion:
    """One kept mistake of ``exercise`` and what its grader must say about it."""

    exercise: str
    name: str
    klass: str
    why: str
    test: str
    words: tuple[str, ...]
    changes: tuple[Change, ...]

    @property
    def label(self) -> str:
        """``exercise/name``."""
        return f"{self.exercise}/{self.name}"


def _entry(exercise: str, where: Path, index: int, raw: dict[str, object]) -> WrongVersion:
    def field(key: str, kind: type) -> object:
        value = raw.get(key)
        if not isinstance(value, kind):
            raise WrongVersionError(f"{where}: wrong version #{index + 1}: '{key}' is missing or not a "
                                    f"{kind.__name__}")
        return value

    name = str(field("name", str))
    if not _NAME.match(name):
        raise WrongVersionError(f"{where}: '{name}': a name is 1 to 60 of a-z 0-9 _")
    klass = str(field("class", str))
    if klass not in CLASSES:
        raise WrongVersionError(f"{where}: {name}: class '{klass}' is none of {sorted(CLASSES)}")
    words = field("words", list)
    raw_changes = field("change", list)
    changes = []
    for change in raw_changes:  # type: ignore[attr-defined]
        if not isinstance(change, dict) or not all(isinstance(change.get(k), str) for k in ("file", "old", "new")):
            raise WrongVersionError(f"{where}: {name}: each [[wrong.change]] needs file, old and new (strings)")
        changes.append(Change(change["file"], change["old"], change["new"]))
    if not changes:
        raise WrongVersionError(f"{where}: {name}: no [[wrong.change]]")
    return WrongVersion(exercise, name, klass, str(field("why", str)), str(field("test", str)),
                        tuple(str(w) for w in words), tuple(changes))  # type: ignore[attr-defined]


def load_wrong_versions(root: Path, exercise: str) -> list[WrongVersion]:
    """The kept wrong versions of ``exercise`` (an empty list when it has none)."""
    where = Path(root) / WRONG_DIR / f"{exercise}.toml"
    if not where.is_file():
        return []
    try:
        data = tomllib.loads(where.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise WrongVersionError(f"{where}: {exc}") from exc
    entries = data.get("wrong", [])
    versions = [_entry(exercise, where, i, raw) for i, raw in enumerate(entries)]
    seen: set[str] = set()
    for version in versions:
        if version.name in seen:
            raise WrongVersionError(f"{where}: the name '{version.name}' is used twice")
        seen.add(version.name)
    return versions


def build(version: WrongVersion, solution_dir: Path, files: tuple[str, ...], target: Path) -> Path:
    """Write the exercise's ``files`` into ``target``: the solutions with ``version``'s changes applied."""
    target.mkdir(parents=True, exist_ok=True)
    texts = {name: (solution_dir / name).read_text(encoding="utf-8") for name in files}
    for change in version.changes:
        if change.file not in texts:
            raise WrongVersionError(f"{version.label}: {change.file} is not a file of {version.exercise}")
        found = texts[change.file].count(change.old)
        if found != 1:
            raise WrongVersionError(f"{version.label}: the text to change occurs {found} times in "
                                    f"solutions/{change.file} (expected once)")
        texts[change.file] = texts[change.file].replace(change.old, change.new)
    if not any("# WRONG" in c.new or "// WRONG" in c.new for c in version.changes):
        raise WrongVersionError(f"{version.label}: mark the mistake with # WRONG in a changed text")
    for name, text in texts.items():
        (target / name).write_text(text, encoding="utf-8")
    return target
