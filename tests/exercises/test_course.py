"""The course itself, through the runner, one exercise per test: what `queuekit learn verify` checks. The untouched
exercise fails its grader, the reference solution passes it on both backends, and every kept wrong version
(tests/exercises/wrong/<exercise>.toml) fails it at the expected test with the expected words (on the embedded
server: the mistake, not the server, is what a wrong version exercises).

Graders use a real Redis only when asked for: here the solutions' runs ask for it explicitly (database 2 of
127.0.0.1:6379, or ``$QUEUEKIT_EXERCISE_REDIS_URL``); without it the ``redis`` cases are skipped, and with
``CI=true`` they fail. The suite runs each check once (``QUEUEKIT_VERIFY_REPEAT`` raises it); `queuekit learn
verify` runs each three times and requires the same verdict every time."""

from __future__ import annotations

from pathlib import Path

import course_run  # tests/ is on sys.path (tests/conftest.py)
import pytest

from queuekit.learn.catalog import check_catalog, load_catalog
from queuekit.learn.verify import VerifyReport
from queuekit.learn.wrong import load_wrong_versions

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT)
#: every exercise keeps at least this many wrong versions (issue 22)
MIN_WRONG_VERSIONS = 10

# the whole course is graded once, in the first test's setup: far longer than the suite's per-test default
pytestmark = [pytest.mark.exercises, pytest.mark.slow, pytest.mark.timeout(1800)]


def test_catalog_is_consistent() -> None:
    assert check_catalog(CATALOG) == []


@pytest.fixture(scope="module")
def course() -> VerifyReport:
    """The whole course verified once per session, in the background while the rest of the suite runs
    (tests/course_run.py; tests/conftest.py starts it and runs this module last)."""
    return course_run.report()


@pytest.mark.parametrize("name", [ex.name for ex in CATALOG.exercises])
def test_stub_fails_solution_passes_and_every_wrong_version_is_caught(course: VerifyReport, name: str) -> None:
    assert course.problems_of(name) == [], "\n".join(course.problems_of(name))
    assert course.wrong_graded.get(name, 0) == len(load_wrong_versions(ROOT, name))
    # a grader whose checks take the shared server (the server_url fixture) ran the solution on both backends; the
    # others test one on purpose (ex00 starts the embedded server itself)
    if "server_url" in (ROOT / CATALOG.get(name).grader).read_text(encoding="utf-8"):
        assert course.solution_backends[name] == ["embedded", "redis"], (
            f"the solution of {name} ran on {course.solution_backends[name]}")


def test_the_course_as_a_whole_has_no_problem(course: VerifyReport) -> None:
    assert course.ok, "\n".join(course.problems)


@pytest.mark.parametrize("name", [ex.name for ex in CATALOG.exercises])
def test_every_exercise_keeps_enough_wrong_versions(name: str) -> None:
    kept = load_wrong_versions(ROOT, name)
    assert len(kept) >= MIN_WRONG_VERSIONS, f"{name} keeps {len(kept)} wrong versions; at least " \
                                            f"{MIN_WRONG_VERSIONS} are wanted"
