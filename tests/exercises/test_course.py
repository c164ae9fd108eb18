"""The course itself, through the runner (what `queuekit learn verify` checks, one exercise per test):
every untouched exercise fails its grader, every reference solution passes it on both backends.

Graders use a real Redis only when asked for: here it is asked for explicitly (database 2 of 127.0.0.1:6379, or
``$QUEUEKIT_EXERCISE_REDIS_URL``); without it the ``redis`` cases are skipped, and with ``CI=true`` they fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from queuekit.learn.catalog import check_catalog, load_catalog
from queuekit.learn.runner import grade

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT)
#: the real Redis the solutions are also graded on (the graders empty this database before each test)
REDIS_URL = os.environ.get("QUEUEKIT_EXERCISE_REDIS_URL") or "redis://127.0.0.1:6379/2"
BOTH = {"QUEUEKIT_EXERCISE_REDIS_URL": REDIS_URL}

pytestmark = [pytest.mark.exercises, pytest.mark.slow]


def test_catalog_is_consistent() -> None:
    assert check_catalog(CATALOG) == []


@pytest.mark.parametrize("name", [ex.name for ex in CATALOG.exercises])
def test_stub_fails_and_solution_passes(name: str) -> None:
    ex = CATALOG.get(name)
    stub = grade(CATALOG, ex, CATALOG.exercise_dir, stop_first=True)
    assert stub.status != "pass", f"the untouched {name} already passes its grader"
    assert not stub.hanging, f"the untouched {name} hangs its grader: {stub.message}"
    solution = grade(CATALOG, ex, CATALOG.solution_dir, env=BOTH)
    first = solution.first_failure
    assert solution.status == "pass", (
        f"the reference solution of {name} fails: {solution.message or ''} "
        f"{(first.name + ': ' + (first.message or '')) if first else ''}")
    if any(t.backend for t in solution.tests):  # the grader uses a server: it ran on both, or says why not
        skipped = [t for t in solution.tests if t.status == "skip"]
        assert solution.backends == ["embedded", "redis"] or all(
            "real Redis not reachable" in (t.message or "") for t in skipped), solution.to_dict()
