"""The grading infrastructure: nothing a run started outlives it, the real Redis only when asked for (and never
database 0), and an instructor's class grading (isolated submissions in parallel, JSON and CSV)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import uuid
from pathlib import Path

import pytest
import redis
from fake_course import GRADER_HEAD, GRADERS, INFO, SOLUTIONS, STUBS, make_project

from queuekit.learn.catalog import load_catalog
from queuekit.learn.cli import main
from queuekit.learn.procs import marked_pids
from queuekit.learn.runner import RedisUrlError, check_redis_url, grade, with_database

REAL_REDIS = "redis://127.0.0.1:6379"


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (an exited process not reaped yet, a zombie, runs nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X")


# -- clean-up ------------------------------------------------------------------------------------------------------

LEAVER = GRADER_HEAD + '''
import subprocess, time

ex = load("alpha")


def test_leaves_a_detached_process_behind():
    pid_file = Path(os.environ["LEAVER_PID_FILE"])
    # a middle process starts a grandchild in a session of its own (setsid) and exits: the grandchild is an orphan
    # outside the grader's process group, as a learner's detached worker would be
    middle = ("import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], "
              "start_new_session=True); open(sys.argv[1], 'w').write(str(p.pid))")
    subprocess.run([sys.executable, "-c", middle, str(pid_file)], check=True)
    pid = int(pid_file.read_text())
    os.kill(pid, 0)  # it runs
    if os.environ.get("LEAVER_HANG"):
        time.sleep(300)  # the run is stopped at its time limit: the grader itself is killed first
    assert ex.add(2, 3) == 5
'''


@pytest.mark.parametrize("hang", [False, True], ids=["finished", "stopped-at-time-limit"])
def test_no_process_of_a_grading_run_survives_it(tmp_path: Path, hang: bool) -> None:
    project = make_project(tmp_path / "course", stubs={**STUBS, "alpha.py": SOLUTIONS["alpha.py"]},
                           graders={**GRADERS, "test_alpha.py": LEAVER})
    catalog = load_catalog(project)
    pid_file = tmp_path / "leaver.pid"
    tag = uuid.uuid4().hex
    env = {"LEAVER_PID_FILE": str(pid_file), "LEAVER_TAG": tag, **({"LEAVER_HANG": "1"} if hang else {})}
    result = grade(catalog, catalog.get("alpha"), timeout=20 if hang else None, env=env)
    assert result.hanging is hang, result
    if not hang:
        assert result.status == "pass", result
    pid = int(pid_file.read_text())
    assert not _alive(pid), f"the detached process {pid} the grader started is still running after grade()"
    left = [p for p in marked_pids(tag, "LEAVER_TAG") if _alive(p)]
    assert left == [], f"processes of the grading run left behind: {left}"


# -- backends ------------------------------------------------------------------------------------------------------

def test_real_redis_urls_must_name_a_database_other_than_0() -> None:
    assert check_redis_url("redis://127.0.0.1:6379/2") == "redis://127.0.0.1:6379/2"
    assert check_redis_url("redis://127.0.0.1:6379?db=3")
    for url, words in [("redis://127.0.0.1:6379", "names no database"), ("redis://127.0.0.1:6379/", "no database"),
                       ("redis://127.0.0.1:6379/0", "database 0"), ("http://x/2", "not a Redis URL")]:
        with pytest.raises(RedisUrlError, match=words):
            check_redis_url(url)
    assert with_database("redis://127.0.0.1:6379/2", 5) == "redis://127.0.0.1:6379/5"
    assert with_database("redis://h:1?db=2&x=1", 4) == "redis://h:1?x=1&db=4"


def test_check_refuses_database_0_before_grading(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(project), "check", "alpha", "--redis", "redis://127.0.0.1:6379"]) == 2
    err = capsys.readouterr().err
    assert "names no database" in err and "redis://127.0.0.1:6379/2" in err
    assert main(["--root", str(project), "--redis", "redis://127.0.0.1:6379/0", "check", "alpha"]) == 2
    assert "database 0" in capsys.readouterr().err


# -- a class -------------------------------------------------------------------------------------------------------

GAMMA_INFO = INFO + '''
[[exercises]]
name = "gamma"
task = 2
title = "Shout"
timeout = 90
hints = ["Strings have a method for it.", "return text.upper()."]
'''
GAMMA_STUB = ('"""Write shout(text)."""\n\n\ndef shout(text):\n    # TODO: return it in capitals\n'
              '    raise NotImplementedError("shout")\n')
GAMMA_SOLUTION = '"""Write shout(text)."""\n\n\ndef shout(text):\n    return text.upper()\n'
#: Every gamma run, on the real Redis, writes a key naming its submission, waits until the 4 gamma runs of the class
#: (the reference and 3 learners) have written theirs, and then must see its own key only: runs that shared a
#: database would see each other's.
GAMMA_GRADER = GRADER_HEAD + '''
import time

import pytest
import redis

ex = load("gamma")


def test_shout():
    got = ex.shout("hi")
    assert got == "HI", f"shout('hi') returned {got!r}; expected 'HI'"


def _barrier(name, count):
    folder = Path(os.environ["CLASS_SYNC"]) / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(os.getpid())).touch()
    deadline = time.monotonic() + 120
    while len(list(folder.iterdir())) < count:
        assert time.monotonic() < deadline, f"only {len(list(folder.iterdir()))} of {count} gamma runs at {name}"
        time.sleep(0.05)


def test_sees_only_its_own_data(record_property):
    url = os.environ.get("QUEUEKIT_EXERCISE_REDIS_URL")
    record_property("backend", "redis")
    if not url:
        pytest.skip("no real Redis asked for")
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    client.set("owner:" + str(ROOT), "x")
    _barrier("written", 4)
    keys = client.keys("owner:*")
    _barrier("read", 4)
    client.flushdb()
    assert keys == ["owner:" + str(ROOT)], f"this run sees other submissions' keys: {keys}"
'''
WRONG_ALPHA = '"""Write add(a, b)."""\n\n\ndef add(a, b):\n    return a + b if a > 0 else a - b  # the sign\n'


def _class_project(root: Path) -> Path:
    return make_project(root, stubs={**STUBS, "gamma.py": GAMMA_STUB},
                        solutions={**SOLUTIONS, "gamma.py": GAMMA_SOLUTION}, info=GAMMA_INFO,
                        graders={**GRADERS, "test_gamma.py": GAMMA_GRADER})


def _class(root: Path, project: Path) -> Path:
    """ann: copies of the solutions; bob: the stubs; cid: a wrong alpha, no beta, a right gamma."""
    for learner, source, names in [("ann", project / "exercises" / "solutions", ["alpha.py", "beta.py", "gamma.py"]),
                                   ("bob", project / "exercises", ["alpha.py", "beta.py", "gamma.py"])]:
        (root / learner).mkdir(parents=True)
        for name in names:
            shutil.copy(source / name, root / learner / name)
    (root / "cid" / "exercises").mkdir(parents=True)  # a copy of the whole project's exercises/ folder works too
    (root / "cid" / "exercises" / "alpha.py").write_text(WRONG_ALPHA)
    (root / "cid" / "exercises" / "gamma.py").write_text(GAMMA_SOLUTION)
    return root


def _test(name: str, status: str, points: int, message: str | None = None, output: str | None = None) -> dict:
    return {"name": name, "status": status, "points": points, "message": message, "output": output}


def _exercise(name: str, status: str, tests: list[dict], message: str | None = None,
              backends: list[str] | None = None) -> dict:
    return {"name": name, "status": status, "points": sum(t["points"] for t in tests), "max": len(tests),
            "message": message, "hanging": False, "backends": backends or [], "tests": tests}


def _expected_learners(folder: Path, gamma_backends: list[str]) -> list[dict]:
    not_impl = "NotImplementedError: {} (raised at {}.py, line 6)"
    ann = [_exercise("alpha", "pass", [_test("test_small_numbers", "pass", 1),
                                       _test("test_negative_numbers", "pass", 1)]),
           _exercise("beta", "pass", [_test("test_prints_hello", "pass", 1, output="hello\n")]),
           _exercise("gamma", "pass", [_test("test_shout", "pass", 1),
                                       _test("test_sees_only_its_own_data", "pass", 1)], backends=gamma_backends)]
    bob = [_exercise("alpha", "fail", [_test("test_small_numbers", "fail", 0, not_impl.format("add", "alpha")),
                                       _test("test_negative_numbers", "fail", 0, not_impl.format("add", "alpha"))]),
           _exercise("beta", "fail", [_test("test_prints_hello", "fail", 0, not_impl.format("hello", "beta"))]),
           _exercise("gamma", "fail", [_test("test_shout", "fail", 0, not_impl.format("shout", "gamma")),
                                       _test("test_sees_only_its_own_data", "pass", 1)], backends=gamma_backends)]
    cid = [_exercise("alpha", "fail", [_test("test_small_numbers", "pass", 1),
                                       _test("test_negative_numbers", "fail", 0, "add(-2, -3) should be -5")]),
           _exercise("beta", "error", [_test("test_prints_hello", "not run", 0)], "not submitted: beta.py not found"),
           _exercise("gamma", "pass", [_test("test_shout", "pass", 1),
                                       _test("test_sees_only_its_own_data", "pass", 1)], backends=gamma_backends)]
    return [{"id": name, "folder": str((folder / name).resolve()), "points": sum(e["points"] for e in graded),
             "max": 5, "exercises": graded} for name, graded in [("ann", ann), ("bob", bob), ("cid", cid)]]


def _redis_or_skip(db: int) -> str:
    url = f"{REAL_REDIS}/{db}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and no real Redis at {url}: {exc}")
        pytest.skip(f"no real Redis at {url}: {exc}")
    return url


def test_a_class_is_graded_in_parallel_each_submission_isolated(tmp_path: Path, capsys, monkeypatch) -> None:
    url = _redis_or_skip(10)
    project = _class_project(tmp_path / "course")
    folder = _class(tmp_path / "class", project)
    monkeypatch.setenv("CLASS_SYNC", str(tmp_path / "sync"))
    monkeypatch.delenv("QUEUEKIT_EXERCISE_REDIS_URL", raising=False)
    out_json, out_csv = tmp_path / "class.json", tmp_path / "class.csv"
    # the 4 gamma runs wait for one another: they run at the same time, each on its own database (10 to 13)
    assert main(["--root", str(project), "grade", str(folder), "--jobs", "4", "--redis", url, "--time-limit", "150",
                 "--json", str(out_json), "--csv", str(out_csv)]) == 0
    printed = capsys.readouterr().out
    assert "grading 3 learner(s), 4 run(s) at a time" in printed and "bob              alpha" in printed
    report = json.loads(out_json.read_text())
    assert set(report) == {"version", "kind", "graded_at", "points_rule", "backends", "redis_url", "redis_databases",
                           "time_limit", "exercises", "max", "warnings", "learners"}
    assert (report["version"], report["kind"], report["max"], report["warnings"]) == (2, "class", 5, [])
    assert report["backends"] == ["redis"] and report["redis_url"] == url
    assert report["redis_databases"] == [10, 11, 12, 13] and report["time_limit"] == 150
    assert report["exercises"] == [{"name": "alpha", "title": "Add two numbers", "task": 0, "max": 2},
                                   {"name": "beta", "title": "Say hello", "task": 1, "max": 1},
                                   {"name": "gamma", "title": "Shout", "task": 2, "max": 2}]
    assert report["learners"] == _expected_learners(folder, ["redis"])
    assert out_csv.read_text() == ("learner,alpha,beta,gamma,total,max\n"
                                   "ann,2,1,2,5,5\n"
                                   "bob,0,0,1,1,5\n"
                                   "cid,1,0,2,3,5\n")
    for db in (10, 11, 12, 13):  # the graders cleaned up after themselves
        assert redis.Redis.from_url(f"{REAL_REDIS}/{db}").dbsize() == 0


def test_a_roster_names_the_learners_and_their_folders(tmp_path: Path, capsys) -> None:
    project = _class_project(tmp_path / "course")
    folder = _class(tmp_path / "class", project)
    roster = tmp_path / "roster.csv"
    roster.write_text("learner,folder,email\nS-3,class/cid,c@example.org\nS-1,class/ann,a@example.org\n")
    out_csv = tmp_path / "grades.csv"
    assert main(["--root", str(project), "grade", "--roster", str(roster), "--only", "alpha", "--jobs", "2",
                 "--json", "-", "--csv", str(out_csv)]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "grading 2 learner(s)" in captured.err  # progress goes to stderr when the JSON goes to stdout
    assert [(learner["id"], learner["folder"], learner["points"]) for learner in report["learners"]] == [
        ("S-3", str((folder / "cid").resolve()), 1), ("S-1", str((folder / "ann").resolve()), 2)]
    assert report["backends"] == [] and report["redis_url"] is None
    assert list(csv.reader(io.StringIO(out_csv.read_text()))) == [
        ["learner", "alpha", "total", "max"], ["S-3", "1", "1", "2"], ["S-1", "2", "2", "2"]]


def test_a_bad_roster_is_a_clear_error(tmp_path: Path, project: Path, capsys) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("learner,folder\nS-1,nowhere\n")
    assert main(["--root", str(project), "grade", "--roster", str(roster)]) == 2
    assert "line 2" in capsys.readouterr().err


WAITER = GRADER_HEAD + '''
import time

from queuekit.learn.pytest_plugin import note_waiting

ex = load("alpha")


def test_waits_forever():
    note_waiting("the line 'ready' from `python alpha.py`")  # what exercise_support's waits do
    time.sleep(300)
'''


def test_a_run_stopped_at_its_time_limit_names_what_the_test_waited_for(tmp_path: Path) -> None:
    project = make_project(tmp_path / "course", graders={**GRADERS, "test_alpha.py": WAITER})
    catalog = load_catalog(project)
    result = grade(catalog, catalog.get("alpha"), timeout=8)
    hung = result.first_failure
    assert result.hanging and hung is not None and hung.name == "test_waits_forever"
    assert "stopped while it was waiting for the line 'ready' from `python alpha.py`" in (hung.message or ""), hung
