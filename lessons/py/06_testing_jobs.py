# ---
# jupyter:
#   jupytext:
#     formats: lessons///ipynb,lessons/py///py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 06 · Testing jobs
#
# How do you test code that creates jobs? Running real workers in every test is slow, and a test that sends real
# SMS messages is worse. Task 11 of the course writes tests for `create_push_notifications_jobs` (task 10) with
# Kue's **test mode**: jobs are *captured* instead of stored, so a test can look at them and nothing runs.
#
# queuekit offers three tools, from the lightest to the most complete:
#
# 1. **test mode** (`queue.test_mode`): capture the jobs a function creates; check their type and data;
# 2. **eager mode** (`queuekit.testing.eager`): run each job right away, inside `add()`, to test handlers and
#    creators together without threads;
# 3. **pytest fixtures** (`qk_queue`, `qk_worker`): a fresh, empty server for each test, and real workers that
#    are stopped for you afterwards.

# %%
from queuekit import JobState, Queue

queue = Queue("lesson06")
queue.obliterate()

JOBS = [
    {"phoneNumber": "4153518780", "message": "This is the code 1234 to verify your account"},
    {"phoneNumber": "4153518781", "message": "This is the code 4562 to verify your account"},
]
messages = []   # what the listeners would print


def create_push_notifications_jobs(jobs, queue):
    """Task 10, as written in lesson 05."""
    if not isinstance(jobs, list):
        raise TypeError("Jobs is not an array")
    created = []
    for data in jobs:
        job = queue.create("push_notification_code_3", data)
        job.on("complete", lambda result, job=job: messages.append(f"Notification job #{job.id} completed"))
        job.save()
        print(f"Notification job created: {job.id}")
        created.append(job)
    return created

# %% [markdown]
# ## 1. Test mode: capture, check, clear, exit
#
# `queue.test_mode.enter()` starts capturing: from then on `save()` puts each job in the list
# `queue.test_mode.jobs` instead of Redis. Captured jobs get ids `"1"`, `"2"`, … as in Kue: the test mode counts
# them itself, apart from the queue's counter in Redis, so a creator that prints `job.id` after the save prints
# `Notification job created: 1` and `2` here whatever the server holds (task 10's grader checks it). `clear()`
# empties the list (and counts from 1 again); `exit()` goes back to normal. The task's requirements: enter *without processing*
# before the tests, clear after each test, clear and exit at the end.

# %%
queue.test_mode.enter()          # process=False: captured, neither stored nor processed

created = create_push_notifications_jobs(JOBS, queue)
captured = queue.test_mode.jobs
assert len(captured) == 2
assert [job.type for job in captured] == ["push_notification_code_3"] * 2
assert [job.data for job in captured] == JOBS           # exactly the data given, in order
assert [job.id for job in captured] == ["1", "2"]
assert queue.counts()["inactive"] == 0                  # nothing reached Redis

queue.test_mode.clear()
assert queue.test_mode.jobs == []

# %% [markdown]
# Testing the error case: the function must refuse a value that is not a list, with the exact message. The
# standard way to check that code raises is `pytest.raises`; here, a plain `try` shows the idea.

# %%
try:
    create_push_notifications_jobs({"phoneNumber": "4153518780"}, queue)
except TypeError as error:
    assert str(error) == "Jobs is not an array"
else:
    raise AssertionError("no error raised")
assert queue.test_mode.jobs == []           # and nothing was created

queue.test_mode.clear()
queue.test_mode.exit()                      # back to normal: saves go to Redis again

# %% [markdown]
# ### A good test notices every mistake
#
# The exercise of task 11 is graded by **mutation**: your tests run against the correct function and against
# several wrong ones (no validation, a wrong job type, altered data, a job missing…). They must pass on the first
# and fail on every other. Let us do the same by hand: write the checks as functions, and run them against a
# correct version and a subtly wrong one.

# %%
def check_two_jobs(create):
    queue.test_mode.enter()
    try:
        create(JOBS, queue)
        jobs = queue.test_mode.jobs
        assert [(j.type, j.data) for j in jobs] == [("push_notification_code_3", d) for d in JOBS]
    finally:
        queue.test_mode.clear()
        queue.test_mode.exit()


def wrong_type(jobs, queue):       # a mutant: one character off in the job type
    return [queue.create("push_notification_code_2", data).save() for data in jobs]


check_two_jobs(create_push_notifications_jobs)      # the correct version passes
try:
    check_two_jobs(wrong_type)
    caught = False
except AssertionError:
    caught = True
assert caught, "the check must fail against the mutant"
print("the check passes on the correct function and catches the mutant")

# %% [markdown]
# ## 2. Eager mode: run jobs inline
#
# Test mode checks what was *created*. To test what a job *does*, you could start a worker and wait, but then your
# test deals with threads and timing. **Eager mode** is simpler: inside `with eager(queue, handlers):` every job is
# run by the handler before `add()` returns, and the job object already holds its final state and result.
# Retries run at once too: no waiting for backoff.

# %%
from queuekit.testing import eager


def send(job):
    if job.data["phoneNumber"] in ("4153518780",):
        raise ValueError(f"Phone number {job.data['phoneNumber']} is blacklisted")
    return f"sent to {job.data['phoneNumber']}"


with eager(queue, {"push_notification_code_3": send}):
    ok = queue.add("push_notification_code_3", JOBS[1])
    refused = queue.add("push_notification_code_3", JOBS[0])

assert ok.state == JobState.COMPLETE and ok.result == "sent to 4153518781"
assert refused.state == JobState.FAILED and refused.error == "Phone number 4153518780 is blacklisted"

# %%
tries = []


def flaky(job):
    tries.append(1)
    if len(tries) < 3:
        raise ConnectionError("gateway busy")
    return "finally sent"


with eager(queue, {"flaky": flaky}):
    job = queue.add("flaky", {}, attempts=3, backoff=60_000)   # a one-minute backoff... skipped in eager mode
assert job.state == JobState.COMPLETE and job.result == "finally sent" and len(tries) == 3
queue.obliterate();

# %% [markdown]
# ## 3. pytest fixtures: a fresh server per test
#
# In a real project your tests live in files and run with `pytest`. Installing queuekit gives pytest three
# fixtures (a *fixture* is something a test receives by naming it as a parameter):
#
# * `qk_server`: a new, empty embedded server for this test only (so tests never see each other's jobs);
# * `qk_queue`: a `Queue` on it;
# * `qk_worker(handlers, **options)`: starts a worker on `qk_queue`, stopped automatically after the test.
#
# We write a small test file and run pytest on it, as you would in a terminal.

# %%
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TESTS = '''
from queuekit import JobState


def test_jobs_are_created_in_test_mode(qk_queue):
    qk_queue.test_mode.enter()
    qk_queue.add("push_notification_code_3", {"phoneNumber": "4153518780"})
    assert [job.type for job in qk_queue.test_mode.jobs] == ["push_notification_code_3"]


def test_a_worker_sends_the_notification(qk_queue, qk_worker):
    qk_worker({"push_notification_code_3": lambda job: "sent to " + job.data["phoneNumber"]})
    job = qk_queue.add("push_notification_code_3", {"phoneNumber": "4153518781"})
    assert job.wait(timeout=10) == "sent to 4153518781"
    assert qk_queue.get_job(job.id).state == JobState.COMPLETE


def test_every_test_gets_an_empty_server(qk_queue):
    assert qk_queue.counts()["complete"] == 0
'''
folder = Path(tempfile.mkdtemp(prefix="lesson06-"))
(folder / "test_notifications.py").write_text(TESTS)
env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}   # the fixtures use the embedded server anyway
run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_notifications.py"],
                     cwd=folder, env=env, capture_output=True, text=True, timeout=120)
print(run.stdout[-1500:])
assert run.returncode == 0, run.stdout + run.stderr
assert "3 passed" in run.stdout

# %% [markdown]
# ## Grade an exercise here
#
# Task 10 is `ex10_job` (the function), task 11 `ex11_job_test` (your tests of it, graded by mutation).

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex10_job")
assert result.status in ("pass", "fail", "error")
results_table(result)

# %% [markdown]
# ## Your exercises
#
# * **`exercises/ex10_job.py`** (task 10): `create_push_notifications_jobs(jobs, queue)`.
# * **`exercises/ex11_job_test.py`** (task 11): the tests, with the test mode entered before and cleared and exited
#   after. Run them with `pytest exercises/ex11_job_test.py -v`, grade them with `queuekit learn check ex11_job_test`.
#
# Next lesson: a web app on Redis.
