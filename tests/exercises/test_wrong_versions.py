"""Every grader fails a deliberately wrong version of its exercise, with a message that says what is wrong.

Each wrong submission is the reference solution with one small change (``wrong_versions.py``; ``# WRONG`` marks
the mistake), written to a temporary folder. The grader runs in a subprocess through the runner, exactly as `queuekit learn` would run it, on the embedded
backend (the real-Redis runs of each grader are covered by the graders' own tests).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from queuekit.learn.catalog import load_catalog
from queuekit.learn.runner import grade

from wrong_versions import MUTATIONS, build_wrong_version  # tests/exercises is on sys.path (conftest)

pytestmark = [pytest.mark.exercises, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

# (wrong version in MUTATIONS, exercise, failing test (prefix), words the failure message must contain)
CASES = [
    ("ex00_wrong_key", "ex00_server", "test_seed_sets_holberton_to_school", ["get Holberton", "'School'"]),
    ("ex01_wrong_message", "ex01_redis_client", "test_connected_message",
     ["Redis client connected to the server", "Redis client connected to server"]),
    ("ex02_no_reply", "ex02_redis_op", "test_set_new_school_sets_and_prints_reply", ["Reply: OK", "redis_print"]),
    ("ex03_missing_await", "ex03_redis_op_async", "test_display_school_value_awaits_get",
     ["coroutine", "await"]),
    ("ex04_one_hset", "ex04_redis_advanced_op", "test_create_hash_prints_one_reply_per_hset",
     ["Reply: 1", "Reply: 6", "One HSET per school"]),
    ("ex05_ignores_kill_server", "ex05_pubsub", "test_handle_message", ["KILL_SERVER", "expected True"]),
    ("ex05_ignores_kill_server", "ex05_pubsub", "test_subscriber_and_publisher_processes",
     ["still running", "KILL_SERVER", "unsubscribe"]),
    ("ex06_wrong_queue_name", "ex06_job_creator", "test_creates_and_saves_the_job",
     ["push_notification_code", "type='push_notification'"]),
    ("ex07_wrong_job_type", "ex07_job_processor", "test_processor_process_drains_then_follows",
     ["printed nothing", "push_notification_code"]),
    ("ex08_no_progress", "ex08_job_creator", "test_listeners_print_progress_and_outcome",
     ["0% complete", "listener is missing"]),
    ("ex08_late_binding", "ex08_job_creator", "test_listeners_print_progress_and_outcome",
     ["same job (#4)", "job=job"]),
    ("ex09_no_blacklist", "ex09_job_processor", "test_blacklisted_number_fails_the_job",
     ["done(Exception(...))", "blacklisted"]),
    ("ex09_one_at_a_time", "ex09_job_processor", "test_processor_process", ["two at a time", "concurrency=2"]),
    ("ex10_no_validation", "ex10_job", "test_not_a_list_is_refused", ["raised nothing", "Jobs is not an array"]),
    ("ex11_length_only", "ex11_job_test", "test_your_tests_catch_a_wrong_function",
     ["passed against a wrong create_push_notifications_jobs", "Add a check"]),
    ("ex12_racy_reservation", "ex12_stock", "test_no_oversell_under_concurrency",
     ["expected exactly 4 confirmed", "atomic"]),
    ("ex12_int_path", "ex12_stock", "test_routes_over_http", ["/list_products/abc", "Product not found"]),
    ("ex13_racy_seats", "ex13_seat", "test_never_more_than_50_seats", ["more than the 50 seats", "DECR"]),
    ("ex14_no_retries", "ex14_retries", "test_send_with_retries_sets_attempts_and_backoff", ["expected 3"]),
    ("ex14_no_retries", "ex14_retries", "test_retries_until_it_succeeds", ["failed for good after 1 attempt"]),
    ("ex15_no_restart", "ex15_worker_pool", "test_pool_survives_a_killed_worker",
     ["was killed", "did not print", "restarting"]),
    ("ex16_title_without_user", "ex16_registry_app", "test_title", ["Import 3 contacts for ada"]),
]


_graded: dict = {}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(ROOT)


@pytest.mark.parametrize("folder, exercise, test_name, words", CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_grader_fails_the_wrong_version(catalog, tmp_path_factory, folder: str, exercise: str, test_name: str,
                                        words: list[str]) -> None:
    ex = catalog.get(exercise)
    key = (folder, exercise)
    if key not in _graded:  # several cases share one wrong version: grade it once
        where = build_wrong_version(folder, list(ex.files), tmp_path_factory.mktemp("wrong") / folder)
        _graded[key] = grade(catalog, ex, where, env={"QUEUEKIT_EXERCISE_BACKENDS": "embedded"})
    result = _graded[key]
    assert result.status == "fail", f"the grader of {exercise} did not fail wrong/{folder}: {result.to_dict()}"
    failing = [t for t in result.tests if t.name.startswith(test_name) and t.status in ("fail", "error")]
    assert failing, (f"expected {test_name} to fail on wrong/{folder}; failing tests: "
                     f"{[t.name for t in result.tests if t.status != 'pass']}")
    message = failing[0].message or ""
    missing = [w for w in words if w not in message]
    assert not missing, f"the failure message lacks {missing}; it reads:\n{message}"


def test_every_wrong_version_is_graded() -> None:
    assert {case[0] for case in CASES} == set(MUTATIONS)
