"""Grading results in an Exercism-v3-like shape: one :class:`ExerciseResult` holding :class:`TestResult` s in
file order."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["BACKEND_ORDER", "ERROR", "FAIL", "OUTPUT_LIMIT", "PASS", "SKIP", "ExerciseResult", "TestResult"]

PASS, FAIL, ERROR, SKIP = "pass", "fail", "error", "skip"
#: The learner's output kept per test, in characters (Exercism keeps 500; multi-process output needs a bit more).
OUTPUT_LIMIT = 2000
#: The graders' servers, in the order they are reported.
BACKEND_ORDER = ("embedded", "redis")


def truncate(text: str | None, limit: int = OUTPUT_LIMIT) -> str | None:
    """``text`` cut to ``limit`` characters with a notice, or None when empty."""
    if not text:
        return None
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[output truncated: {len(text) - limit} more characters]"


@dataclass
class TestResult:
    """One grader test: ``status`` is pass, fail, error (it crashed or hung) or skip."""

    name: str
    status: str
    message: str | None = None
    output: str | None = None
    test_code: str | None = None
    task_id: int | None = None
    duration: float = 0.0
    #: the server the test ran on: ``embedded`` or ``redis`` (None when it used none)
    backend: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the test result."""
        return asdict(self)


@dataclass
class ExerciseResult:
    """The outcome of grading one exercise.

    ``status``: ``pass`` (every test that ran passed), ``fail`` (some test failed or hung), ``error`` (no test could
    run: a syntax error, a missing file, a grader that could not start). ``hanging`` is True when the run was
    stopped at the exercise's time limit.
    """

    name: str
    status: str
    message: str | None = None
    tests: list[TestResult] = field(default_factory=list)
    hanging: bool = False
    duration: float = 0.0
    #: the real Redis the graders were asked to use too (None: the embedded server only)
    redis_url: str | None = None

    @property
    def backends(self) -> list[str]:
        """The servers the tests that ran (passed or failed, not skipped) used: ``embedded``, ``redis``."""
        ran = {t.backend for t in self.tests if t.backend and t.status != SKIP}
        return [b for b in BACKEND_ORDER if b in ran] + sorted(ran - set(BACKEND_ORDER))

    @property
    def skipped_backends(self) -> list[str]:
        """Servers every test of which was skipped (the real Redis asked for but not reachable, for example)."""
        seen = {t.backend for t in self.tests if t.backend}
        return [b for b in BACKEND_ORDER if b in seen and b not in self.backends]

    @property
    def passed(self) -> bool:
        """True when the exercise passes."""
        return self.status == PASS

    def count(self, status: str) -> int:
        """How many tests ended with ``status``."""
        return sum(1 for t in self.tests if t.status == status)

    @property
    def first_failure(self) -> TestResult | None:
        """The first test, in file order, that did not pass (what a learner should look at first)."""
        return next((t for t in self.tests if t.status in (FAIL, ERROR)), None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``version`` 3 like Exercism's results.json, plus ``name``, ``hanging`` and counts)."""
        return {
            "version": 3,
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "hanging": self.hanging,
            "duration": round(self.duration, 3),
            "backends": self.backends,
            "redis_url": self.redis_url,
            "counts": {s: self.count(s) for s in (PASS, FAIL, ERROR, SKIP)},
            "tests": [t.to_dict() for t in self.tests],
        }

    def _repr_html_(self) -> str:
        """A table of the tests for a notebook: name, status, message."""
        colour = {PASS: "#2e7d32", FAIL: "#c62828", ERROR: "#c62828", SKIP: "#757575"}
        rows = "".join(
            f"<tr><td>{html.escape(t.name)}</td><td style='color:{colour.get(t.status, '#000')}'>{t.status}</td>"
            f"<td><pre style='margin:0;white-space:pre-wrap'>{html.escape(t.message or '')}</pre></td></tr>"
            for t in self.tests)
        head = (f"<b>{html.escape(self.name)}</b>: <span style='color:{colour.get(self.status, '#000')}'>"
                f"{self.status}</span> ({self.count(PASS)}/{len(self.tests)} tests pass)")
        note = f"<pre>{html.escape(self.message)}</pre>" if self.message else ""
        return f"<div>{head}{note}<table><tr><th>test</th><th>status</th><th>message</th></tr>{rows}</table></div>"

    def __str__(self) -> str:
        first = self.first_failure
        text = f"{self.name}: {self.status} ({self.count(PASS)}/{len(self.tests)} tests pass)"
        if first is not None:
            text += f"\n{first.name}: {first.message}"
        elif self.message:
            text += f"\n{self.message}"
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExerciseResult:
        """Rebuild a result from :meth:`to_dict` output."""
        tests = [TestResult(**{k: v for k, v in t.items() if k in TestResult.__dataclass_fields__})
                 for t in data.get("tests", [])]
        return cls(name=data.get("name", ""), status=data["status"], message=data.get("message"), tests=tests,
                   hanging=bool(data.get("hanging")), duration=float(data.get("duration", 0.0)),
                   redis_url=data.get("redis_url"))
