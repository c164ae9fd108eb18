"""The learner's progress between runs, kept in ``.queuekit-progress.json`` at the project root (gitignored)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PROGRESS_FILE", "Progress"]

logger = logging.getLogger(__name__)

PROGRESS_FILE = ".queuekit-progress.json"


@dataclass
class Progress:
    """What the learner has done: exercises that passed, the one they are on, how many hints they have seen."""

    path: Path
    current: str | None = None
    passed: list[str] = field(default_factory=list)
    hints_seen: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> Progress:
        """Read the progress file under ``root``; a missing or damaged file means a fresh start."""
        path = Path(root) / PROGRESS_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError):
            logger.warning("ignoring unreadable progress file %s", path)
            return cls(path)
        return cls(path, current=data.get("current"), passed=list(data.get("passed", [])),
                   hints_seen={str(k): int(v) for k, v in dict(data.get("hints_seen", {})).items()})

    def save(self) -> None:
        """Write the file atomically (a crash never leaves half a file)."""
        data = {"_comment": "queuekit learn progress: safe to delete to start over", "format_version": 1,
                "current": self.current, "passed": self.passed, "hints_seen": self.hints_seen}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def mark_passed(self, name: str) -> None:
        """Record that ``name`` passes."""
        if name not in self.passed:
            self.passed.append(name)

    def mark_unpassed(self, name: str) -> None:
        """Forget that ``name`` passed (after a reset)."""
        if name in self.passed:
            self.passed.remove(name)

    def is_passed(self, name: str) -> bool:
        """True when ``name`` passed in an earlier run."""
        return name in self.passed

    def next_hint(self, name: str, total: int) -> int:
        """Reveal one more hint of ``name``: returns its index (0-based), or ``total - 1`` when all were seen."""
        seen = self.hints_seen.get(name, 0)
        index = min(seen, total - 1)
        self.hints_seen[name] = min(seen + 1, total)
        return index
