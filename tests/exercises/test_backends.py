"""The graders' backends: the embedded server by default, the real Redis only when asked for; an asked-for Redis
that does not answer skips the `redis` cases, but with CI=true they fail."""

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


def test_embedded_only_unless_a_real_redis_is_asked_for(catalog, monkeypatch) -> None:
    monkeypatch.delenv("QUEUEKIT_EXERCISE_REDIS_URL", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")  # a learner's own server: never used by graders
    result = grade(catalog, catalog.get("ex01_redis_client"), catalog.solution_dir)
    assert result.status == "pass", result.to_dict()
    assert result.backends == ["embedded"] and result.redis_url is None
    assert not any(t.name.endswith("[redis]") for t in result.tests)
    assert any(t.name.endswith("[embedded]") and t.backend == "embedded" for t in result.tests)


def test_a_real_redis_url_must_name_its_database(catalog) -> None:
    result = grade(catalog, catalog.get("ex01_redis_client"), catalog.solution_dir,
                   env={"QUEUEKIT_EXERCISE_REDIS_URL": "redis://127.0.0.1:6379"})
    assert result.status == "error" and "names no database" in (result.message or "")


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
