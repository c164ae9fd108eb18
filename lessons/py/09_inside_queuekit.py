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
# # Lesson 09 · Inside queuekit: Lua scripts, leases and a killed worker
#
# The original course stops at task 13. From here on we look at what it never shows: how a queue that does not
# lose jobs is built. Three ideas carry everything:
#
# 1. **a job's state lives in Redis keys**: sorted sets (zsets) hold the lines of waiting, running and finished
#    jobs, a hash holds each job;
# 2. **every change of state is one Lua script**, so it is atomic (lesson 07): two workers can never take the same
#    job, and a job is never half-moved;
# 3. **a worker holds a running job under a *lease***, a deadline it keeps pushing back while alive. If the
#    worker dies, the deadline passes and another worker puts the job back in line. We will kill a worker
#    process with `SIGKILL` (no chance to clean up) and watch its job come back.

# %% [markdown]
# ## 1. The scripts
#
# queuekit's Lua scripts are plain files in `queuekit/lua/`. Each starts with a comment that says what it does
# and which keys and arguments it takes. Here is the first sentence of each:

# %%
import re
import textwrap

from queuekit.scripts import FILES


def summary(text):
    """The first sentence of a script's header: its leading comment lines, up to the first empty one."""
    header = []
    for line in text.splitlines():
        if not line.startswith("--") or not line[2:].strip():
            break
        header.append(line[2:].strip())
    what = " ".join(header).split(":", 1)[1].strip()     # drop the "name.lua:" in front
    return re.match(r".+?\.(?=\s|$)", what).group()


summaries = {name: summary(text) for name, text in sorted(FILES.items())}
for name, what in summaries.items():
    print(textwrap.fill(what, width=110, initial_indent=f"{name + '.lua':14} ", subsequent_indent=" " * 15))
assert {"add", "enqueue", "claim", "extend", "finish", "sweep"} <= set(FILES)
assert all(what.endswith(".") for what in summaries.values())     # whole sentences

# %% [markdown]
# The heart of the queue is `claim.lua`, run by a worker when it has a free slot. Its header, then the lines that
# take jobs: pop the lowest scores from the waiting line, mark each job active under this claim's lease token,
# and put it in the `active` zset with a score equal to its **lease deadline**.

# %%
claim = FILES["claim"].splitlines()
print("\n".join(line for line in claim[:next(n for n, line in enumerate(claim) if not line.startswith("--"))]))
print("   ...")
for needle in ("ZPOPMIN", "redis.call('HSET', jkey, 'state', 'active'", "now + lease", "batched('ZADD', KEYS[1]"):
    at = next(n for n, line in enumerate(claim) if needle in line)
    print("\n".join(claim[at:at + (2 if needle.startswith("redis.call") else 1)]))
assert any("now + lease" in line for line in claim)

# %% [markdown]
# ## 2. The keys of a queue
#
# Let us create a queue with three jobs and list its keys. All of them start with `qk:{name}:`; the braces are a
# *hash tag* that keeps a queue's keys together on one node of a Redis Cluster, so a script can touch them all.

# %%
from queuekit import JobState, Queue

queue = Queue("inside")
queue.obliterate()
for n in range(3):
    queue.add("resize", {"image": f"photo{n}.png"}, priority="high" if n == 2 else "normal")

client = queue.client
for key in sorted(client.scan_iter(match="qk:{inside}:*")):
    print(f"{client.type(key):7} {key}")

waiting = client.zrange(queue.keys.wait("resize"), 0, -1, withscores=True)
print("waiting line (id, score):", waiting)
assert [job_id for job_id, _ in waiting] == ["3", "1", "2"]   # the high-priority job is first in line

# %% [markdown]
# The waiting line is a zset ordered by score: the priority in the high part of the number, the arrival order in
# the low part. So the lowest score is always "the most urgent job that has waited longest", and a worker takes
# the first jobs in line with one `ZPOPMIN` (the line of `claim.lua` above): it reads and removes them in one
# command, inside the script.
#
# ## 3. A job while it runs
#
# We start a worker whose handler waits for our signal, so we can look at Redis while the job is *active*.

# %%
import threading
import time

release = threading.Event()


def resize(job):
    release.wait(10)          # hold the job until the notebook says go
    return f"resized {job.data['image']}"


def wait_until(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


worker = queue.process("resize", resize, lease=5)
wait_until(lambda: queue.counts()["active"] == 1)

active_id, deadline_ms = client.zrange(queue.keys.active, 0, -1, withscores=True)[0]
job_hash = client.hgetall(queue.keys.job(active_id))
now_ms = time.time() * 1000
print(f"job {active_id} is active; its lease ends in {(deadline_ms - now_ms) / 1000:.1f} s")
print({k: job_hash[k] for k in ("state", "worker", "token", "made")})
assert active_id == "3" and job_hash["state"] == "active" and job_hash["worker"] == worker.id
assert 0 < deadline_ms - now_ms <= 5000     # the lease: at most 5 s from now, renewed while the worker lives

release.set()
wait_until(lambda: queue.counts()["complete"] == 3)
worker.stop()
assert queue.get_job("3").result == "resized photo2.png"

# %% [markdown]
# While the worker lives it *renews* its leases (a heartbeat, every third of the lease) with `extend.lua`. When the
# job ends, `finish.lua` moves it to `complete` or `failed`, **but only if the worker still holds the lease**: each
# claim gets a random *token*, and `finish` checks it. A worker that lost its lease cannot overwrite what another
# worker did.
#
# A claim is not always needed, though. A worker with nothing to do leaves an *offer* in Redis (the key
# `ready:<worker>`, holding its lease and a token, and its id in the list `idle:<type>`), then blocks on its own
# *inbox* list. An `add` that finds an offer does the claim's work itself, inside `add.lua`: the job is stored
# already active, under that worker's lease, and pushed to the worker's inbox. The worker's blocking pop returns
# the job ready to run: one trip through Redis from the producer to the handler, with no claim script in between.

# %%
idle = queue.process("resize", lambda job: f"resized {job.data['image']}")
wait_until(lambda: client.exists(queue.keys.ready(idle.id)))
print("offer:", client.get(queue.keys.ready(idle.id)), "| idle list:", client.lrange(queue.keys.idle("resize"), 0, -1))

job = queue.add("resize", {"image": "photo3.png"})
print("state right after add:", job.state.value)        # already active: handed to the idle worker
assert job.state == JobState.ACTIVE
assert job.wait(timeout=10) == "resized photo3.png"
idle.stop()

# %% [markdown]
# If that worker died before its blocking pop took the job, the job would wait in its inbox under a lease nobody
# renews. The sweep you will meet in section 5 finds it there once the lease runs out, and puts it back in line
# without counting a stall: it never started.
#
# ## 4. Atomic claims: no job runs twice
#
# Four workers, four jobs at a time each, 200 jobs: if two workers could ever take the same job, some job would
# run twice. Because a claim is one script, none does.

# %%
import collections

runs = collections.Counter()
lock = threading.Lock()


def count(job):
    with lock:
        runs[job.id] += 1


queue.obliterate()
queue.add_bulk([("count", {"n": n}) for n in range(200)])
pool = [queue.process("count", count, concurrency=4) for _ in range(4)]
wait_until(lambda: queue.counts()["complete"] == 200)
for w in pool:
    w.stop()
assert len(runs) == 200 and set(runs.values()) == {1}     # every job ran exactly once
print("200 jobs, 4 workers:", collections.Counter(w.stats["completed"] for w in pool))

# %% [markdown]
# ## 5. Kill a worker, watch the job come back
#
# Now the real test. We need a worker in **another process**, so we can kill it for good. Processes cannot share
# the in-process store, so we start an `EmbeddedServer` (a TCP server, lesson 00) and point both the notebook and
# the worker process at it.
#
# The worker process has a slow handler (it would take a minute) and a short lease of 1 second, renewed while it
# lives. Once it has taken the job, we send it `SIGKILL`: the operating system ends it on the spot. It cannot
# finish the job, tell Redis, or release anything.

# %%
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from queuekit.server import EmbeddedServer

server = EmbeddedServer(port=0).start()
shared = Queue("inside", url=server.url)
shared.obliterate()

WORKER = '''
import time
from queuekit import Queue, Worker

def slow(job):
    time.sleep(60)            # far longer than we will let it live
    return "done by the doomed worker"

Worker(Queue("inside"), {"slow": slow}, lease=1.0).run()
'''
folder = Path(tempfile.mkdtemp(prefix="lesson09-"))
(folder / "doomed_worker.py").write_text(WORKER)
doomed = subprocess.Popen([sys.executable, "doomed_worker.py"], cwd=folder, env={**os.environ, "REDIS_URL": server.url},
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

job = shared.add("slow", {"video": "holiday.mp4"})
wait_until(lambda: shared.get_job(job.id).state == JobState.ACTIVE, timeout=30)
taken = shared.get_job(job.id)
print(f"job {job.id} taken by worker {taken.worker} (process {doomed.pid})")
assert f":{doomed.pid}:" in taken.worker

# %%
doomed.send_signal(signal.SIGKILL)
doomed.wait(timeout=10)
print("worker killed; exit status", doomed.returncode)
assert doomed.returncode == -signal.SIGKILL

time.sleep(1.5)          # the lease (1 s) runs out: nobody renews it any more
after = shared.get_job(job.id)
lease_end = shared.client.zscore(shared.keys.active, job.id)
print(f"state: {after.state.value}; lease ended {(time.time() * 1000 - lease_end) / 1000:.1f} s ago")
assert after.state == JobState.ACTIVE         # Redis still believes the job runs: nobody told it otherwise
assert lease_end < time.time() * 1000         # ...but its lease has expired

# %% [markdown]
# The job is stuck in `active`, held by a dead worker. Nothing is lost, though: every worker regularly runs
# `sweep.lua`, which finds active jobs whose lease deadline is past, records a *stall* in the job's history and
# puts them back in line. Start a healthy worker and watch:

# %%
rescuer = shared.process("slow", lambda job: "done by the rescuer", lease=1.0)
result = shared.get_job(job.id).wait(timeout=20)
rescuer.stop()

rescued = shared.get_job(job.id)
print("result:", result)
for number, attempt in enumerate(rescued.failed_attempts, start=1):
    print(f"attempt {number} {attempt['kind']}: {attempt['error']}")
assert result == "done by the rescuer"
assert rescued.state == JobState.COMPLETE and rescued.stalls == 1
assert rescued.failed_attempts[0]["kind"] == "stalled"
rescued

# %% [markdown]
# This is **at-least-once delivery**: a job is never lost, but a job whose worker died mid-way runs again. So a
# handler should be safe to run twice (*idempotent*): "set the seat count to X" rather than "decrement it", or
# remember what was already done. `max_stalls` (1 by default) bounds it: a job that keeps killing its workers fails
# for good instead of bringing down the whole pool.

# %% [markdown]
# ## 6. A frozen worker cannot overwrite
#
# A worker can also *freeze* without dying: a long pause of the machine, a laptop put to sleep. Its lease runs
# out, another worker redoes the job… and then the frozen one wakes up and tries to report its own result. That is
# where the lease **token** matters: `finish.lua` accepts an outcome only from the worker whose token the job still
# carries. We freeze a worker with `SIGSTOP`, let a rescuer finish the job, and wake the frozen one with `SIGCONT`.

# %%
FROZEN = '''
import logging
import time
from queuekit import Queue, Worker

logging.basicConfig(format="%(message)s")   # show the worker's warnings on stderr (queuekit logs only where asked)

def report(job):
    time.sleep(1.5)
    return "written by the frozen worker"

Worker(Queue("inside"), {"report": report}, lease=1.0).run()
'''
(folder / "frozen_worker.py").write_text(FROZEN)
frozen = subprocess.Popen([sys.executable, "frozen_worker.py"], cwd=folder, env={**os.environ, "REDIS_URL": server.url},
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
job = shared.add("report", {"month": "November"})
wait_until(lambda: shared.get_job(job.id).state == JobState.ACTIVE, timeout=30)
frozen.send_signal(signal.SIGSTOP)          # alive, but silent: no heartbeat any more

rescuer = shared.process("report", lambda job: "written by the rescuer", lease=1.0)
assert shared.get_job(job.id).wait(timeout=20) == "written by the rescuer"
rescuer.stop()

frozen.send_signal(signal.SIGCONT)          # it wakes up, its handler returns, it tries to report...
time.sleep(1.0)
frozen.send_signal(signal.SIGTERM)
_, complaints = frozen.communicate(timeout=30)
print("\n".join(sorted(set(complaints.splitlines()))))     # what the frozen worker logged, once per line
assert "lease" in complaints                                    # ...and is told the job is no longer its own
assert shared.get_job(job.id).result == "written by the rescuer"  # the rescuer's result stands

# %%
shared.obliterate()
shared.events.close()      # stop listening to this queue's events before the server goes away
server.stop()
queue.obliterate();

# %% [markdown]
# ## Grade an exercise here
#
# The exercise on killed workers belongs with scaling out (lesson 11). Here we grade the course's first processor
# (task 7, `ex07_job_processor`): you now know what its worker does inside.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex07_job_processor")
assert result.status in ("pass", "fail", "error")
results_table(result)

# %% [markdown]
# ## Your exercises
#
# * Read `queuekit/lua/finish.lua` and find the line that refuses an outcome from a worker that lost its lease.
# * Then **`exercises/ex15_worker_pool.py`** (lesson 11): a pool of worker processes that survives a killed
#   worker, thanks to the leases you just watched.
#
# Next lesson: retries, backoff, delays and priorities.
