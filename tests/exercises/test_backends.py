"""The graders' backends: without the real Redis the `redis` cases are skipped, but with CI=true they fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from queuekit.learn.catalog import load_catalog
from queuekit.learn.runner import grade

pytestmark = [pytest.mark.exercises]

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = "redis://127.0.0.1:1/2"  # nothing listens on port 1


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(ROOT)


def test_missing_real_redis_is_skipped_outside_ci(catalog) -> None:
    ex = catalog.get("ex01_redis_client")
    result = grade(catalog, ex, catalog.solution_dir, env={"QUEUEKIT_EXERCISE_REDIS_URL": NOWHERE, "CI": "false"})
    skipped = [t for t in result.tests if t.status == "skip"]
    assert result.status == "pass", result.to_dict()
    assert skipped and all("real Redis not reachable" in (t.message or "") for t in skipped)
    assert all(t.name.endswith("[redis]") for t in skipped)


def test_missing_real_redis_fails_in_ci(catalog) -> None:
    ex = catalog.get("ex01_redis_client")
    result = grade(catalog, ex, catalog.solution_dir, env={"QUEUEKIT_EXERCISE_REDIS_URL": NOWHERE, "CI": "true"})
    failed = [t for t in result.tests if t.status in ("fail", "error")]
    assert result.status == "fail"
    assert failed and all(t.name.endswith("[redis]") for t in failed)
    assert all("CI=true" in (t.message or "") for t in failed)
