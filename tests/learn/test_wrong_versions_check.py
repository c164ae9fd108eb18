"""`queuekit learn verify` and the kept wrong versions, on the small throw-away course of fake_course.py: a wrong
version counts as caught only when its grader fails it at the expected test, with the expected words, in every
one of the repeated runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from fake_course import GRADER_HEAD, GRADERS, make_project

from queuekit.learn.catalog import load_catalog
from queuekit.learn.cli import main
from queuekit.learn.verify import verify
from queuekit.learn.wrong import WrongVersionError, load_wrong_versions

SUBTRACTS = '''
[[wrong]]
name = "subtracts"
class = "behaviour"
why = "subtracts instead of adding"
test = "test_small_numbers"
words = ["expected 5"]
[[wrong.change]]
file = "alpha.py"
old = """    return a + b\\n"""
new = """    return a - b  # WRONG: the sum was asked for\\n"""
'''


def with_wrong(tmp_path: Path, text: str, graders: dict[str, str] | None = None) -> Path:
    project = make_project(tmp_path / "course", graders=graders)
    (project / "tests" / "exercises" / "wrong").mkdir()
    (project / "tests" / "exercises" / "wrong" / "alpha.toml").write_text(textwrap.dedent(text))
    return project


def test_a_wrong_version_caught_at_the_expected_test_passes_verify(tmp_path: Path, capsys) -> None:
    project = with_wrong(tmp_path, SUBTRACTS)
    assert main(["--root", str(project), "verify", "--repeat", "2"]) == 0
    out = capsys.readouterr().out
    assert "✓ wrong/subtracts [behaviour] caught by test_small_numbers" in out
    assert "wrong versions: 1 of 1 caught in every one of 2 run(s)" in out


def test_a_wrong_version_the_grader_lets_through_fails_verify(tmp_path: Path) -> None:
    swapped = SUBTRACTS.replace("a - b  # WRONG: the sum was asked for", "b + a  # WRONG: harmless, so not caught")
    report = verify(load_catalog(with_wrong(tmp_path, swapped)), repeat=1)
    assert not report.ok
    assert report.wrong_caught == 0 and report.wrong_total == 1
    assert report.wrong_problems == [
        "alpha/subtracts [behaviour]: not caught as expected in 1 of 1 runs: the grader passes it "
        + report.wrong_problems[0].split("the grader passes it ", 1)[1]]


def test_caught_by_another_test_or_without_the_words_is_not_what_the_file_promises(tmp_path: Path) -> None:
    other_test = SUBTRACTS.replace('test = "test_small_numbers"', 'test = "test_negative_numbers"')
    report = verify(load_catalog(with_wrong(tmp_path / "a", other_test)), repeat=1)
    assert "the first failure is test_small_numbers, not test_negative_numbers" in report.wrong_problems[0]
    other_words = SUBTRACTS.replace('words = ["expected 5"]', 'words = ["expected 5", "use +"]')
    report = verify(load_catalog(with_wrong(tmp_path / "b", other_words)), repeat=1)
    assert "message lacks ['use +']" in report.wrong_problems[0]


def test_a_grader_that_catches_the_mistake_only_sometimes_fails_verify(tmp_path: Path) -> None:
    # this grader fails the wrong version on every other run only (a counter file), as a racy check would
    flaky = dict(GRADERS)
    flaky["test_alpha.py"] = GRADER_HEAD + f'''
ex = load("alpha")
COUNTER = Path({str(tmp_path / "runs")!r})


def test_small_numbers():
    got = ex.add(2, 3)
    if "subtracts" not in str(ROOT):  # the stub and the solution: graded as usual
        assert got == 5, f"add(2, 3) returned {{got!r}}; expected 5"
        return
    runs = int(COUNTER.read_text()) if COUNTER.exists() else 0  # the wrong version's runs, counted
    COUNTER.write_text(str(runs + 1))
    if runs % 2 == 0:
        assert got == 5, f"add(2, 3) returned {{got!r}}; expected 5"
'''
    project = with_wrong(tmp_path, SUBTRACTS, graders=flaky)
    report = verify(load_catalog(project), only=[load_catalog(project).get("alpha")], jobs=1, repeat=3)
    assert report.wrong_caught == 0
    assert "not caught as expected in 1 of 3 runs" in report.wrong_problems[0]


@pytest.mark.parametrize("change, message", [
    (('class = "behaviour"', 'class = "typo"'), "class 'typo' is none of"),
    (('name = "subtracts"', 'name = "Sub tracts"'), "a name is 1 to 60 of a-z 0-9 _"),
    (('test = "test_small_numbers"\n', ''), "'test' is missing or not a str"),
])
def test_a_malformed_wrong_version_file_names_the_problem(tmp_path: Path, change: tuple[str, str],
                                                          message: str) -> None:
    project = with_wrong(tmp_path, SUBTRACTS.replace(*change))
    with pytest.raises(WrongVersionError, match=message.replace("(", r"\(")):
        load_wrong_versions(project, "alpha")


def test_a_change_that_no_longer_applies_or_is_unmarked_is_reported_not_skipped(tmp_path: Path) -> None:
    stale = SUBTRACTS.replace('old = """    return a + b\\n"""', 'old = """    return a + b + 0\\n"""')
    report = verify(load_catalog(with_wrong(tmp_path / "a", stale)), repeat=1)
    assert report.wrong_problems == ["alpha/subtracts: the text to change occurs 0 times in solutions/alpha.py "
                                     "(expected once)"]
    unmarked = SUBTRACTS.replace("  # WRONG: the sum was asked for", "")
    report = verify(load_catalog(with_wrong(tmp_path / "b", unmarked)), repeat=1)
    assert report.wrong_problems == ["alpha/subtracts: mark the mistake with # WRONG in a changed text"]
    twice = SUBTRACTS + SUBTRACTS
    with pytest.raises(WrongVersionError, match="the name 'subtracts' is used twice"):
        load_wrong_versions(with_wrong(tmp_path / "c", twice), "alpha")
