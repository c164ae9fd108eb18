"""Beyond the course (c) — A small app on the OpenPaaS-style registry. (Reference solution.)"""

from __future__ import annotations

from queuekit import Queue
from queuekit.errors import HandlerNotFound, JobFailed, ValidationError, WaitTimeout
from queuekit.patterns import Registry

WORKER_NAME = "contact-import"


def import_contacts(job) -> int:
    """Handle a contact-import job: "import" each contact; the result is how many were imported."""
    for done, contact in enumerate(job.data["contacts"], start=1):
        job.log("imported %s", contact)
        job.progress(done, len(job.data["contacts"]))
    return len(job.data["contacts"])


def contact_import_title(data: dict) -> str:
    """The job's title, stored in its data by the registry."""
    return f"Import {len(data['contacts'])} contacts"  # WRONG: the user is missing from the title


def build_registry(queue: Queue) -> Registry:
    """A registry on ``queue`` with the contact-import worker added (its worker starts at once)."""
    registry = Registry(queue)
    registry.add_worker(WORKER_NAME, import_contacts, contact_import_title)
    return registry


def submit_import(registry: Registry, user: str, contacts: list[str]) -> str:
    """Submit a contact import; returns the job id."""
    return registry.submit_job(WORKER_NAME, {"user": user, "contacts": contacts})


def describe_job(registry: Registry, job_id: str) -> str:
    """One line about a job: ``Job ID (TITLE): STATE, result RESULT`` or ``Job ID not found``."""
    job = registry.get_job_by_id(job_id)
    if job is None:
        return f"Job {job_id} not found"
    return f"Job {job.id} ({job.data['title']}): {job.state}, result {job.result}"


def safe_submit(registry: Registry, worker_name: str, data: dict) -> str:
    """Submit to any worker name; answer the job id, or the registry's error message."""
    try:
        return registry.submit_job(worker_name, data)
    except (HandlerNotFound, ValidationError) as error:
        return f"error: {error}"


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
