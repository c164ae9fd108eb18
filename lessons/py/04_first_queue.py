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
# # Lesson 04 · A first queue: a job creator and a job processor
#
# Lesson 03 ended with a problem: pub/sub forgets messages nobody is listening to. A **job queue** stores the work
# instead:
#
# * a **job** is a small record: a *type* (what to do, e.g. `push_notification_code`) and *data* (with what, e.g. a
#   phone number and a message);
# * the **creator** (or producer) saves jobs in the queue and goes on with its life;
# * a **processor** (or worker) takes the jobs one by one, runs a function for each, and records the outcome: the job
#   becomes *complete*, or *failed*.
#
# A job waits in Redis until some worker takes it, even if no worker exists yet. The original course uses the
# Node.js library Kue; queuekit follows Kue's model: one `Queue` holds jobs of many types, and a worker says which
# types it handles. The course's "queue names" (`push_notification_code`, …) are these job types.
#
# This lesson covers tasks 6 (the creator) and 7 (the processor).

# %%
import time

from queuekit import JobState, Queue

queue = Queue("lesson04")   # a queue of our own; Queue() alone would be the queue called "default"
queue.obliterate()          # forget every job of a previous run, its id counter included (see section 1)


def wait_until(condition, timeout=10.0):
    """Wait until condition() is true (events arrive from another thread, a moment later)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.02)

# %% [markdown]
# ## 1. The creator (task 6)
#
# `queue.create(type, data)` builds a job; `save()` stores it and gives it an **id**: the next number of a counter the
# queue keeps in Redis, as Kue does. The counter is not reset when your script ends: run the creator again on the
# same server and the next job gets the next number, so ids keep growing across runs (the original course's samples
# show ids 39, 40, … because its server already held jobs). Here the id is 1 only because `obliterate()` above
# emptied this queue, counter included; in the exercise, on a server that already holds jobs, it will be higher:
# always print `job.id`, never a count of your own.
#
# Before saving we attach *listeners*: functions called when the job completes or fails. The listeners run on a
# background thread, so, as in lesson 03, they record their message in a list instead of printing.

# %%
events = []
job_data = {"phoneNumber": "4153518780", "message": "This is the code to verify your account"}

job = queue.create("push_notification_code", job_data)
job.on("complete", lambda result: events.append("Notification job completed"))
job.on("failed", lambda error: events.append("Notification job failed"))
job.save()
print(f"Notification job created: {job.id}")

assert job.id == "1"                           # 1 on this freshly emptied queue only
assert job.state == JobState.INACTIVE          # saved, waiting for a worker ("inactive" in Kue's words)
assert queue.counts()["inactive"] == 1

# %% [markdown]
# "Nothing else will happen", says the course: no worker exists yet, so the job just waits. Its record sits in
# Redis, where any program connected to the same server can see it:

# %%
stored = queue.get_job(job.id)
assert stored.data == job_data and stored.state == JobState.INACTIVE
stored

# %% [markdown]
# ## 2. The processor (task 7)
#
# `send_notification(phone_number, message)` stands for the real work (an SMS gateway would go here). The course's
# processor logs `Sending notification to PHONE_NUMBER, with message: MESSAGE`; in this notebook we collect those
# lines in a list, since the function runs on the worker's thread.
#
# `queue.process(type, handler)` starts a **worker** in the background that calls `handler(job)` for every job of
# that type. A handler that returns normally completes the job; one that raises an exception fails it.

# %%
sent = []


def send_notification(phone_number, message):
    sent.append(f"Sending notification to {phone_number}, with message: {message}")


def handle_job(job):
    send_notification(job.data["phoneNumber"], job.data["message"])


worker = queue.process("push_notification_code", handle_job)
job.wait(timeout=10)                    # block until the job is finished
wait_until(lambda: events)              # the "complete" event reaches our listener a moment later

print(sent)
print(events)
assert sent == ["Sending notification to 4153518780, with message: This is the code to verify your account"]
assert events == ["Notification job completed"]
assert queue.get_job(job.id).state == JobState.COMPLETE

# %% [markdown]
# The worker keeps running: a new job is processed as soon as it is saved. Meanwhile, the worker shows itself as a
# table too.

# %%
second = queue.add("push_notification_code", job_data)   # add = create + save in one call
second.wait(timeout=10)
assert second.id == "2" and len(sent) == 2    # the counter went on: 2
worker

# %%
worker.stop()          # always stop what you start
assert not worker.running

# %% [markdown]
# ## 3. Two programs: the creator and the processor
#
# In the course the creator and the processor are two scripts run in two terminals. Again, separate processes need a
# server with a TCP port: the real Redis when `REDIS_URL` is set, otherwise an `EmbeddedServer`.
#
# We run the creator **twice**: the job id increases each time, because the counter lives in Redis, not in the
# script (we emptied the queue first, so here they are 1 and 2; on a server that already holds jobs they go on from
# there). Then we start the processor, which drains the jobs waiting for it. It is written as in task 7:
# `queue.process(type, handle_job)` starts the worker, and `worker.wait()` blocks until Ctrl-C, which stops the worker
# cleanly (it finishes its running jobs) and ends the script. Here no one is at a keyboard, so we send the process
# `SIGINT`, the signal Ctrl-C sends. (Aside: `Worker(queue, {type: handler}).run()` is the other way to run a worker
# in the foreground; it also stops gracefully on `SIGTERM`, what a process manager sends.)

# %%
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from queuekit.server import EmbeddedServer

server = None
url = os.environ.get("REDIS_URL")
if url is None:
    server = EmbeddedServer(port=0).start()
    url = server.url
shared = Queue("lesson04", url=url)
shared.obliterate()

CREATOR = '''
from queuekit import Queue

queue = Queue("lesson04")
job = queue.create("push_notification_code",
                   {"phoneNumber": "4153518780", "message": "This is the code to verify your account"})
job.save()
print(f"Notification job created: {job.id}")
'''
PROCESSOR = '''
from queuekit import Queue

def send_notification(phone_number, message):
    print(f"Sending notification to {phone_number}, with message: {message}", flush=True)

def handle_job(job):
    send_notification(job.data["phoneNumber"], job.data["message"])

worker = Queue("lesson04").process("push_notification_code", handle_job)
worker.wait()   # until Ctrl-C
'''
folder = Path(tempfile.mkdtemp(prefix="lesson04-"))
(folder / "job_creator.py").write_text(CREATOR)
(folder / "job_processor.py").write_text(PROCESSOR)
env = {**os.environ, "REDIS_URL": url}

created = [subprocess.run([sys.executable, "job_creator.py"], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=30).stdout.strip() for _ in range(2)]
print(created)
assert created == ["Notification job created: 1", "Notification job created: 2"]
assert shared.counts()["inactive"] == 2     # stored, waiting: no processor exists yet

# %%
# preexec_fn: Ctrl-C works in the child as in a terminal, even when this notebook runs with SIGINT ignored
processor = subprocess.Popen([sys.executable, "job_processor.py"], cwd=folder, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
wait_until(lambda: shared.counts()["complete"] == 2, timeout=30)
processor.send_signal(signal.SIGINT)         # what Ctrl-C sends
output, errors = processor.communicate(timeout=30)
print(output)
assert processor.returncode == 0, errors
assert output.splitlines() == ["Sending notification to 4153518780, with message: This is the code to verify your "
                               "account"] * 2

# %%
shared.obliterate()
queue.obliterate()
if server is not None:
    server.stop()

# %% [markdown]
# "BOOM! same as `5-subscriber.js` and `5-publisher.js` but with a module to manage jobs", says the course. With a
# difference that matters: the jobs waited for the processor. Nothing was lost.
#
# ## Grade an exercise here
#
# Task 6 is the exercise `ex06_job_creator`, task 7 is `ex07_job_processor`. This cell grades the creator; the
# grader runs your script as a real process and checks what it prints.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex06_job_creator")
assert result.status in ("pass", "fail", "error")
results_table(result)

# %% [markdown]
# ## Your exercises
#
# * **Task 6, the job creator** (`ex06_job_creator`): create the job `push_notification_code` with
#   `{phoneNumber, message}`, print `Notification job created: JOB_ID`, and `Notification job completed` /
#   `Notification job failed` when it ends.
# * **Task 7, the job processor** (`ex07_job_processor`): `send_notification(phone_number, message)`, the handler
#   `handle_job(job)`, and a worker for `push_notification_code` started with `queue.process` (the script then
#   waits with `worker.wait()` until Ctrl-C).
#
# Files: `exercises/ex06_job_creator.py` and `exercises/ex07_job_processor.py` (`queuekit learn list` shows the
# whole course). Next lesson: progress and failures.
