"""Tests of the `queuekit learn` runner on a small throw-away course (tests/learn/conftest.py)."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from fake_course import INFO, SOLUTIONS, STUBS, make_project

from queuekit.learn.catalog import check_catalog, load_catalog
from queuekit.learn.cli import main
from queuekit.learn.progress import PROGRESS_FILE, Progress
from queuekit.learn.runner import grade
from queuekit.learn.watch import Watch

REPO = Path(__file__).resolve().parents[2]


def run(project: Path, *args: str) -> int:
    return main(["--root", str(project), *args])


def test_check_reports_the_first_failure_with_the_graders_message(project, capsys) -> None:
    assert run(project, "check", "alpha") == 1
    out = capsys.readouterr().out
    assert "alpha does not pass yet" in out and "First failing check: test_small_numbers" in out
    assert "NotImplementedError: add" in out


def test_check_passes_and_progress_is_persisted(project, capsys) -> None:
    (project / "exercises" / "alpha.py").write_text(SOLUTIONS["alpha.py"])
    assert run(project, "check", "alpha") == 0
    assert "alpha passes" in capsys.readouterr().out
    saved = json.loads((project / PROGRESS_FILE).read_text())
    assert saved["passed"] == ["alpha"]
    assert run(project, "list") == 0  # a new run reads the file
    listing = capsys.readouterr().out
    assert any(line.split()[:2] == ["done", "alpha"] for line in listing.splitlines())
    assert any(line.split()[:2] == ["pending", "beta"] for line in listing.splitlines())


def test_learner_output_is_reported(project, capsys) -> None:
    (project / "exercises" / "beta.py").write_text(SOLUTIONS["beta.py"].replace('print("hello")', 'print("helo")'))
    assert run(project, "check", "beta") == 1
    out = capsys.readouterr().out
    assert "hello() printed 'helo\\n'" in out
    assert "What your code printed:" in out and "helo" in out


def test_hints_are_revealed_one_at_a_time(project, capsys) -> None:
    shown = []
    for _ in range(4):
        assert run(project, "hint", "alpha") == 0
        shown.append(capsys.readouterr().out)
    assert "hint 1/3" in shown[0] and "First hint" in shown[0] and "Second hint" not in shown[0]
    assert "hint 2/3" in shown[1] and "Second hint" in shown[1] and "First hint" not in shown[1]
    assert "hint 3/3" in shown[2] and "last one" in shown[2]
    assert "hint 3/3" in shown[3]  # stays on the last hint
    assert json.loads((project / PROGRESS_FILE).read_text())["hints_seen"] == {"alpha": 3}


def test_solution_only_once_the_exercise_passes(project, capsys) -> None:
    assert run(project, "solution", "alpha") == 1
    assert "return a + b" not in capsys.readouterr().out
    (project / "exercises" / "alpha.py").write_text(SOLUTIONS["alpha.py"])
    assert run(project, "solution", "alpha") == 0
    assert "return a + b" in capsys.readouterr().out


def test_reset_restores_the_stub_and_backs_up_the_learners_file(project, capsys) -> None:
    assert run(project, "--once") == 1  # the first run takes the pristine snapshot (not a git checkout)
    capsys.readouterr()
    stub = project / "exercises" / "alpha.py"
    stub.write_text(SOLUTIONS["alpha.py"])
    assert run(project, "check", "alpha") == 0
    assert run(project, "reset", "alpha") == 0
    assert "restored" in capsys.readouterr().out
    assert stub.read_text() == STUBS["alpha.py"]
    backups = list((project / ".queuekit" / "backup").glob("alpha.*.py"))
    assert len(backups) == 1 and backups[0].read_text() == SOLUTIONS["alpha.py"]
    assert "alpha" not in json.loads((project / PROGRESS_FILE).read_text())["passed"]


def test_reset_without_any_pristine_copy_fails_cleanly(project, capsys) -> None:
    assert run(project, "reset", "alpha") == 1
    assert "no pristine copy" in capsys.readouterr().err


def test_unknown_exercise_is_a_clear_error(project, capsys) -> None:
    assert run(project, "hint", "gamma") == 2
    assert "no exercise called 'gamma'" in capsys.readouterr().err


def test_hanging_exercise_is_reported_as_hanging_within_the_timeout(project) -> None:
    (project / "exercises" / "alpha.py").write_text(
        'def add(a, b):\n    while True:\n        pass\n')
    catalog = load_catalog(project)
    started = time.monotonic()
    result = grade(catalog, catalog.get("alpha"), timeout=10)
    elapsed = time.monotonic() - started
    assert elapsed < 20, f"grading took {elapsed:.1f} s with a 10 s limit"
    assert result.hanging and result.status == "fail"
    assert "hanging" in (result.message or "")
    hung = result.first_failure
    assert hung is not None and hung.status == "error" and hung.message.startswith("hanging")


def test_hanging_at_import_is_reported_too(project) -> None:
    (project / "exercises" / "alpha.py").write_text('import time\nwhile True:\n    time.sleep(0.1)\n')
    catalog = load_catalog(project)
    result = grade(catalog, catalog.get("alpha"), timeout=6)
    assert result.first_failure is not None and result.first_failure.message.startswith("hanging")
    assert result.hanging and result.status == "fail" and "hanging" in result.message


def test_syntax_error_is_an_error_status(project) -> None:
    (project / "exercises" / "alpha.py").write_text("def add(a, b)\n    return a + b\n")
    catalog = load_catalog(project)
    result = grade(catalog, catalog.get("alpha"))
    assert result.status == "error" and "SyntaxError" in (result.message or "")


def test_grade_writes_a_json_report(project, tmp_path, capsys) -> None:
    submitted = tmp_path / "student"
    submitted.mkdir()
    (submitted / "alpha.py").write_text(SOLUTIONS["alpha.py"])  # beta not submitted
    out = tmp_path / "report.json"
    assert run(project, "grade", str(submitted), "--json", str(out)) == 0
    report = json.loads(out.read_text())
    assert report["version"] == 1 and report["summary"] == {"pass": 1, "fail": 0, "error": 1}
    alpha, beta = report["exercises"]
    assert (alpha["name"], alpha["status"], alpha["task"], alpha["title"]) == ("alpha", "pass", 0, "Add two numbers")
    assert [t["name"] for t in alpha["tests"]] == ["test_small_numbers", "test_negative_numbers"]
    for test in alpha["tests"]:
        assert set(test) >= {"name", "status", "message", "output"} and test["status"] == "pass"
    assert beta["status"] == "error" and "not submitted" in beta["message"]


def test_grade_report_carries_failures_and_output(project, tmp_path) -> None:
    submitted = tmp_path / "student"
    submitted.mkdir()
    (submitted / "alpha.py").write_text("def add(a, b):\n    print('adding', a, b)\n    return a - b\n")
    (submitted / "beta.py").write_text(SOLUTIONS["beta.py"])
    out = tmp_path / "report.json"
    assert run(project, "grade", str(submitted), "--json", str(out)) == 0
    alpha = json.loads(out.read_text())["exercises"][0]
    first = alpha["tests"][0]
    assert alpha["status"] == "fail" and first["status"] == "fail"
    assert first["message"] == "add(2, 3) returned -1; expected 5"
    assert first["output"] == "adding 2 3\n"


def test_verify_passes_on_a_consistent_course(project, capsys) -> None:
    assert run(project, "verify") == 0
    assert "verify: OK" in capsys.readouterr().out


def test_verify_catches_an_exercise_that_already_passes(tmp_path, capsys) -> None:
    project = make_project(tmp_path / "c", stubs={"alpha.py": SOLUTIONS["alpha.py"] + "# TODO nothing\n",
                                                   "beta.py": STUBS["beta.py"]})
    assert run(project, "verify") == 1
    out = capsys.readouterr().out
    assert "alpha: the untouched exercise already passes its grader (in 3 of 3 runs" in out


def test_verify_catches_a_failing_solution(tmp_path, capsys) -> None:
    project = make_project(tmp_path / "c", solutions={"alpha.py": SOLUTIONS["alpha.py"].replace("a + b", "a * b"),
                                                       "beta.py": SOLUTIONS["beta.py"]})
    assert run(project, "verify") == 1
    out = capsys.readouterr().out
    assert "alpha: the reference solution does not pass (in 3 of 3 runs" in out and "add(2, 3) returned 6" in out


def test_catalog_problems_are_found(tmp_path) -> None:
    info = INFO + '\n[[exercises]]\nname = "alpha"\ntitle = "again"\nhints = ["x", "y"]\n' \
                  '\n[[exercises]]\nname = "gamma"\ntitle = "no hints"\n'
    project = make_project(tmp_path / "c", info=info, stubs={**STUBS, "beta.py": "def hello():\n    pass\n",
                                                             "orphan.py": "# TODO\n"})
    problems = "\n".join(check_catalog(load_catalog(project)))
    assert "exercise name 'alpha' appears twice" in problems
    assert "beta: none of its files has a '# TODO' marker" in problems
    assert "gamma: exercises/gamma.py does not exist" in problems
    assert "gamma: grader tests/exercises/test_gamma.py does not exist" in problems
    assert "gamma: has 0 hint(s)" in problems
    assert "exercises/orphan.py is not listed" in problems


def test_watch_once_without_a_terminal(project, capsys) -> None:
    assert run(project, "--once") == 1
    out = capsys.readouterr().out
    assert "task 0 · alpha" in out and "First failing check" in out and "Progress: [" in out
    assert "hint 1/3 available (h)" in out


def test_watch_reads_commands_from_a_pipe(project) -> None:
    catalog = load_catalog(project)
    out = io.StringIO()
    watch = Watch(catalog, Progress.load(project), out=out, inp=io.StringIO("h\nn\nl\nq\n"), poll_interval=0.05)
    assert watch.run() == 0
    text = out.getvalue()
    assert "Hint 1/3" in text and "First hint" in text
    assert "does not pass yet: fix it first" in text  # n refused while failing
    assert "pending  alpha" in text.replace("> ", "  ")


def test_watch_regrades_on_save_and_moves_on(project) -> None:
    catalog = load_catalog(project)
    out = io.StringIO()
    script = _Script(["", "", "n", "q"])
    watch = Watch(catalog, Progress.load(project), out=out, inp=script, poll_interval=0.05)
    script.on_second_read = lambda: (project / "exercises" / "alpha.py").write_text(SOLUTIONS["alpha.py"])
    assert watch.run() == 0
    text = out.getvalue()
    assert "alpha passes" in text and "Well done" in text
    assert "task 1 · beta" in text  # n moved on to the next exercise


class _Script(io.StringIO):
    """Input that answers 'nothing typed' (None via an empty select) a few times, then the given lines."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines
        self.reads = 0
        self.on_second_read = lambda: None

    def readline(self) -> str:  # type: ignore[override]
        self.reads += 1
        if self.reads == 2:
            self.on_second_read()
            time.sleep(0.3)  # the mtime changes; the next poll sees it
        if not self.lines:
            return ""
        line = self.lines.pop(0)
        return line + "\n" if line else "r\n"


def test_the_real_catalog_is_consistent() -> None:
    assert check_catalog(load_catalog(REPO)) == []
