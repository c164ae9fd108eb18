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
# # Lesson 12 · Reusing queuekit in a small project
#
# You know how a queue works. In a project, though, you rarely want every module to create jobs and workers by
# hand: you want one small, well-named layer. Two real platforms show two good shapes for it, and queuekit
# implements both in `queuekit.patterns`:
#
# * **OpenPaaS** (an open-source collaboration platform) has a *job registry*: modules register named workers once
#   (`addWorker`), and anyone submits work by name (`submitJob`) and checks on it by id (`getJobById`).
# * **scriptr.io** (an IoT scripting platform) queues *scripts*: `queue.getInstance(channel)` then
#   `queue("path/to/script", params)`; the scripts of a channel run one after another.
#
# At the end we build a tiny photo service with them.

# %%
import time

from queuekit import JobState, Queue
from queuekit.errors import HandlerNotFound, ValidationError
from queuekit.patterns import Registry, ScriptQueue

queue = Queue("lesson12")
queue.obliterate();

# %% [markdown]
# ## 1. The OpenPaaS registry
#
# `add_worker(name, handle, get_title)` registers a worker: `handle(job)` does the work, `get_title(data)` builds a
# human-readable title stored with the job (OpenPaaS shows it in its admin page). By default the registry starts
# a background worker for that name right away. `submit_job(name, data)` returns the new job's id.

# %%
registry = Registry(queue)


def import_contacts(job):
    contacts = job.data["contacts"]
    for n, _ in enumerate(contacts, start=1):
        job.progress(n, len(contacts))
    return {"imported": len(contacts)}


registry.add_worker("contact-import", import_contacts,
                    lambda data: f"Import {len(data['contacts'])} contacts for {data['user']}")

job_id = registry.submit_job("contact-import", {"user": "ada", "contacts": ["alan", "grace", "edsger"]})
job = registry.get_job_by_id(job_id)
assert job.wait(timeout=10) == {"imported": 3}

job = registry.get_job_by_id(job_id)
print(job.data)
assert job.data["title"] == "Import 3 contacts for ada"       # the title travels with the data
assert job.state == JobState.COMPLETE and job.percent == 100

# %% [markdown]
# A registry is a contract, so it refuses mistakes early with OpenPaaS's own messages: a worker without a name or
# handler, a job for a worker nobody registered.

# %%
def refused(call):
    try:
        call()
    except (ValidationError, HandlerNotFound) as error:
        return str(error)
    raise AssertionError("this call should have been refused")


print(refused(lambda: registry.add_worker(None, import_contacts, str)))
assert "worker.name is required" in refused(lambda: registry.add_worker(None, import_contacts, str))
assert "worker.handler is required" in refused(lambda: registry.add_worker("x", None, str))
assert "Cannot submit a job without workerName" in refused(lambda: registry.submit_job(None, {}))
assert "Can not find worker for this job nope" in refused(lambda: registry.submit_job("nope", {}))
assert registry.get_job_by_id("999") is None
registry.stop()

# %% [markdown]
# ## 2. The scriptr.io script queue
#
# A `ScriptQueue` is bound to a *channel* and runs registered scripts, **one at a time**, in the order they were
# queued: handy when scripts must not overlap (they update the same device, the same file). Only registered paths
# can run: the job data names a script, it never carries code.

# %%
scripts = ScriptQueue.get_instance("internal_topic")
scripts.jobs.obliterate()
spans = []


@scripts.register("tutorials/howto/queuing/job")
def job_script(params):
    started = time.monotonic()
    time.sleep(0.05)
    spans.append((started, time.monotonic()))
    return f"processed {params['device']}"


queued = [scripts.queue("tutorials/howto/queuing/job", {"device": f"sensor-{n}"}) for n in range(5)]
scripts.start()
results = [job.wait(timeout=10) for job in queued]
scripts.stop()

print(results)
assert results == [f"processed sensor-{n}" for n in range(5)]
assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))   # never two at once
assert "no script registered" in refused(lambda: scripts.queue("rm -rf /", {}))

# %% [markdown]
# ## 3. A small project: a photo service
#
# Putting it together. Our "photo service" has one public function, `upload(user, photo)`. Behind it, two
# registered workers:
#
# * `thumbnail` makes a small version of the photo, then **submits the next job** itself: chaining jobs is just
#   submitting from a handler;
# * `notify` tells the user their photo is ready.
#
# The rest of the project only knows `upload` and `status`: the queue is an implementation detail, easy to test
# (lesson 06) and to scale (lesson 11).

# %%
outbox = []
service = Registry(Queue("photos"), concurrency=2)
service.queue.obliterate()


def make_thumbnail(job):
    time.sleep(0.02)                                   # the image work
    thumb = job.data["photo"].replace(".jpg", "-small.jpg")
    service.submit_job("notify", {"user": job.data["user"], "text": f"{thumb} is ready"})
    return thumb


def notify(job):
    outbox.append((job.data["user"], job.data["text"]))


service.add_worker("thumbnail", make_thumbnail, lambda d: f"thumbnail of {d['photo']}")
service.add_worker("notify", notify, lambda d: f"tell {d['user']}")


def upload(user, photo):
    """Accept a photo; the heavy work happens in the background. Returns a tracking id."""
    return service.submit_job("thumbnail", {"user": user, "photo": photo})


def status(tracking_id):
    job = service.get_job_by_id(tracking_id)
    return job.state.value if job else "unknown"


ids = [upload(user, f"{user}-holiday.jpg") for user in ("ada", "alan", "grace")]
deadline = time.monotonic() + 15
while len(outbox) < 3:
    assert time.monotonic() < deadline
    time.sleep(0.02)
service.stop()

print(sorted(outbox))
assert sorted(outbox) == [("ada", "ada-holiday-small.jpg is ready"), ("alan", "alan-holiday-small.jpg is ready"),
                          ("grace", "grace-holiday-small.jpg is ready")]
assert [status(i) for i in ids] == ["complete"] * 3 and status("424242") == "unknown"
service.queue.obliterate()
queue.obliterate();

# %% [markdown]
# To run the workers of such a project in their own processes, point the command line at the registry:
# `queuekit worker photo_service:service` runs every worker it registered (create it with `Registry(queue,
# process=False)` in that module, so importing it does not start threads).
#
# ## Grade an exercise here
#
# The exercise `ex16_registry_app`: a contact-import service on the registry, like section 1 with a few more
# functions around it.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex16_registry_app")
assert result.status in ("pass", "fail", "error")
results_table(result)

# %% [markdown]
# ## Your exercises
#
# * **`exercises/ex16_registry_app.py`**: a contact-import service on `add_worker` / `submit_job` /
#   `get_job_by_id`.
# * Try it: add a third worker to the photo service (`watermark`, chained between `thumbnail` and `notify`).
#
# Next and last lesson: measuring a queue.
