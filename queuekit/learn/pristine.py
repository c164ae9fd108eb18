"""Pristine copies of the exercise stubs, for ``reset``: from git when the project is a clone, else from a
snapshot the runner takes the first time it starts."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from pathlib import Path

from .catalog import Catalog, Exercise

__all__ = ["SNAPSHOT_DIR", "pristine_text", "reset", "snapshot"]

logger = logging.getLogger(__name__)

#: Where the first-run snapshot and the backups of reset files go (under the project root; gitignored).
SNAPSHOT_DIR = Path(".queuekit") / "pristine"
BACKUP_DIR = Path(".queuekit") / "backup"


def _from_git(root: Path, relative: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), "show", f"HEAD:{relative}"], capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def pristine_text(catalog: Catalog, file_name: str) -> str | None:
    """The original text of ``exercises/<file_name>``: git's HEAD version, else the first-run snapshot, else None."""
    text = _from_git(catalog.root, f"exercises/{file_name}")
    if text is not None:
        return text
    copy = catalog.root / SNAPSHOT_DIR / file_name
    return copy.read_text(encoding="utf-8") if copy.is_file() else None


def snapshot(catalog: Catalog) -> None:
    """Copy every exercise file not yet in the snapshot (called when the runner starts)."""
    target = catalog.root / SNAPSHOT_DIR
    for ex in catalog.exercises:
        for f in ex.files:
            src, dst = catalog.exercise_dir / f, target / f
            if src.is_file() and not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)


def reset(catalog: Catalog, exercise: Exercise) -> list[str]:
    """Restore the stub files of ``exercise``; the learner's version is first copied to ``.queuekit/backup/``.

    Returns one line per file saying what happened.

    Raises:
        FileNotFoundError: no pristine copy exists for one of the files (nothing is changed then).
    """
    texts: dict[str, str] = {}
    for f in exercise.files:
        text = pristine_text(catalog, f)
        if text is None:
            raise FileNotFoundError(f"no pristine copy of exercises/{f}: not in git and no snapshot in "
                                    f"{SNAPSHOT_DIR}")
        texts[f] = text
    lines = []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for f, text in texts.items():
        path = catalog.exercise_dir / f
        if path.is_file():
            if path.read_text(encoding="utf-8") == text:
                lines.append(f"exercises/{f} is already untouched")
                continue
            backup = catalog.root / BACKUP_DIR / f"{Path(f).stem}.{stamp}{Path(f).suffix}"
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, backup)
            lines.append(f"exercises/{f} restored (your version is saved as {backup.relative_to(catalog.root)})")
        else:
            lines.append(f"exercises/{f} restored")
        path.write_text(text, encoding="utf-8")
    return lines
