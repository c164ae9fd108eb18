"""The course graded once per test session, in the background (tests/exercises/test_course.py reads the report).

Grading the whole course is many short processes that mostly wait on the servers and scripts they start; run
alone it would add its whole length to the suite. tests/conftest.py starts it as soon as collection is done, when
the session holds course tests, and moves those tests to the end of the run: by then it has finished alongside
the rest of the suite."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from queuekit.learn.catalog import load_catalog
from queuekit.learn.verify import VerifyReport, verify

ROOT = Path(__file__).resolve().parents[1]
CATALOG = load_catalog(ROOT)
#: runs of each check (`queuekit learn verify` makes it 3)
REPEAT = int(os.environ.get("QUEUEKIT_VERIFY_REPEAT", "1"))
#: grading runs at a time, next to the rest of the suite
JOBS = int(os.environ.get("QUEUEKIT_VERIFY_JOBS", "2"))
#: the real Redis the solutions are also graded on (the graders empty this database before each test)
REDIS_URL = os.environ.get("QUEUEKIT_EXERCISE_REDIS_URL") or "redis://127.0.0.1:6379/2"

_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="course-verify")
_report: Future[VerifyReport] | None = None


def start() -> None:
    """Start grading the course (once per session)."""
    global _report
    if _report is None:
        _report = _pool.submit(verify, CATALOG, jobs=JOBS, repeat=REPEAT,
                               solution_env={"QUEUEKIT_EXERCISE_REDIS_URL": REDIS_URL})


def report() -> VerifyReport:
    """The course's verify report, once it is done."""
    start()
    assert _report is not None
    return _report.result()
