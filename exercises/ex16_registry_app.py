"""Beyond the course (c) — A small app on the OpenPaaS-style registry.

OpenPaaS (linagora/openpaas-esn) wraps its Kue queue in a tiny registry: workers are added by name with a
`handle(job)` and a `get_title(data)`, jobs are submitted by worker name, and looked up by id. queuekit has the same
thing: `queuekit.patterns.Registry(queue)` with `add_worker(name, handle, get_title)` (its worker starts at once, in
the background), `submit_job(name, data) -> job id` (the data gets a "title" key from get_title) and
`get_job_by_id(id)`. Build a contact-import service on it. Write:

1. `import_contacts(job)`: the handler. For each contact of `job.data["contacts"]`, in turn: log it
   (`job.log("imported %s", contact)`), then report the progress so far (`job.progress(done, total)`: 1 of 3, 2 of
   3, 3 of 3); return how many contacts were imported.
2. `contact_import_title(data)`: `f"Import {len(data['contacts'])} contacts for {data['user']}"`.
3. `build_registry(queue)`: a `Registry` on `queue` with the worker `contact-import` (`WORKER_NAME`) added;
   return it.
4. `submit_import(registry, user, contacts)`: submit a `contact-import` job with data
   `{"user": user, "contacts": contacts}`; return the job id.
5. `describe_job(registry, job_id)`: `Job ID (TITLE): STATE, result RESULT` for an existing job, else
   `Job ID not found` (ID as asked: on a queue that already holds jobs, the first import is not job 1).
6. `safe_submit(registry, worker_name, data)`: submit to any worker name and return the job id, or
   `error: MESSAGE` when the registry refuses, MESSAGE being the error as text (`str(error)`). It raises
   `HandlerNotFound` for an unknown worker name (`error: Can not find worker for this job calendar-sync`) and
   `ValidationError` for a missing or empty one, `None` or `""` (`error: workerName: Cannot submit a job without
   workerName`).

Run it without `REDIS_URL` (the script then uses its own embedded store: no server to start; with `REDIS_URL`
set to a server that already holds jobs, the first import is not job 1):

    python exercises/ex16_registry_app.py

Expected output:

    Job 1 (Import 2 contacts for ada): complete, result 2
    Job 999 not found
    error: Can not find worker for this job calendar-sync

Check it: `queuekit learn check ex16_registry_app`.
"""

from __future__ import annotations

from queuekit import Queue
from queuekit.errors import HandlerNotFound, JobFailed, ValidationError, WaitTimeout
from queuekit.patterns import Registry

WORKER_NAME = "contact-import"


def import_contacts(job) -> int:
    """Handle a contact-import job: "import" each contact; the result is how many were imported."""
    # TODO: for each contact in turn, log it, then report how many are done out of how many (the dashboard shows
    #       the job moving); answer the count
    raise NotImplementedError("import_contacts")


def contact_import_title(data: dict) -> str:
    """The job's title, stored in its data by the registry."""
    # TODO: the statement's title, from the data's contacts (how many) and user
    raise NotImplementedError("contact_import_title")


def build_registry(queue: Queue) -> Registry:
    """A registry on ``queue`` with the contact-import worker added (its worker starts at once)."""
    # TODO: a Registry on the queue you are given, with WORKER_NAME added (its handler and its title function)
    raise NotImplementedError("build_registry")


def submit_import(registry: Registry, user: str, contacts: list[str]) -> str:
    """Submit a contact import; returns the job id."""
    # TODO: submit to WORKER_NAME with the user and contacts you are given (the registry adds the title)
    raise NotImplementedError("submit_import")


def describe_job(registry: Registry, job_id: str) -> str:
    """One line about a job: ``Job ID (TITLE): STATE, result RESULT`` or ``Job ID not found``."""
    # TODO: look the job up by id; an unknown id has no job (say so); else build the line from the job itself
    raise NotImplementedError("describe_job")


def safe_submit(registry: Registry, worker_name: str, data: dict) -> str:
    """Submit to any worker name; answer the job id, or the registry's error message."""
    # TODO: submit to the name given; catch the two errors the registry raises and answer them as text
    raise NotImplementedError("safe_submit")


if __name__ == "__main__":
    registry = build_registry(Queue())
    job_id = submit_import(registry, "ada", ["bob@example.com", "carol@example.com"])
    try:
        registry.get_job_by_id(job_id).wait(10)
    except (JobFailed, WaitTimeout):
        pass
    print(describe_job(registry, job_id))
    print(describe_job(registry, "999"))
    print(safe_submit(registry, "calendar-sync", {}))
    registry.stop()
