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
# # Lesson 14 · What can go wrong: at-least-once delivery and idempotent handlers
#
# A queue promises that every job you add **will run**. It cannot promise that it runs **exactly once**. Between
# "a worker took the job" and "Redis knows the job is complete", many things can happen:
#
# * the worker process is **killed** (`kill -9`, out of memory, the machine is switched off);
# * the worker **freezes** for a while (a paused virtual machine, `SIGSTOP`, a handler that blocks its process
#   longer than its lease) and wakes up later;
# * the handler did part of its work (sent the e-mail) and **then failed** (the next step raised an error).
#
# In all three cases queuekit runs the job again, from the start. That is **at-least-once delivery**: no job is
# lost, but a job may run twice. This lesson makes it happen for real, and shows how to write handlers for which
# running twice does no harm: **idempotent** handlers.

# %% [markdown]
# ## 1. A shared server and a module of handlers
#
# We need worker processes we can kill, so (as in lesson 11) every process talks to one server: `REDIS_URL` when it
# is set, else an embedded server started here, whose address we put in `REDIS_URL` for every process we start
# (and for this one). The workers that rescue jobs run here in the notebook, on threads; the ones we kill or
# freeze are processes. A worker logs what it does for the operator's terminal; here we keep its log quiet.
#
# The handlers live in a small module. The job "welcome" sends a welcome e-mail; our "e-mail" is a line pushed on
# the Redis list `outbox`, so we can count how many were sent. After sending it, the handler does more work that
# takes `SLOW` seconds (an environment variable): long enough for us to kill the worker in the middle.

# %%
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from queuekit import JobState, Queue, connect
from queuekit.server import EmbeddedServer

logging.getLogger("queuekit").setLevel(logging.ERROR)

server = None
url = os.environ.get("REDIS_URL")
if url is None:
    server = EmbeddedServer(port=0).start()
    url = os.environ["REDIS_URL"] = server.url
queue = Queue("lesson14", url=url)
queue.obliterate()
client = connect(url)
client.delete("outbox")

TASKS = '''
import os
import time

from queuekit import connect

SLOW = float(os.environ.get("SLOW", "0"))
client = connect()                       # the server of REDIS_URL

def welcome(job):
    client.rpush("outbox", f"welcome {job.data['user']}")    # the e-mail goes out...
    time.sleep(SLOW)                                          # ...then more work: the worker may die here
    return "sent"

handlers = {"welcome": welcome}
'''
folder = Path(tempfile.mkdtemp(prefix="lesson14-"))
(folder / "tasks.py").write_text(TASKS)
sys.path.insert(0, str(folder))
import tasks                                   # the same handlers, for the workers of this notebook (SLOW is 0)


def start_worker(module, **env):
    """A worker process with a lease of 1 second; its log goes to a pipe we read (or not) later."""
    command = [sys.executable, "-m", "queuekit.cli", "--url", url, "worker", module, "--queue", "lesson14",
               "--lease", "1"]
    return subprocess.Popen(command, cwd=folder, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop(process):
    """Stop a worker process politely (SIGTERM) and return what it logged."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    _, log = process.communicate(timeout=30)
    return log


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)

print("shared server:", url)

# %% [markdown]
# ## 2. A worker killed in the middle of a job
#
# One worker process takes the job, sends the e-mail, and starts its slow work. We kill it with `SIGKILL`: it
# cannot finish, report, or give anything back. Then a second worker starts, here, with the same handler.

# %%
doomed = start_worker("tasks", SLOW="60")
job = queue.add("welcome", {"user": "ada"})
wait_until(lambda: client.llen("outbox") == 1)           # the e-mail is out, the slow part runs
assert queue.get_job(job.id).state == JobState.ACTIVE
doomed.send_signal(signal.SIGKILL)
doomed.wait(timeout=10)
print("worker killed in the middle of job", job.id)

rescuer = queue.process("welcome", tasks.welcome, lease=1)
wait_until(lambda: queue.get_job(job.id).state == JobState.COMPLETE)
rescuer.stop()

done = queue.get_job(job.id)
print("outbox:", client.lrange("outbox", 0, -1))
print("history:", [(a["kind"], a["error"]) for a in done.failed_attempts])
assert done.result == "sent" and done.stalls == 1
assert client.lrange("outbox", 0, -1) == ["welcome ada", "welcome ada"]       # Ada got the e-mail twice

# %% [markdown]
# ## 3. What the lease and the sweep did
#
# Nothing was lost, and that is the point of the **lease** (lesson 09):
#
# 1. when the first worker took the job, the job went to `active` with a deadline 1 second away (`--lease 1`);
# 2. while alive, a worker pushes that deadline back every third of its lease (its heartbeat);
# 3. after the kill, nobody pushed it back: the deadline passed with the job still `active`;
# 4. every worker regularly runs the **sweep**, which finds such jobs, records a *stall* in their history (the
#    `stalled` line above) and puts them back in line; the second worker's sweep did it, and then ran the job.
#
# The second run started **from the beginning** of the handler: queuekit cannot know that the e-mail had already
# gone. A job that keeps killing its workers does not loop forever: past `max_stalls` stalls (1 by default) it
# fails for good.
#
# Killing is not the only way to get there. A handler that fails *after* its side effect (the e-mail sent, then
# the database write raises) is retried from the start too, when the job has attempts left. Whatever the cause, the
# cure is the same: make the handler safe to run twice.

# %% [markdown]
# ## 4. An idempotent handler: a marker, set in the same step as the effect
#
# The handler must **remember** what it already did, under a key that names the effect: here "the welcome e-mail of
# Ada", `sent:welcome:ada`. Redis's `SET key value NX` sets a key only if it does not exist yet, and says whether it
# did: the first run sets the marker, every later run finds it.
#
# The marker and the effect must happen **together**. In two separate commands, the worker can die between them:
#
# * marker first, then the e-mail: a death in between means the e-mail is never sent (the next run sees the marker);
# * e-mail first, then the marker: a death in between means the e-mail is sent twice.
#
# A Lua script runs on the server as one step, which nothing can cut in half (lesson 09: queuekit's own scripts rely
# on it). `client.register_script` turns it into a function:

# %%
SEND_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX') then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
"""
send_once = client.register_script(SEND_ONCE)
client.delete("outbox")
first = send_once(keys=["sent:welcome:grace", "outbox"], args=["welcome grace"])
again = send_once(keys=["sent:welcome:grace", "outbox"], args=["welcome grace"])
print("first run:", first, "| second run:", again, "| outbox:", client.lrange("outbox", 0, -1))
assert (first, again) == (1, 0)
assert client.lrange("outbox", 0, -1) == ["welcome grace"]

# %% [markdown]
# The marker is keyed by **what the effect is about** (the user's welcome e-mail), not by the job's id: a second job
# for the same user, added by a client that clicked twice, is caught too. In the same handler module, the idempotent
# version; then the same experiment as in section 2.

# %%
(folder / "tasks_once.py").write_text(f'''
import os
import time

from queuekit import connect

SLOW = float(os.environ.get("SLOW", "0"))
client = connect()
send_once = client.register_script("""{SEND_ONCE}""")

def welcome(job):
    user = job.data["user"]
    sent = send_once(keys=[f"sent:welcome:{{user}}", "outbox"], args=[f"welcome {{user}}"])
    time.sleep(SLOW)
    return "sent" if sent else "already sent"

handlers = {{"welcome": welcome}}
''')
import tasks_once

client.delete("outbox")
doomed = start_worker("tasks_once", SLOW="60")
job = queue.add("welcome", {"user": "alan"})
wait_until(lambda: client.llen("outbox") == 1)
doomed.send_signal(signal.SIGKILL)
doomed.wait(timeout=10)

rescuer = queue.process("welcome", tasks_once.welcome, lease=1)
wait_until(lambda: queue.get_job(job.id).state == JobState.COMPLETE)
rescuer.stop()
done = queue.get_job(job.id)
print("result:", done.result, "| stalls:", done.stalls, "| outbox:", client.lrange("outbox", 0, -1))
assert done.result == "already sent" and done.stalls == 1      # it ran twice...
assert client.lrange("outbox", 0, -1) == ["welcome alan"]       # ...and Alan got one e-mail

# %% [markdown]
# ## 5. A frozen worker: a handler that blocks past its lease
#
# A worker's heartbeat runs on its event loop. An `async def` handler that calls something blocking (`time.sleep`,
# a blocking HTTP call, a long computation) instead of awaiting freezes that loop: no heartbeat, and the lease runs
# out although the process is alive. (Sending `SIGSTOP` to the process does the same: lesson 09 did it.) Another
# worker's sweep then puts the job back in line and runs it again, while the frozen worker is still inside it.
#
# Our "report" handler, in the worker process started with `FREEZE=1`, blocks its loop until the notebook creates
# the file `wake`, so we decide when it wakes; the rescuer runs here, without freezing. When the frozen worker wakes
# and reports its outcome, `finish.lua` refuses it: the job no longer carries its lease token, and only one result
# is stored. The *side effect*, though, would have happened twice without the marker.

# %%
(folder / "tasks_report.py").write_text(f'''
import os
import time

from queuekit import connect

client = connect()
send_once = client.register_script("""{SEND_ONCE}""")
FREEZE = os.environ.get("FREEZE") == "1"

async def report(job):
    month = job.data["month"]
    sent = send_once(keys=[f"sent:report:{{month}}", "outbox"], args=[f"report {{month}}"])
    while FREEZE and not os.path.exists("wake"):
        time.sleep(0.05)        # blocks the event loop: no heartbeat, the lease (1 s) runs out
    return f"{{'sent' if sent else 'already sent'}} by process {{os.getpid()}}"

handlers = {{"report": report}}
''')
import tasks_report

(folder / "wake").unlink(missing_ok=True)
frozen = start_worker("tasks_report", FREEZE="1")
job = queue.add("report", {"month": "November"})
wait_until(lambda: client.llen("outbox") == 2)               # the report is out; the worker is frozen
other = queue.process("report", tasks_report.report, lease=1)
wait_until(lambda: queue.get_job(job.id).state == JobState.COMPLETE)
other.stop()
print("stored result:", queue.get_job(job.id).result)

(folder / "wake").touch()                                      # the frozen worker wakes up and reports
time.sleep(1.0)
complaints = stop(frozen)
told = any("lease lost" in line or "lost the lease" in line for line in complaints.splitlines())
print("the frozen worker was told it had lost the lease, and its outcome was dropped:", told)
done = queue.get_job(job.id)
assert done.result == f"already sent by process {os.getpid()}"  # the rescuer's outcome (this process) stands
assert told                                                       # the frozen one was told it lost the job
assert client.lrange("outbox", 0, -1) == ["welcome alan", "report November"]   # one report e-mail

# %% [markdown]
# ## 6. A checklist for handlers
#
# * **Assume every job may run twice.** Killed, frozen or failed-then-retried, the handler starts again from the top.
# * **Remember effects under a key that names them** (`sent:welcome:<user>`, `paid:<payment id>`), not under the
#   job's id, so that a duplicate job is caught too. Give the marker an expiry (`SET ... NX EX 604800`) when it
#   only needs to outlive the retries.
# * **Set the marker in the same step as the effect**: a Lua script (or a transaction) when the effect is in Redis.
#   When it is outside (a real e-mail, a payment provider), pass the provider an *idempotency key* it checks
#   itself, or write the effect to an outbox in the same step and send it from there.
# * **Prefer effects that are naturally idempotent**: "set the seat count to 12" rather than "decrement it", a
#   `HSET` keyed by the payment rather than an `INCRBY`.
# * **Keep the event loop free** in `async` handlers (await, or run blocking code in a plain `def` handler, which
#   runs on a thread and does not stop the heartbeat). Long handlers can call `job.heartbeat()` to renew the lease
#   themselves.

# %%
queue.obliterate()
client.delete("outbox", "sent:welcome:grace", "sent:welcome:alan", "sent:report:November")
queue.events.close()
client.close()
if server is not None:
    del os.environ["REDIS_URL"]
    server.stop()

# %% [markdown]
# ## Grade an exercise here
#
# The exercise `ex17_idempotent`: a payment handler that credits an account exactly once. Its grader runs your
# worker as a process, kills it in the middle of a job, lets another worker run the job again after the lease, and
# checks that the account was credited once.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex17_idempotent")
assert result.status in ("pass", "fail", "error")
results_table(result)

# %% [markdown]
# ## Your exercises
#
# * **`exercises/ex17_idempotent.py`**: a handler made idempotent with a marker set, in one Lua script, together
#   with the credit.
# * Try it: run section 2 again with `tasks_once`, and kill the worker with `SIGSTOP` instead of `SIGKILL`; then
#   wake it with `SIGCONT` and read what it logs.
#
# Next lesson: seeing a queue from the outside, with the dashboard, its JSON API and its metrics.
