"""Grader of exercise ex16_registry_app (beyond the course): the OpenPaaS-style registry."""

from __future__ import annotations

import pytest

from queuekit import Queue
from queuekit.patterns import Registry
from exercise_support import call, compare_lines, load, run_script

ex = load("ex16_registry_app.py", "import_contacts", "contact_import_title", "build_registry", "submit_import",
          "describe_job", "safe_submit")


def test_title() -> None:
    got = call(ex.contact_import_title, {"user": "ada", "contacts": ["a", "b", "c"]})
    assert got == "Import 3 contacts for ada", (
        f"contact_import_title({{'user': 'ada', 'contacts': ['a', 'b', 'c']}}) returned {got!r}; expected "
        "'Import 3 contacts for ada'")


@pytest.fixture
def registry(store):
    reg = call(ex.build_registry, Queue())
    yield reg
    stop = getattr(reg, "stop", None)
    if callable(stop):
        stop(timeout=5)


def test_build_registry_adds_the_worker(registry) -> None:
    assert isinstance(registry, Registry), f"build_registry(queue) returned {registry!r}; expected a Registry"
    assert "contact-import" in registry.handlers, (
        f"the registry should have the worker 'contact-import'; it has {sorted(registry.handlers)}")


def test_submit_and_process(registry) -> None:
    job_id = call(ex.submit_import, registry, "ada", ["bob@example.com", "carol@example.com"])
    assert isinstance(job_id, str), f"submit_import should return the job id (a str); it returned {job_id!r}"
    job = registry.get_job_by_id(job_id)
    assert job is not None and job.type == "contact-import", f"no contact-import job with id {job_id!r}"
    assert job.data == {"title": "Import 2 contacts for ada", "user": "ada",
                        "contacts": ["bob@example.com", "carol@example.com"]}, (
        f"the job's data is {job.data!r}; expected the title added to {{'user': 'ada', 'contacts': [...]}}")
    result = job.wait(10)
    assert result == 2, f"import_contacts should return how many contacts were imported (2); the result is {result!r}"
    job.refresh()
    assert job.percent == 100, f"import_contacts should report progress up to 100%; the job is at {job.percent}%"
    assert job.logs == ["imported bob@example.com", "imported carol@example.com"], (
        f"the job's log should read 'imported <contact>' per contact; it holds {job.logs}")
    line = call(ex.describe_job, registry, job_id)
    assert line == f"Job {job_id} (Import 2 contacts for ada): complete, result 2", f"describe_job gave {line!r}"
    missing = call(ex.describe_job, registry, "999")
    assert missing == "Job 999 not found", f"describe_job(registry, '999') gave {missing!r}"


def test_safe_submit_reports_the_registry_errors(registry) -> None:
    got = call(ex.safe_submit, registry, "calendar-sync", {})
    assert got == "error: Can not find worker for this job calendar-sync", f"safe_submit to an unknown worker: {got!r}"
    got = call(ex.safe_submit, registry, "", {})
    assert got.startswith("error: ") and "Cannot submit a job without workerName" in got, (
        f"safe_submit with an empty worker name: {got!r}")


def test_script(record_property) -> None:
    script, code = run_script("ex16_registry_app.py", timeout=30)
    record_property("learner_output", script.transcript())
    problem = compare_lines(script.lines, ["Job 1 (Import 2 contacts for ada): complete, result 2",
                                           "Job 999 not found", "error: Can not find worker for this job calendar-sync"],
                            "`python ex16_registry_app.py`")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}\n{script.error_tail()}"
