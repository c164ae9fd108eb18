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
# # Lesson 10 · Retries, backoff, delays and priorities
#
# In lesson 05 a failed job stayed failed. But many failures are *temporary*: the SMS gateway is busy, the network
# hiccups, a rate limit says "not now". A queue can simply try again later. This lesson covers the options Kue
# offered and queuekit keeps (all durations in **milliseconds**):
#
# | option | meaning |
# |---|---|
# | `attempts=3` | try up to 3 times before failing for good |
# | `backoff=...` | how long to wait between attempts: fixed, or exponential (doubling) |
# | `delay=2000` | do not run before 2 seconds from now |
# | `priority="high"` | jump ahead of normal jobs (`low`, `normal`, `medium`, `high`, `critical`) |
# | `ttl=5000` | fail an attempt that runs longer than 5 seconds |
#
# Each option is a keyword of `queue.add(type, data, ...)`, which saves the job at once, and also a method of the
# job that `queue.create(type, data)` returns, to chain before `save()`: `.attempts(3)`, `.backoff(...)`,
# `.delay(2000)`, `.priority("high")`, `.ttl(5000)`. Use the second form when you add listeners (`job.on(...)`)
# before saving, as the exercise does.

# %%
import time

from queuekit import JobState, Queue

queue = Queue("lesson10")
queue.obliterate()


def wait_until(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.02)

# %% [markdown]
# ## 1. Retries with a fixed backoff
#
# The handler below fails twice ("gateway busy") and succeeds on the third try. With `attempts=3` and
# `backoff=100` the job waits 100 ms before each new attempt, then completes. The job's `failed attempt` event
# reports each failure (the error and the attempt number); its history keeps them.

# %%
calls = []


def flaky_send(job):
    calls.append(time.monotonic())
    if len(calls) < 3:
        raise ConnectionError("gateway busy")
    return "sent"


heard = []
job = queue.create("sms", {"to": "4153518743"}).attempts(3).backoff(100)
job.on("failed attempt", lambda error, attempt: heard.append((error, attempt)))
job.save()

worker = queue.process("sms", flaky_send)
assert job.wait(timeout=10) == "sent"
worker.stop()

wait_until(lambda: len(heard) == 2)
for error, attempt in heard:
    print(f"attempt {attempt} failed: {error}")
assert heard == [("gateway busy", 1), ("gateway busy", 2)]
done = queue.get_job(job.id)
assert done.state == JobState.COMPLETE and done.failures == 2 and done.attempts_made == 3
assert [a["error"] for a in done.failed_attempts] == ["gateway busy", "gateway busy"]
gaps = [b - a for a, b in zip(calls, calls[1:])]
assert all(gap >= 0.09 for gap in gaps), gaps      # it waited (about) 100 ms each time

# %% [markdown]
# ## 2. Exponential backoff
#
# If the gateway is down for a while, retrying every 100 ms just hammers it. **Exponential backoff** doubles the
# wait after each failure: 100 ms, 200 ms, 400 ms, … Short outages are retried fast, long ones patiently.
# (`{"type": "exponential", "delay": 100, "jitter": 0.5}` would also spread retries at random so that thousands of
# failed jobs do not all come back at the same instant.)

# %%
calls.clear()


def down_for_a_while(job):
    calls.append(time.monotonic())
    if len(calls) < 5:
        raise ConnectionError("gateway down")
    return "sent at last"


worker = queue.process("sms2", down_for_a_while)
job = queue.add("sms2", {"to": "4153538781"}, attempts=5, backoff={"type": "exponential", "delay": 100})
assert job.wait(timeout=15) == "sent at last"
worker.stop()

gaps = [b - a for a, b in zip(calls, calls[1:])]
print("waits between attempts:", [f"{g * 1000:.0f} ms" for g in gaps])
for n, gap in enumerate(gaps):
    assert gap >= 0.09 * 2 ** n           # about 100, 200, 400, 800 ms

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 1.6))
ax.scatter([c - calls[0] for c in calls], [0] * len(calls), c=["#dc3545"] * 4 + ["#198754"], s=80)
ax.set_yticks([])
ax.set_xlabel("seconds since the first attempt (red: failed, green: succeeded)")
ax.set_title("Exponential backoff: each wait doubles")
plt.show()

# %% [markdown]
# ## 3. Failing for good, and trying again by hand
#
# When the attempts run out the job is `failed`, with its last error. Once the cause is fixed (the phone number
# removed from a blacklist, a bug deployed), `queue.retry(id)` puts it back in line with a fresh set of
# attempts; `queue.retry_failed()` does it for every failed job (the command line has `queuekit retry`).

# %%
blacklist = {"4153518780"}


def send_unless_blacklisted(job):
    if job.data["to"] in blacklist:
        raise ValueError(f"Phone number {job.data['to']} is blacklisted")
    return "sent"


worker = queue.process("sms3", send_unless_blacklisted)
job = queue.add("sms3", {"to": "4153518780"}, attempts=2, backoff=50)
wait_until(lambda: queue.get_job(job.id).state == JobState.FAILED)
assert queue.get_job(job.id).error == "Phone number 4153518780 is blacklisted"

blacklist.clear()                      # the cause is fixed
assert queue.retry(job.id) == 1
assert job.wait(timeout=10) == "sent"
worker.stop()

# %% [markdown]
# A handler can also ask for a retry itself, at a time it chooses, by raising `queuekit.errors.Retry`: useful when
# a server answers "rate limited, try again in 0.2 s". It counts as a failed attempt.

# %%
from queuekit.errors import Retry

seen = []


def polite(job):
    seen.append(time.monotonic())
    if len(seen) == 1:
        raise Retry("rate limited", delay=0.2)      # seconds
    return "ok"


worker = queue.process("api", polite)
job = queue.add("api", {}, attempts=2)
assert job.wait(timeout=10) == "ok"
worker.stop()
assert seen[1] - seen[0] >= 0.19

# %% [markdown]
# ## 4. Delayed jobs
#
# `delay=300` keeps the job in the `delayed` state until its time comes: "send the reminder in one hour". The
# worker promotes it to the waiting line when it is due.

# %%
worker = queue.process("reminder", lambda job: "reminded")
job = queue.add("reminder", {"text": "your code expires soon"}, delay=300)
assert queue.get_job(job.id).state == JobState.DELAYED
assert queue.counts("reminder")["delayed"] == 1

assert job.wait(timeout=10) == "reminded"
worker.stop()
ran = queue.get_job(job.id)
print(f"created at 0 ms, started at {ran.started_at - ran.created_at} ms")
assert ran.started_at - ran.created_at >= 300

# %% [markdown]
# ## 5. Priorities
#
# Lower numbers run first; the names are Kue's: `critical` (−15), `high` (−10), `medium` (−5), `normal` (0),
# `low` (10). Among jobs of equal priority, the oldest runs first. We queue ten jobs before any worker exists,
# then start **one** worker that runs them one at a time, and record the order.

# %%
order = []
names = ["low", "normal", "critical", "medium", "high", "low", "high", "normal", "critical", "medium"]
for n, priority in enumerate(names):
    queue.add("report", {"n": n, "priority": priority}, priority=priority)

worker = queue.process("report", lambda job: order.append(job.data["priority"]))
wait_until(lambda: len(order) == len(names))
worker.stop()
print(order)
assert order == ["critical", "critical", "high", "high", "medium", "medium", "normal", "normal", "low", "low"]

# %% [markdown]
# The timeline shows it too: every job was created at about the same moment (grey: waiting), and they ran one
# after the other in priority order.

# %%
from queuekit.learn.views import timeline

timeline([j for j in queue.jobs("complete", count=100) if j.type == "report"], title="Priorities")

# %% [markdown]
# ## 6. Time limits: `ttl`
#
# A handler stuck forever (a network call without a timeout) would hold a worker slot forever. `ttl=200` fails
# the attempt after 200 ms with the error `TTL exceeded`. An `async` handler is cancelled on the spot; a plain
# function running in a thread cannot be stopped from outside, so its result is simply ignored when it ends.

# %%
import asyncio


async def stuck(job):
    await asyncio.sleep(30)


worker = queue.process("stuck", stuck)
job = queue.add("stuck", {}, ttl=200)
wait_until(lambda: queue.get_job(job.id).state == JobState.FAILED)
worker.stop()
assert queue.get_job(job.id).error == "TTL exceeded"
queue.obliterate();

# %% [markdown]
# ## Grade an exercise here
#
# The exercise `ex14_retries`: a mail server busy twice before it accepts, and a reminder that must wait.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex14_retries")
assert result.status in ("pass", "fail", "error")
results_table(result)

# %% [markdown]
# ## Your exercises
#
# * **`exercises/ex14_retries.py`**: a flaky e-mail job with 3 attempts and exponential backoff, its
#   `failed attempt` / `complete` lines, and a delayed reminder.
# * Try it yourself: in section 5, add `priority=-20` to one job (any integer works) and predict where it runs.
#
# Next lesson: scaling out to several processes and a real Redis.
