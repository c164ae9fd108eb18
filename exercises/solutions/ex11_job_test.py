"""Task 11 — reference solution: tests of create_push_notifications_jobs with queuekit's test mode."""

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
    q.test_mode.enter(process=False)
    yield q
    q.test_mode.clear()
    q.test_mode.exit()


@pytest.fixture(autouse=True)
def clear_after_each_test(queue):
    yield
    queue.test_mode.clear()


def test_display_an_error_message_if_jobs_is_not_an_array(queue) -> None:
    with pytest.raises(Exception) as info:
        create_push_notifications_jobs({"phoneNumber": "4153518780", "message": "hi"}, queue)
    assert str(info.value) == "Jobs is not an array"
    assert queue.test_mode.jobs == []


def test_create_two_new_jobs_to_the_queue(queue, capsys) -> None:
    create_push_notifications_jobs([dict(job) for job in JOBS], queue)
    jobs = queue.test_mode.jobs
    assert len(jobs) == 2
    for job, data in zip(jobs, JOBS):
        assert job.type == "push_notification_code_3"
        assert job.data == data
    assert capsys.readouterr().out.splitlines() == ["Notification job created: 1", "Notification job created: 2"]


def test_empty_list_creates_nothing(queue) -> None:
    assert create_push_notifications_jobs([], queue) == []
    assert queue.test_mode.jobs == []
