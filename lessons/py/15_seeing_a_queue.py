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
# # Lesson 15 · Seeing a queue: the dashboard, its JSON API and its metrics
#
# A queue in production runs without anybody watching it, until somebody must: how many jobs wait, which ones
# failed and why, are the workers keeping up? queuekit answers from the outside in three ways:
#
# * the **dashboard**, a web page for people (`queuekit dashboard`, then a browser on `http://127.0.0.1:8790/`);
# * its **JSON API**, the same answers for programs: Kue's routes under `/api/queues/<queue>/...` (the dashboard's
#   page uses nothing else), so a script, a cron job or another service can read and act on a queue over HTTP;
# * **`/metrics`**, the counts in Prometheus's text format, for a monitoring system that draws graphs and raises
#   alerts.
#
# This notebook serves the dashboard itself, on a free port of this machine, and talks to it over real HTTP.
# No browser is needed; if you run it yourself, you may open the address it prints.

# %% [markdown]
# ## 1. A queue with some history
#
# One server for everybody (`REDIS_URL` when it is set, else an embedded server), a queue, and a few jobs run by a
# worker in the notebook: some complete, some fail. A worker logs each failure for the operator's terminal; here we
# keep its log quiet, since we are about to read the failures through the API.

# %%
import logging
import os
import time

from queuekit import Queue, Worker
from queuekit.server import EmbeddedServer

logging.getLogger("queuekit").setLevel(logging.ERROR)

server = None
url = os.environ.get("REDIS_URL")
if url is None:
    server = EmbeddedServer(port=0).start()
    url = server.url
queue = Queue("lesson15", url=url)
queue.obliterate()


def resize(job):
    if job.data["image"].endswith(".gif"):
        raise ValueError(f"cannot resize {job.data['image']}: animated images are not supported")
    return {"thumbnail": "small-" + job.data["image"]}


queue.add_bulk([("resize", {"image": name}) for name in ("cat.png", "dog.jpg", "party.gif", "bird.png", "wave.gif")])
queue.add("resize", {"image": "later.png"}, delay=3_600_000)          # due in an hour
finished = Worker(queue, {"resize": resize}).drain()
print(f"{finished} jobs finished:", queue.counts())
assert queue.counts() == {"inactive": 0, "active": 0, "delayed": 1, "complete": 3, "failed": 2}

# %% [markdown]
# ## 2. Serving the dashboard from the notebook
#
# `create_app(url)` builds the dashboard (a Starlette application); `uvicorn` serves it. `queuekit dashboard` does
# both from a terminal and blocks; in a notebook we run uvicorn on a **background thread**, listening on a free
# port of `127.0.0.1` only (nothing outside this machine can reach it), and stop it at the end.

# %%
import threading

import httpx
import uvicorn

from queuekit.web import create_app, listen

app = create_app(url)
sock = listen("127.0.0.1", 0)                          # port 0: the system picks a free port
web = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1))
web_thread = threading.Thread(target=web.run, kwargs={"sockets": [sock]}, daemon=True)
web_thread.start()
while not web.started:
    time.sleep(0.05)
base = f"http://127.0.0.1:{sock.getsockname()[1]}"
api = f"{base}/api/queues/lesson15"
print("dashboard:", base + "/")

page = httpx.get(base + "/")
assert page.status_code == 200 and "text/html" in page.headers["content-type"]

# %% [markdown]
# ## 3. Reading: stats, a job, ranges of jobs
#
# `GET /stats` gives the counts with Kue's names. Every answer is JSON; an error is too, `{"error": "..."}` with a
# status that says what went wrong (404 for an unknown job, 400 for a bad request...).

# %%
stats = httpx.get(f"{api}/stats").json()
print(stats)
assert (stats["inactiveCount"], stats["delayedCount"], stats["completeCount"], stats["failedCount"]) == (0, 1, 3, 2)

# %% [markdown]
# `GET /jobs/<state>/<from>..<to>/<order>` lists jobs in one state. The range counts from 0 and **includes both
# ends**: `0..9` is the first ten. To read a long list, ask for pages (`0..99`, `100..199`...) until one comes back
# short. `GET /job/<id>` gives one job, with every failed attempt.

# %%
failed = httpx.get(f"{api}/jobs/failed/0..9/asc").json()
for job in failed:
    print(job["id"], job["data"]["image"], "->", job["error"])
assert [job["data"]["image"] for job in failed] == ["party.gif", "wave.gif"]

one = httpx.get(f"{api}/job/{failed[0]['id']}").json()
print({key: one[key] for key in ("id", "type", "state", "attempts")})
print("its failed attempts:", [attempt["error"] for attempt in one["failed_attempts"]])
assert one["state"] == "failed" and one["attempts"]["made"] == 1

missing = httpx.get(f"{api}/job/9999")
print(missing.status_code, missing.json())
assert missing.status_code == 404

# %% [markdown]
# The same ranges exist per job type (`/jobs/resize/complete/0..1/desc`: the two newest complete "resize" jobs),
# with a count (`/jobs/resize/complete/stats`).

# %%
newest = httpx.get(f"{api}/jobs/resize/complete/0..1/desc").json()
print([job["result"] for job in newest])
count = httpx.get(f"{api}/jobs/resize/complete/stats").json()
assert len(newest) == 2 and count == {"count": 3}

# %% [markdown]
# ## 4. Acting: creating jobs, retrying failures
#
# `POST /job` creates a job from `{"type", "data", "options"}`, or many from a list of them, in one request. The
# answer carries the new ids. An invalid job is refused with 400 and says why; in a list, the valid ones are still
# created and the refused one is answered `{"error": ...}` in its place.

# %%
created = httpx.post(f"{api}/job", json=[{"type": "resize", "data": {"image": "fox.png"}},
                                         {"type": "resize", "data": {"image": "owl.png"},
                                          "options": {"priority": "high"}}])
print(created.status_code, created.json())
ids = [answer["id"] for answer in created.json()]
assert created.status_code == 200 and queue.get_job(ids[1]).opts.priority == -10      # "high" is -10

refused = httpx.post(f"{api}/job", json={"type": "resize", "data": {}, "options": {"attempts": 0}})
print(refused.status_code, refused.json())
assert refused.status_code == 400 and refused.json()["error"].startswith("attempts")

# %% [markdown]
# A failed job goes back in line with `POST /job/<id>/retry` (or a selection of them with `POST /jobs/retry` and
# `{"ids": [...]}`). Every action is written to the queue's audit log, which `GET /audit` reads.

# %%
retried = httpx.post(f"{api}/job/{failed[0]['id']}/retry")
print(retried.json())
assert queue.get_job(failed[0]["id"]).state.value == "inactive"
audit = httpx.get(f"{api}/audit").json()["entries"]
print([(entry["action"], entry["target"]) for entry in audit])
assert audit[0]["action"] == "retry"

# %% [markdown]
# A dashboard that anyone on the network can reach should not let anyone act: `create_app(read_only=True)` refuses
# every action with 403, and `token=` requires a secret on every request (docs/dashboard.md).

# %% [markdown]
# ## 5. Metrics for Prometheus
#
# `GET /metrics` answers the counts (and more: workers, the age of the oldest waiting job...) in Prometheus's text
# format: one line per *sample*, a metric name with *labels* and a value. Prometheus reads it every few seconds
# and keeps the history. `prometheus_client` ships the parser Prometheus-compatible tools use; we read the samples
# of `queuekit_jobs` for our queue.

# %%
from prometheus_client.parser import text_string_to_metric_families

text = httpx.get(f"{base}/metrics").text
print("\n".join(line for line in text.splitlines() if 'state="failed"' in line and "lesson15" in line))

jobs_by_state = {}
for family in text_string_to_metric_families(text):
    if family.name == "queuekit_jobs":
        for sample in family.samples:
            if sample.labels["queue"] == "lesson15":
                state = sample.labels["state"]
                jobs_by_state[state] = jobs_by_state.get(state, 0) + int(sample.value)
print(jobs_by_state)
assert jobs_by_state == queue.counts()

# %% [markdown]
# A Prometheus alert on these samples might read "failed jobs grew by more than 10 in five minutes", or "jobs are
# waiting and no worker is live". `queuekit metrics --port 9790` serves `/metrics` alone, for a Prometheus that
# should see nothing else.

# %% [markdown]
# ## 6. Stopping
#
# The dashboard's thread ends when we ask uvicorn to exit; then the queue and the server go.

# %%
web.should_exit = True
web_thread.join(timeout=10)
assert not web_thread.is_alive()
queue.obliterate()
queue.events.close()
if server is not None:
    server.stop()

# %% [markdown]
# ## Grade an exercise here
#
# The exercise `ex18_queue_api`: an operator's tools written as HTTP calls to this API. Its grader serves a real
# dashboard, calls your functions, and counts the requests they make.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex18_queue_api")
assert result.status in ("pass", "fail", "error")
results_table(result)

# %% [markdown]
# ## Your exercises
#
# * **`exercises/ex18_queue_api.py`**: create jobs, read counts, page through failures, retry them and wait for a
#   queue to drain, all over HTTP.
# * Try it: `queuekit demo --dashboard` fills a queue and serves its dashboard; open it in a browser, then read the
#   same answers with `httpx` from a Python shell.
#
# This is the last lesson of round 2.
