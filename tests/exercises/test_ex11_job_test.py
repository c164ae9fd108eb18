"""Grader of task 11 (exercises/ex11_job_test.py): the learner's tests, graded by mutation.

The learner's test file runs (pytest, in a subprocess, in a scratch folder) next to an ``ex10_job.py`` that is
either the correct function or one wrong version of it. It must pass against the correct one and fail against
every wrong one. A small conftest also records how the test mode was used.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from exercise_support import PROJECT_ROOT, exercise_path

pytestmark = pytest.mark.task(11)

CORRECT = (PROJECT_ROOT / "exercises" / "solutions" / "ex10_job.py").read_text(encoding="utf-8")

# name -> (what is wrong, in words; replacements applied to the correct function)
MUTANTS = {
    "no_validation": ("does not check that jobs is a list (nothing is raised for a dict)",
                      [('    if not isinstance(jobs, list):\n        raise TypeError("Jobs is not an array")\n', "")]),
    "wrong_message": ("raises the error with another message, 'jobs must be a list'",
                      [('raise TypeError("Jobs is not an array")', 'raise TypeError("jobs must be a list")')]),
    "wrong_job_type": ("creates the jobs with the type 'push_notification_code_2' instead of "
                       "'push_notification_code_3'",
                       [('JOB_TYPE = "push_notification_code_3"', 'JOB_TYPE = "push_notification_code_2"')]),
    "data_altered": ("drops the message from each job's data (only the phoneNumber is kept)",
                     [("job = queue.create(JOB_TYPE, data)",
                       'job = queue.create(JOB_TYPE, {"phoneNumber": data["phoneNumber"]})')]),
    "one_job_missing": ("forgets the last job of the list",
                        [("    for data in jobs:\n", "    for data in jobs[:-1]:\n")]),
    "not_saved": ("creates the jobs but never saves them",
                  [("        job.save()\n", "")]),
    "message_extended": ("raises the error with a longer message, 'Jobs is not an array of jobs' (check the whole "
                         "message, not its start)",
                         [('raise TypeError("Jobs is not an array")',
                           'raise TypeError("Jobs is not an array of jobs")')]),
    "reversed_order": ("creates the jobs in the reverse order of the list (check the order: the first job holds "
                       "the first dict)",
                       [("    for data in jobs:\n", "    for data in reversed(jobs):\n")]),
    "extra_job": ("creates the last job twice, three jobs for two dicts (check how many, exactly)",
                  [("    for data in jobs:\n", "    for data in jobs + jobs[-1:]:\n")]),
    "last_job_altered": ("drops the message of the last job only (check every job, not only the first)",
                         [("        job = queue.create(JOB_TYPE, data)\n",
                           "        if data is jobs[-1]:\n            data = {\"phoneNumber\": data[\"phoneNumber\"]}\n"
                           "        job = queue.create(JOB_TYPE, data)\n")]),
}

#: Runs the learner's tests against each implementation given (folders on the command line), one after the other
#: in this one process (a process per mutant was too slow on a busy machine), and records how the test mode was
#: used: jobs captured (with processing on or not), jobs still captured after each test, modes left at the end.
DRIVER = '''
import contextlib, io, json, os, sys
import fakeredis
import pytest
import queuekit.testmode as tm
from queuekit.connection import use_embedded_server

class Recorder:
    def __init__(self):
        self.seen = {"captured": 0, "captured_while_processing": 0, "left_after": []}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item, nextitem):
        yield
        left = sum(len(m.jobs) for m in tm._modes.values())
        if left:
            self.seen["left_after"].append([item.name, left])

current = [None]
_capture = tm.TestMode.capture

def _counting(self, job):
    rec = current[0]
    if rec is not None:
        rec.seen["captured"] += 1
        if self.process:
            rec.seen["captured_while_processing"] += 1
    return _capture(self, job)

tm.TestMode.capture = _counting
results = {}
for folder in sys.argv[1:]:
    for name in ("ex10_job", "ex11_job_test"):
        sys.modules.pop(name, None)
    tm._modes.clear()  # every run starts with no test mode, on a fresh embedded server
    use_embedded_server(fakeredis.FakeServer(version=(7, 0)))
    rec = Recorder()
    current[0] = rec
    sys.path.insert(0, folder)
    os.chdir(folder)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = pytest.main(["ex11_job_test.py", "-q", "-p", "no:cacheprovider", "--rootdir", folder], plugins=[rec])
    sys.path.remove(folder)
    modes = [{"queue": m.queue_name, "active": m.active, "jobs": len(m.jobs)} for m in tm._modes.values()]
    results[os.path.basename(folder)] = {"code": int(code), "output": out.getvalue(),
                                         "report": {"modes": modes, **rec.seen}}
    with open(os.environ["QK_MUTATION_REPORT"], "w") as f:
        json.dump(results, f)
'''


def _mutant_source(name: str) -> str:
    text = CORRECT
    for old, new in MUTANTS[name][1]:
        assert old in text, f"mutant {name}: the correct ex10_job.py changed; update the grader ({old!r})"
        text = text.replace(old, new)
    return text


def _run_all(base: Path, implementations: dict[str, str], timeout: float) -> dict[str, dict]:
    """Run the learner's tests against each implementation (name -> source of ex10_job.py), in one process."""
    folders = []
    for name, source in implementations.items():
        folder = base / name
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(exercise_path("ex11_job_test.py"), folder / "ex11_job_test.py")
        (folder / "ex10_job.py").write_text(source, encoding="utf-8")
        (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        folders.append(str(folder))
    report = base / f"report-{len(list(base.glob('report-*')))}.json"
    (base / "driver.py").write_text(DRIVER, encoding="utf-8")
    env = dict(os.environ, QK_MUTATION_REPORT=str(report), PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)  # the learner's tests may use queuekit's pytest fixtures
    env.pop("REDIS_URL", None)
    env.pop("QUEUEKIT_RESULTS", None)
    try:
        done = subprocess.run([sys.executable, str(base / "driver.py"), *folders], cwd=base, env=env,
                              capture_output=True, text=True, timeout=timeout)
        trouble = done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        trouble = f"(timed out after {timeout:g} s: do your tests wait for something that never comes?)"
    data = json.loads(report.read_text()) if report.exists() else {}
    return {name: data.get(name, {"code": None, "output": trouble, "report": {}}) for name in implementations}


class _Runs:
    """Runs the learner's tests lazily: against the correct function first, against the mutants only if needed."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.cache: dict[str, dict] = {}

    def __getitem__(self, name: str) -> dict:
        if name == "correct":
            if name not in self.cache:
                self.cache.update(_run_all(self.base, {"correct": CORRECT}, timeout=60))
            return self.cache[name]
        if name not in self.cache:
            todo = {m: _mutant_source(m) for m in MUTANTS if m not in self.cache}
            self.cache.update(_run_all(self.base, todo, timeout=200))
        return self.cache[name]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> _Runs:
    if not exercise_path("ex11_job_test.py").is_file():
        pytest.fail(f"MISSING FILE: {exercise_path('ex11_job_test.py')} does not exist", pytrace=False)
    return _Runs(tmp_path_factory.mktemp("mutation"))


def _tail(output: str, n: int = 25) -> str:
    return "\n".join("    " + line for line in output.strip().splitlines()[-n:])


def test_your_tests_pass_against_a_correct_function(runs, record_property) -> None:
    run = runs["correct"]
    record_property("learner_output", run["output"][-2000:])
    assert run["code"] == 0, (
        "your tests should all pass against a correct create_push_notifications_jobs, but pytest reported "
        f"(exit status {run['code']}):\n{_tail(run['output'])}")


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_your_tests_catch_a_wrong_function(runs, mutant: str, record_property) -> None:
    if runs["correct"]["code"] != 0:
        pytest.fail("first make your tests pass against the correct function (see the test above)", pytrace=False)
    run = runs[mutant]
    record_property("learner_output", run["output"][-2000:])
    assert run["code"] not in (0, None), (
        f"your tests all passed against a wrong create_push_notifications_jobs that {MUTANTS[mutant][0]}. "
        "Add a check that notices it.")


def test_test_mode_is_entered_without_processing_then_left(runs) -> None:
    report = runs["correct"]["report"]
    assert report, "no report from the test run (did your tests run at all?)\n" + _tail(runs["correct"]["output"])
    assert report.get("captured", 0) >= 2, (
        "your tests should check the jobs in queue.test_mode.jobs: enter the test mode before creating jobs "
        f"(the test mode captured {report.get('captured', 0)} job(s))")
    assert report.get("captured_while_processing", 0) == 0, (
        "enter the test mode without processing: queue.test_mode.enter(process=False) (or enter())")
    left = [m for m in report.get("modes", []) if m["active"] or m["jobs"]]
    assert not left, (
        "after your tests, the test mode should be cleared and exited; still active or holding jobs: "
        + ", ".join(f"queue {m['queue']!r} (active={m['active']}, jobs={m['jobs']})" for m in left))


def test_captured_jobs_are_cleared_after_each_test(runs) -> None:
    report = runs["correct"]["report"]
    assert report, "no report from the test run (did your tests run at all?)\n" + _tail(runs["correct"]["output"])
    left = report.get("left_after", [])
    assert not left, (
        "clear the captured jobs after each test (queue.test_mode.clear() after the yield of an autouse fixture), "
        "so that no test sees the jobs of the one before; still captured after: "
        + ", ".join(f"{name} ({count} job(s))" for name, count in left))
