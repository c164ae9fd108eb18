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
# # Lesson 11 · Scaling out: several worker processes, a real Redis
#
# One worker with `concurrency=4` runs four jobs at a time inside one Python process. That is enough for jobs
# that mostly *wait* (network calls). It stops being enough when:
#
# * jobs use the **CPU** (resizing images, computing reports): Python runs one thread's code at a time per process,
#   so more threads do not help; more *processes* do;
# * one machine is not enough: workers on several machines share the same Redis;
# * a worker **crashes**: with several, the others carry on, and the lease (lesson 09) brings its jobs back.
#
# Scaling out is easy with a queue, because the workers never talk to each other: each one only talks to Redis.
# Add workers to go faster, remove them to save money; the producer never notices.

# %% [markdown]
# ## 1. One server for everybody
#
# Every process must reach the same server:
#
# * in production, a **real Redis** (`redis-server`, or a managed one) and `REDIS_URL=redis://host:6379/0` in every
#   process's environment;
# * on your laptop without Redis, `queuekit server --port 6390` (or `EmbeddedServer` here) serves the embedded
#   store over TCP, and `REDIS_URL=redis://127.0.0.1:6390` points every process at it.
#
# This notebook uses `REDIS_URL` when it is set, and starts an embedded server otherwise.

# %%
import os
import time

from queuekit import JobState, Queue
from queuekit.server import EmbeddedServer

server = None
url = os.environ.get("REDIS_URL")
if url is None:
    server = EmbeddedServer(port=0).start()
    url = server.url
queue = Queue("lesson11", url=url)
queue.obliterate()
print("shared server:", url)


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)

# %% [markdown]
# ## 2. Worker processes from the command line
#
# The handlers go in an ordinary module. The command `queuekit worker MODULE` imports it, finds the dict
# `handlers` (job type → function) and runs a worker until it receives Ctrl-C or `SIGTERM`:
#
# ```
# REDIS_URL=redis://127.0.0.1:6379/0 queuekit worker tasks --queue lesson11 --concurrency 2
# ```
#
# We start three of them, as three terminals would. (`python -m queuekit.cli` is the same command as `queuekit`.)
# The handler returns the id of the process that ran it, so we can see who did what.

# %%
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

TASKS = '''
import os
import time

def thumbnail(job):
    time.sleep(0.1)                      # the work
    return {"pid": os.getpid(), "image": job.data["image"]}

handlers = {"thumbnail": thumbnail}
'''
folder = Path(tempfile.mkdtemp(prefix="lesson11-"))
(folder / "tasks.py").write_text(TASKS)


def start_worker():
    command = [sys.executable, "-m", "queuekit.cli", "--url", url, "worker", "tasks", "--queue", "lesson11",
               "--concurrency", "2", "--lease", "2"]
    return subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


workers = [start_worker() for _ in range(3)]
wait_until(lambda: len(queue.workers()) == 3)      # each worker registers itself with a heartbeat
for info in queue.workers():
    print(f"worker {info['id']}: pid {info['pid']}, concurrency {info['concurrency']}")
assert {info["pid"] for info in queue.workers()} == {p.pid for p in workers}

# %% [markdown]
# ## 3. Sharing the work
#
# 60 jobs of 0.1 s each: one worker running one job at a time would need 6 seconds. Three processes with two
# slots each run six at a time.

# %%
started = time.monotonic()
jobs = queue.add_bulk([("thumbnail", {"image": f"img{n}.png"}) for n in range(60)])
wait_until(lambda: queue.counts()["complete"] == 60)
elapsed = time.monotonic() - started

results = [queue.get_job(job.id).result for job in jobs]
by_process = {}
for r in results:
    by_process[r["pid"]] = by_process.get(r["pid"], 0) + 1
print(f"60 jobs in {elapsed:.2f} s; jobs per process: {by_process}")
assert len(by_process) >= 2             # the work was shared
assert elapsed < 6                      # faster than one job at a time

# %% [markdown]
# ## 4. Losing a worker
#
# Now we queue 60 more jobs and, while they run, kill one worker process with `SIGKILL`. The two others go on,
# and the jobs the dead worker held come back when their lease (2 s here) runs out. Every job completes.

# %%
jobs = queue.add_bulk([("thumbnail", {"image": f"more{n}.png"}) for n in range(60)])
wait_until(lambda: queue.counts()["complete"] >= 70)
victim = workers.pop(0)
victim.send_signal(signal.SIGKILL)
victim.wait(timeout=10)

wait_until(lambda: queue.counts()["complete"] == 120)
finished = [queue.get_job(job.id) for job in jobs]
assert all(job.state == JobState.COMPLETE for job in finished)
assert all(job.result["pid"] != victim.pid for job in finished if job.stalls)   # rescued jobs ran elsewhere
print("stalled and rescued:", [job.id for job in finished if job.stalls])

# %% [markdown]
# ## 5. Stopping politely
#
# To deploy a new version you stop workers with `SIGTERM` (what Ctrl-C, `systemd` or Kubernetes send). A queuekit
# worker then stops taking jobs, finishes the running ones (up to `--shutdown-timeout` seconds) and exits with
# status 0. Nothing is lost and nothing waits for a lease.

# %%
for process in workers:
    process.send_signal(signal.SIGTERM)
codes = [process.wait(timeout=30) for process in workers]
assert codes == [0, 0]
wait_until(lambda: len(queue.workers()) <= 1)     # the polite ones unregistered; the killed one will expire

# %% [markdown]
# `queuekit info` shows the same from a terminal: counts per state and the live workers of every queue.

# %%
info = subprocess.run([sys.executable, "-m", "queuekit.cli", "--url", url, "info", "--queue", "lesson11"],
                      capture_output=True, text=True, timeout=60)
print(info.stdout)
assert "complete 120" in info.stdout

queue.obliterate()
queue.events.close()
if server is not None:
    server.stop()

# %% [markdown]
# ## Going further
#
# * Several machines: the same command on each, with `REDIS_URL` pointing at the shared Redis (protect it with a
#   password and TLS: `rediss://user:password@host:6379/0`).
# * A Redis Cluster: every key of a queue shares the hash tag `{queue name}`, so each queue lives on one node and
#   its scripts stay atomic; different queues spread over the nodes.
#
# ## Grade an exercise here
#
# The exercise `ex15_worker_pool`: a small supervisor that keeps worker processes alive and restarts any that
# dies. Its grader kills one of your workers and checks that every job still completes.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex15_worker_pool")
assert result.status in ("pass", "fail", "error")
results_table(result)

# %% [markdown]
# ## Your exercises
#
# * **`exercises/ex15_worker_pool.py`**: a pool of worker processes that shares a queue and survives a killed
#   worker.
# * Try it: start `queuekit server --port 6390` in one terminal, and two workers in others with
#   `REDIS_URL=redis://127.0.0.1:6390 queuekit worker MODULE`; queue jobs from a Python shell with the same
#   `REDIS_URL`, and kill a worker with `kill -9 PID`.
#
# Next lesson: reusing queuekit in a small project.
