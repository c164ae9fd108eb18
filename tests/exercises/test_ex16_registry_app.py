"""Grader of exercise ex16_registry_app (beyond the course): the OpenPaaS-style registry."""

from __future__ import annotations

import pytest
from exercise_support import call, compare_lines, load, run_script

from queuekit import Job, Queue
from queuekit.errors import QueuekitError
from queuekit.patterns import Registry

ex = load("ex16_registry_app.py", "import_contacts", "contact_import_title", "build_registry", "submit_import",
          "describe_job", "safe_submit")
#: jobs already on the queue when the registry is built: the learner's first job is 5, never 1
ALREADY = 4


class _Recorder(Job):
    """A job that records, in order, what the handler reports (no queue needed)."""

    def __init__(self, data: dict) -> None:
        super().__init__(type="contact-import", data=data)
        self.events: list[tuple] = []

    def log(self, fmt, *args):  # type: ignore[override]
        self.events.append(("log", fmt % args if args else fmt))

    def progress(self, done, total=100, data=None):  # type: ignore[override]
        self.events.append(("progress", done, total))


def test_title() -> None:
    got = call(ex.contact_import_title, {"user": "ada", "contacts": ["a", "b", "c"]})
    assert got == "Import 3 contacts for ada", (
        f"contact_import_title({{'user': 'ada', 'contacts': ['a', 'b', 'c']}}) returned {got!r}; expected "
        "'Import 3 contacts for ada'")


def test_import_contacts_reports_each_contact() -> None:
    job = _Recorder({"user": "ada", "contacts": ["a@x", "b@x", "c@x"]})
    got = call(ex.import_contacts, job)
    assert got == 3, f"import_contacts(job) with 3 contacts returned {got!r}; expected 3 (how many were imported)"
    expected = [("log", "imported a@x"), ("progress", 1, 3), ("log", "imported b@x"), ("progress", 2, 3),
                ("log", "imported c@x"), ("progress", 3, 3)]
    assert job.events == expected, (
        "for each contact in turn, import_contacts should log 'imported <contact>' then report the progress "
        f"(done, total): expected the calls\n    {expected}\n  it made\n    {job.events}")


@pytest.fixture
def registry(store):
    queue = Queue()
    for _ in range(ALREADY):
        queue.add("older", {})
    reg = call(ex.build_registry, queue)
    yield reg
    stop = getattr(reg, "stop", None)
    if callable(stop):
        stop(timeout=5)


def test_build_registry_adds_the_worker(registry) -> None:
    assert isinstance(registry, Registry), f"build_registry(queue) returned {registry!r}; expected a Registry"
    assert "contact-import" in registry.handlers, (
        f"the registry should have the worker 'contact-import'; it has {sorted(registry.handlers)}")


def test_submit_and_process(registry) -> None:
    job_id = call(ex.submit_import, registry, "grace", ["bob@example.com", "carol@example.com"])
    assert isinstance(job_id, str), f"submit_import should return the job id (a str); it returned {job_id!r}"
    job = registry.get_job_by_id(job_id)
    assert job is not None and job.type == "contact-import", f"no contact-import job with id {job_id!r}"
    assert job.data == {"title": "Import 2 contacts for grace", "user": "grace",
                        "contacts": ["bob@example.com", "carol@example.com"]}, (
        f"submit_import(registry, 'grace', [2 contacts]) saved the data {job.data!r}; expected the title added to "
        "{'user': 'grace', 'contacts': [...]}")
    result = job.wait(10)
    assert result == 2, f"import_contacts should return how many contacts were imported (2); the result is {result!r}"
    job.refresh()
    assert job.percent == 100, f"import_contacts should report progress up to 100%; the job is at {job.percent}%"
    assert job.logs == ["imported bob@example.com", "imported carol@example.com"], (
        f"the job's log should read 'imported <contact>' per contact; it holds {job.logs}")
    line = call(ex.describe_job, registry, job_id)
    want = f"Job {job_id} (Import 2 contacts for grace): complete, result 2"
    assert line == want, (f"describe_job(registry, {job_id!r}) gave {line!r}; expected {want!r} (job {job_id}: the "
                          "queue already held jobs)")
    missing = call(ex.describe_job, registry, "999")
    assert missing == "Job 999 not found", (
        f"describe_job(registry, '999') gave {missing!r}; expected 'Job 999 not found'")


def _safe(registry, name: str, data: dict, what: str) -> str:
    try:
        return call(ex.safe_submit, registry, name, data)
    except QueuekitError as exc:
        pytest.fail(f"safe_submit(registry, {name!r}, {data!r}) ({what}) let the registry's {type(exc).__name__} "
                    f"through ({exc}); it should answer 'error: {exc}'", pytrace=False)
    except Exception as exc:  # noqa: BLE001 - reported to the learner
        pytest.fail(f"safe_submit(registry, {name!r}, {data!r}) ({what}) raised {type(exc).__name__}: {exc}. It "
                    "should submit to the worker name it is given and answer the registry's refusal as "
                    "'error: MESSAGE'", pytrace=False)


def test_safe_submit_reports_the_registry_errors(registry) -> None:
    got = _safe(registry, "calendar-sync", {}, "an unknown worker")
    want = "error: Can not find worker for this job calendar-sync"
    assert got == want, f"safe_submit to an unknown worker answered {got!r}; expected {want!r}"
    got = _safe(registry, "", {}, "no worker name")
    want = "error: workerName: Cannot submit a job without workerName"
    assert got == want, f"safe_submit with an empty worker name answered {got!r}; expected {want!r}"
    got = _safe(registry, "contact-import", {"user": "ada", "contacts": ["x@example.com"]}, "a known worker")
    job = registry.get_job_by_id(got) if isinstance(got, str) and not got.startswith("error") else None
    assert job is not None and job.type == "contact-import" and job.data.get("user") == "ada", (
        f"safe_submit(registry, 'contact-import', {{...}}) should submit to that worker and answer the job id; it "
        f"answered {got!r}")


def test_script(record_property) -> None:
    script, code = run_script("ex16_registry_app.py", timeout=30)
    record_property("learner_output", script.transcript())
    expected = ["Job 1 (Import 2 contacts for ada): complete, result 2", "Job 999 not found",
                "error: Can not find worker for this job calendar-sync"]
    problem = compare_lines(script.lines, expected, "`python ex16_registry_app.py`")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}\n{script.error_tail()}"
