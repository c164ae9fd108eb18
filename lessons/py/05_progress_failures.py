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
# # Lesson 05 · Progress and failures
#
# A real job takes time and sometimes goes wrong. The program that created it wants to know how far it got and,
# when it fails, why. This lesson covers tasks 8, 9 and 10 of the course:
#
# * **task 8**, the creator: 11 notification jobs, each with listeners that report *progress*, *completion* and
#   *failure* (`Notification job #3 50% complete`, `Notification job #1 failed: Phone number 4153518780 is
#   blacklisted`);
# * **task 9**, the processor: it reports progress, refuses blacklisted phone numbers, and runs **two jobs at a time**;
# * **task 10**: the creation wrapped in a reusable function, `create_push_notifications_jobs(jobs, queue)`, that
#   refuses anything but a list.
#
# You will also watch a queue live in the notebook and draw a timeline of what the worker did.

# %%
import time

from queuekit import JobState, Queue

queue = Queue("lesson05")
queue.obliterate()
JOB_TYPE = "push_notification_code_2"

JOBS = [
    {"phoneNumber": "4153518780", "message": "This is the code 1234 to verify your account"},
    {"phoneNumber": "4153518781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153518743", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4153538781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153118782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4153718781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4159518782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4158718781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153818782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4154318781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4151218782", "message": "This is the code 4321 to verify your account"},
]


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.02)

# %% [markdown]
# ## 1. The creator: listeners for progress, completion and failure (task 8)
#
# A job emits **events** while it lives; the ones we need:
#
# | event | the listener receives | the course prints |
# |---|---|---|
# | `progress` | the percentage (and optional data) | `Notification job #ID PERCENT% complete` |
# | `complete` | the handler's result | `Notification job #ID completed` |
# | `failed` | the error message | `Notification job #ID failed: ERROR` |
#
# The events are published by Redis (pub/sub, lesson 03) the moment the worker reports them, so the creator hears
# about them even when the worker is another program on another machine.
#
# The ids come from the queue's counter in Redis (lesson 04): here they are 1 to 11 because `obliterate()` above
# emptied the queue, counter included. In the exercise, on a server that already holds jobs, they go on from there
# (the original course shows #39 to #49): always print `job.id`.
#
# ⚠ A classic trap: a `lambda` created in a loop sees the loop variable's **last** value when it finally runs, long
# after the loop ended. Every listener would then talk about job #11. We avoid it by creating each job in a small
# function, so each listener has its own `job`.

# %%
lines = []          # what the creator's listeners report (they run on a background thread: no print there)


def create_job(data):
    job = queue.create(JOB_TYPE, data)
    job.on("progress", lambda percent, extra: lines.append(f"Notification job #{job.id} {percent}% complete"))
    job.on("complete", lambda result: lines.append(f"Notification job #{job.id} completed"))
    job.on("failed", lambda error: lines.append(f"Notification job #{job.id} failed: {error}"))
    job.save()
    print(f"Notification job created: {job.id}")
    return job


jobs = [create_job(data) for data in JOBS]
assert [job.id for job in jobs] == [str(n) for n in range(1, 12)]   # 1 to 11: obliterate() emptied the queue
assert queue.counts()["inactive"] == 11

# %% [markdown]
# ## 2. The processor: progress, a blacklist, two at a time (task 9)
#
# `send_notification(phone_number, message, job, done)` follows Kue's style: the handler receives a `done`
# function. `done()` completes the job; `done(error)` fails it with that error's message. (A plain Python handler
# can also just return, or raise an exception: queuekit accepts both styles.)
#
# `job.progress(done, total)` stores `done * 100 / total` percent and announces it. `concurrency=2` lets the worker
# run two jobs at the same time. We slow each job down a little (0.1 s) so that there is something to watch.

# %%
BLACKLISTED = ["4153518780", "4153518781"]
sent = []


def send_notification(phone_number, message, job, done):
    job.progress(0, 100)
    if phone_number in BLACKLISTED:
        done(Exception(f"Phone number {phone_number} is blacklisted"))
        return
    job.progress(50, 100)
    time.sleep(0.1)                     # the SMS gateway takes its time
    sent.append(f"Sending notification to {phone_number}, with message: {message}")
    done()


def handle_job(job, done):
    send_notification(job.data["phoneNumber"], job.data["message"], job, done)

# %% [markdown]
# ### Watch it live
#
# `queue.watch()` shows the queue's counts and the progress of running jobs, refreshed in place until the queue
# is idle. It runs in the cell (the foreground), while the worker works in the background.

# %%
worker = queue.process(JOB_TYPE, handle_job, concurrency=2)
final = queue.watch(interval=0.1)
worker.stop()
assert final["complete"] == 9 and final["failed"] == 2

# %% [markdown]
# ### What the creator heard
#
# Two jobs ran at a time, so the lines of two jobs interleave, and the exact interleaving changes from run to run.
# What never changes is the story of each job: created, 0%, then either *failed* (blacklisted), or 50% and
# *completed*. Nor does this: never more than two jobs are under way (0% heard, no end yet). The worker takes a
# third job only once one of its two has ended and Redis has recorded it, so `#5 0% complete` may come between
# `#3 completed` and `#4 completed`, but never before both.

# %%
wait_until(lambda: sum("completed" in x or "failed" in x for x in lines) == 11)   # the last events may lag
print("\n".join(lines))


def story(job_id):
    return [x.split(f"#{job_id} ", 1)[1] for x in lines if f"#{job_id} " in x]


assert story(1) == ["0% complete", "failed: Phone number 4153518780 is blacklisted"]
assert story(2) == ["0% complete", "failed: Phone number 4153518781 is blacklisted"]
for job_id in range(3, 12):
    assert story(job_id) == ["0% complete", "50% complete", "completed"], story(job_id)
assert len(sent) == 9 and not any(number in line for line in sent for number in BLACKLISTED)

under_way, most = set(), 0
for line in lines:
    job_id = line.split()[2].lstrip("#")
    if line.endswith(" 0% complete"):
        under_way.add(job_id)
    elif line.endswith(" completed") or " failed: " in line:
        under_way.discard(job_id)
    most = max(most, len(under_way))
assert most <= 2, most

# %% [markdown]
# A failed job keeps its error, and its history of attempts (lesson 10 adds retries). Its table shows it in red:

# %%
failed = queue.get_job("1")
assert failed.state == JobState.FAILED
assert failed.error == "Phone number 4153518780 is blacklisted"
assert failed.failed_attempts[0]["error"] == failed.error
failed

# %% [markdown]
# ### A timeline of the run
#
# `queuekit.learn.views.timeline` draws one line per job: grey while it waited, coloured while it ran (green: completed,
# red: failed). With `concurrency=2` you can see that at most two jobs ever ran at the same moment.

# %%
from queuekit.learn.views import timeline

finished = [queue.get_job(job.id) for job in jobs]
timeline(finished)

# %%
spans = [(j.started_at, j.finished_at) for j in finished]
most_at_once = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
assert most_at_once <= 2

# %% [markdown]
# ## 3. A reusable creator: `create_push_notifications_jobs(jobs, queue)` (task 10)
#
# Task 10 packs the creator into a function that any program can call with its own list and queue, for the
# type `push_notification_code_3`. A function used by others should **check its input** and fail clearly: if
# `jobs` is not a list it raises an error with the message `Jobs is not an array` (the original's words: in
# JavaScript a list is an "array").

# %%
def create_push_notifications_jobs(jobs, queue):
    if not isinstance(jobs, list):
        raise TypeError("Jobs is not an array")
    created = []
    for data in jobs:
        job = queue.create("push_notification_code_3", data)
        job.on("complete", lambda result, job=job: lines.append(f"Notification job #{job.id} completed"))
        job.on("failed", lambda error, job=job: lines.append(f"Notification job #{job.id} failed: {error}"))
        job.on("progress", lambda percent, extra, job=job:
               lines.append(f"Notification job #{job.id} {percent}% complete"))
        job.save()
        print(f"Notification job created: {job.id}")
        created.append(job)
    return created


try:
    create_push_notifications_jobs("not a list", queue)
except TypeError as error:
    print("refused:", error)
    assert str(error) == "Jobs is not an array"
else:
    raise AssertionError("a string must be refused")

made = create_push_notifications_jobs(JOBS[:1], queue)
assert made[0].id == "12" and made[0].type == "push_notification_code_3"   # the queue's counter went on: 12

# %% [markdown]
# (Here each `lambda` gets its own job through a default argument, `job=job`: the other cure for the loop trap.)

# %%
queue.obliterate();

# %% [markdown]
# ## Grade an exercise here
#
# Task 8 is the exercise `ex08_job_creator`, task 9 `ex09_job_processor`. This cell grades the processor.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex09_job_processor")
assert result.status in ("pass", "fail", "error")
results_table(result)

# %% [markdown]
# ## Your exercises
#
# * **`exercises/ex08_job_creator.py`** (task 8): the 11 jobs with their progress, completion and failure lines.
# * **`exercises/ex09_job_processor.py`** (task 9): the blacklist, progress 0% and 50%, the handler
#   `handle_job(job, done)`, two jobs at a time.
# * **`exercises/ex10_job.py`** (task 10): `create_push_notifications_jobs(jobs, queue)`, with the same lines
#   (`#` before the id, except on the `created` line).
#
# Next lesson: testing jobs without running them.
