"""The course itself, through the runner (what `queuekit learn verify` checks, one exercise per test):
every untouched exercise fails its grader, every reference solution passes it on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from queuekit.learn.catalog import check_catalog, load_catalog
from queuekit.learn.runner import grade

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT)

pytestmark = [pytest.mark.exercises, pytest.mark.slow]


def test_catalog_is_consistent() -> None:
    assert check_catalog(CATALOG) == []


@pytest.mark.parametrize("name", [ex.name for ex in CATALOG.exercises])
def test_stub_fails_and_solution_passes(name: str) -> None:
    ex = CATALOG.get(name)
    stub = grade(CATALOG, ex, CATALOG.exercise_dir, stop_first=True)
    assert stub.status != "pass", f"the untouched {name} already passes its grader"
    assert not stub.hanging, f"the untouched {name} hangs its grader: {stub.message}"
    solution = grade(CATALOG, ex, CATALOG.solution_dir)
    first = solution.first_failure
    assert solution.status == "pass", (
        f"the reference solution of {name} fails: {solution.message or ''} "
        f"{(first.name + ': ' + (first.message or '')) if first else ''}")
