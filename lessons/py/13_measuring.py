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
# # Lesson 13 · Measuring a queue: throughput and latency
#
# "Is the queue fast enough?" has two different answers, and mixing them up leads to bad decisions:
#
# * **throughput**: how many jobs the system finishes per second. It tells you whether you keep up with the
#   work coming in;
# * **latency**: how long one job takes from the moment it is created to the moment it is finished. It tells you
#   how long a user waits. Latency = **waiting time** (in line) + **run time** (in the handler).
#
# Averages hide the bad cases, so latency is given as **percentiles**: p50 (half the jobs were faster), p95,
# p99 (one job in a hundred was slower). Every queuekit job records `created_at`, `started_at` and `finished_at`
# (milliseconds), so we can compute all of this from the jobs themselves.
#
# The numbers here are small experiments on your machine, meant to show the shapes. The project's `bench/` folder
# holds the real benchmarks (queuekit next to RQ, arq, BullMQ and others).

# %%
import statistics
import time

from queuekit import Queue

queue = Queue("lesson13")
queue.obliterate()


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.02)


def percentile(values, p):
    """The value below which p% of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

# %% [markdown]
# ## 1. A burst of tiny jobs
#
# 300 jobs that do nothing arrive at once (`add_bulk`: one round trip). One worker with 4 slots works through
# them. Doing nothing, they measure the queue's own overhead: claiming, reporting, events.

# %%
worker = queue.process("noop", lambda job: None, concurrency=4)
started = time.monotonic()
queue.add_bulk([("noop", {"n": n}) for n in range(300)])
wait_until(lambda: queue.counts()["complete"] == 300)
wall = time.monotonic() - started
worker.stop()

jobs = queue.jobs("complete", count=1000)
assert len(jobs) == 300
span = (max(j.finished_at for j in jobs) - min(j.created_at for j in jobs)) / 1000
print(f"300 jobs finished in {span:.2f} s: {300 / span:.0f} jobs/s (wall clock {wall:.2f} s)")
assert 300 / span > 20

# %% [markdown]
# `queuekit.learn.views.throughput` draws how many jobs finished in each slice of time:

# %%
from queuekit.learn.views import throughput

throughput(queue)

# %% [markdown]
# ## 2. Latency of the same jobs
#
# Each job ran in a few milliseconds, yet the last ones waited much longer: they were at the back of a 300-job
# line. In a burst, latency is mostly **waiting**.
#
# (The three times come from different clocks: `created_at` from the producer, `started_at` and `finished_at` from
# the worker. On one machine they agree to the millisecond or so; across machines keep them synchronised with NTP,
# and do not read much into a few milliseconds.)

# %%
latency = [j.finished_at - j.created_at for j in jobs]       # ms
waiting = [j.started_at - j.created_at for j in jobs]
running = [j.finished_at - j.started_at for j in jobs]
for name, values in (("latency", latency), ("waiting", waiting), ("running", running)):
    print(f"{name:8} p50 {percentile(values, 50):5} ms   p95 {percentile(values, 95):5} ms   "
          f"p99 {percentile(values, 99):5} ms")
assert all(r >= 0 for r in running)
assert percentile(latency, 99) >= percentile(latency, 50)
assert statistics.mean(waiting) >= statistics.mean(running)    # in a burst, jobs mostly wait

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 3))
ax.hist(latency, bins=30, color="#0d6efd")
for p, style in ((50, "-"), (95, "--"), (99, ":")):
    ax.axvline(percentile(latency, p), color="black", linestyle=style, label=f"p{p}")
ax.set_xlabel("latency, ms (created → finished)")
ax.set_ylabel("jobs")
ax.set_title("Latency of 300 jobs arriving at once")
ax.legend()
plt.show()

# %% [markdown]
# ## 3. Concurrency and jobs that wait
#
# Most real jobs wait on something (a web service, a database). While one job waits, another could run: that is
# what `concurrency` is for. Here each job waits 20 ms; we run 80 of them with 1, 4 and 16 slots.

# %%
import asyncio


async def call_a_service(job):
    await asyncio.sleep(0.02)         # waiting on the network, not using the CPU


measured = {}
for slots in (1, 4, 16):
    queue.obliterate()
    worker = queue.process("io", call_a_service, concurrency=slots)
    queue.add_bulk([("io", {}) for _ in range(80)])
    wait_until(lambda: queue.counts()["complete"] == 80)
    worker.stop()
    done = queue.jobs("complete", count=100)
    span = (max(j.finished_at for j in done) - min(j.started_at for j in done)) / 1000
    measured[slots] = 80 / span
    print(f"concurrency {slots:2}: {measured[slots]:6.0f} jobs/s")

assert measured[1] < 55                          # one at a time: at most 1 / 20 ms = 50 jobs/s
assert measured[16] > 1.5 * measured[1]          # more slots, more jobs per second
assert measured[4] > measured[1]

# %%
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(list(measured), list(measured.values()), marker="o")
ax.plot(list(measured), [50 * c for c in measured], linestyle="--", color="grey", label="ideal: 50 × slots")
ax.set_xscale("log", base=2)
ax.set_xlabel("concurrency (slots)")
ax.set_ylabel("jobs per second")
ax.set_title("Jobs that wait 20 ms each")
ax.legend()
plt.show()

# %% [markdown]
# The curve climbs while the jobs only wait; how close it stays to the ideal line depends on how busy your machine
# is (the worker's own work, claiming and reporting, takes CPU too). With CPU-bound jobs the curve would flatten at
# once inside one process (Python runs one thread's code at a time); there, more *processes* help (lesson 11).
#
# ## 4. The timeline of a run
#
# The timeline of the last run (16 slots) shows the jobs overlapping: up to 16 coloured bars at any moment.

# %%
from queuekit.learn.views import timeline

timeline(queue, limit=40, title="concurrency 16")

# %%
spans = [(j.started_at, j.finished_at) for j in done]
most_at_once = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
print("most jobs running at once:", most_at_once)
assert 1 < most_at_once <= 16
queue.obliterate();

# %% [markdown]
# ## What to remember
#
# * Measure throughput *and* latency percentiles; the average alone hides the slow tail.
# * When latency grows while run time does not, jobs are **waiting**: add slots (jobs that wait) or processes
#   (jobs that compute), or make the producer slow down.
# * Measure with your real handlers: the queue's own overhead is usually small next to the work.
#
# ## Grade an exercise here
#
# Last lesson, last check: the first exercise of the course, to see how far you have come.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex00_server")
assert result.status in ("pass", "fail", "error")
results_table(result)

# %% [markdown]
# ## Your exercises
#
# * Every exercise of the course: `queuekit learn list` shows what passes and what remains, and `queuekit learn`
#   takes you to the next one.
# * Try it: change `concurrency` in section 3 to 64 and to a CPU-bound handler (`sum(range(200_000))`), and
#   compare the curves.
#
# That is the end of the course. Congratulations!
