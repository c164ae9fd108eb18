"""Task 11 — Writing the tests for job creation.

This time you write the tests: pytest tests of `create_push_notifications_jobs` from task 10
(`exercises/ex10_job.py`). Use queuekit's test mode, as Kue's `queue.testMode`:

- `queue.test_mode.enter(process=False)`: from now on saved jobs are not stored nor processed; they are
  captured in `queue.test_mode.jobs` (each has `.type`, `.data` and an `.id` "1", "2", ...);
- `queue.test_mode.clear()`: forget the captured jobs (ids start at 1 again);
- `queue.test_mode.exit()`: back to normal.

Requirements:

- enter the test mode **without processing** before the tests run (the fixture `queue` below);
- clear the captured jobs after each test (no test may see the jobs of the one before), and clear and exit the
  test mode after all of them;
- test at least: a value that is not a list raises an error whose message is exactly `Jobs is not an array`; two
  jobs (the first two of task 8's list) are created: exactly two, with the type `push_notification_code_3` and
  exactly the data given, in the order given.

Your tests are graded by *mutation*: they must pass against a correct `create_push_notifications_jobs`, and fail
against each of several wrong ones (no validation, a wrong error message, a longer error message, a wrong job
type, altered data, the last job's data altered, a job missing, a job too many, the jobs in reverse order, jobs
never saved). Whatever a wrong version gets wrong, one of your tests must notice: compare whole values (`==`), not
their start, and check every job at its position, not only the first or a sorted list.

Run them (they use your exercises/ex10_job.py):

    pytest exercises/ex11_job_test.py -v

Expected: every test passes, for instance

    exercises/ex11_job_test.py::test_display_an_error_message_if_jobs_is_not_an_array PASSED
    exercises/ex11_job_test.py::test_create_two_new_jobs_to_the_queue PASSED
"""

from __future__ import annotations

import pytest

from ex10_job import create_push_notifications_jobs
from queuekit import Queue

JOBS = [
    {"phoneNumber": "4153518780", "message": "This is the code 1234 to verify your account"},
    {"phoneNumber": "4153518781", "message": "This is the code 4562 to verify your account"},
]


@pytest.fixture(scope="module")
def queue():
    """A queue in test mode for the whole module."""
    q = Queue()
    # TODO: enter the test mode without processing, so saved jobs are captured instead of stored or run
    yield q
    # TODO: leave nothing behind for the tests that run after this module: clear, then exit the test mode


@pytest.fixture(autouse=True)
def clear_after_each_test(queue):
    yield
    # TODO: after each test, forget what it captured, so the next test starts from no job


def test_display_an_error_message_if_jobs_is_not_an_array(queue) -> None:
    # TODO: pass a dict (not a list) and check that the error raised carries exactly the statement's message
    raise NotImplementedError("write this test")


def test_create_two_new_jobs_to_the_queue(queue) -> None:
    # TODO: create the two JOBS, then check the captured jobs so that any wrong count, type, data or order fails
    raise NotImplementedError("write this test")
