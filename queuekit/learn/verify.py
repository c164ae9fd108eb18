"""``verify`` (for CI): the catalog is consistent, every untouched exercise fails its grader, every reference
solution passes it, and every kept wrong version (``wrong.py``) fails it at the expected test with the expected
words, each of them ``repeat`` times with the same verdict (a grader that is only sometimes right is wrong)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import Catalog, Exercise, check_catalog
from .results import ERROR, FAIL, PASS, SKIP, ExerciseResult
from .runner import grade
from .wrong import WrongVersion, WrongVersionError, build, load_wrong_versions

__all__ = ["VerifyReport", "verify"]

#: Wrong versions are graded on the embedded backend: the mistake, not the server, is what they exercise.
WRONG_ENV = {"QUEUEKIT_EXERCISE_BACKENDS": "embedded"}


@dataclass
class VerifyReport:
    """Everything ``verify`` found; ``ok`` only when there is no problem at all."""

    catalog_problems: list[str] = field(default_factory=list)
    stub_problems: list[str] = field(default_factory=list)
    solution_problems: list[str] = field(default_factory=list)
    wrong_problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    wrong_caught: int = 0
    wrong_total: int = 0
    #: exercise -> how many of its kept wrong versions were graded
    wrong_graded: dict[str, int] = field(default_factory=dict)
    #: exercise -> the backends its reference solution ran on, and those it skipped (a real Redis asked for but
    #: not reachable), in its first run
    solution_backends: dict[str, list[str]] = field(default_factory=dict)
    solution_skipped: dict[str, list[str]] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        """Every problem found, catalog first."""
        return self.catalog_problems + self.stub_problems + self.solution_problems + self.wrong_problems

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_of(self, exercise: str) -> list[str]:
        """The problems found with ``exercise`` (its stub, solution or wrong versions)."""
        return [p for p in self.stub_problems + self.solution_problems + self.wrong_problems
                if p.startswith((f"{exercise}:", f"{exercise}/"))]


def _describe(result: ExerciseResult) -> str:
    text = f"{result.count(PASS)} passed, {result.count(FAIL) + result.count(ERROR)} failed"
    if result.count(SKIP):
        text += f", {result.count(SKIP)} skipped"
    return text + f", {result.duration:.1f}s"


def wrong_verdict(version: WrongVersion, result: ExerciseResult) -> str | None:
    """None when the grader caught ``version`` as its file says (the first failure is the expected test and its
    message holds every expected word); otherwise what went differently."""
    if result.status == PASS:
        return f"the grader passes it ({_describe(result)})"
    if result.status == ERROR and not result.tests:
        return f"the grader could not run: {result.message}"
    first = result.first_failure
    if first is None:
        return f"no test failed ({result.message})"
    if not first.name.startswith(version.test):
        return f"the first failure is {first.name}, not {version.test}: {(first.message or '')[:300]}"
    missing = [w for w in version.words if w not in (first.message or "")]
    if missing:
        return f"{first.name}'s message lacks {missing}; it reads: {(first.message or '')[:500]}"
    return None


class _Runs:
    """The grading runs of one verify, submitted to one pool so that all of them share the ``jobs`` slots."""

    def __init__(self, catalog: Catalog, pool: ThreadPoolExecutor, scratch: Path, repeat: int) -> None:
        self.catalog, self.pool, self.scratch, self.repeat = catalog, pool, scratch, repeat

    def submit(self, ex: Exercise, root: Path, *, stop_first: bool = False,
               env: dict[str, str] | None = None) -> list[Future[ExerciseResult]]:
        return [self.pool.submit(grade, self.catalog, ex, root, stop_first=stop_first, env=env)
                for _ in range(self.repeat)]

    def wrong(self, ex: Exercise, version: WrongVersion) -> list[Future[ExerciseResult]]:
        where = build(version, self.catalog.solution_dir, ex.files, self.scratch / ex.name / version.name)
        return self.submit(ex, where, stop_first=True, env=WRONG_ENV)


def verify(catalog: Catalog, only: list[Exercise] | None = None, jobs: int = 2,
           echo: Callable[[str], None] | None = None, repeat: int = 1, wrong: bool = True,
           solution_env: dict[str, str] | None = None) -> VerifyReport:
    """Run every check ``repeat`` times; ``echo`` receives one line per exercise as results come in.
    ``solution_env`` is added to the reference solutions' runs (a real Redis to grade them on too)."""
    report = VerifyReport(catalog_problems=check_catalog(catalog))
    say = echo or (lambda _line: None)
    say(f"catalog: {len(catalog.exercises)} exercises, "
        + ("consistent" if not report.catalog_problems else f"{len(report.catalog_problems)} problem(s)"))
    for problem in report.catalog_problems:
        say(f"  ✗ {problem}")
    exercises = [ex for ex in (only or catalog.exercises)
                 if all((catalog.exercise_dir / f).is_file() and (catalog.solution_dir / f).is_file()
                        for f in ex.files) and (catalog.root / ex.grader).is_file()]
    with tempfile.TemporaryDirectory(prefix="queuekit-verify-") as scratch, \
            ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        runs = _Runs(catalog, pool, Path(scratch), max(1, repeat))
        # the reference solutions first: they run every test, so they are the longest runs; the many short runs
        # after them keep every slot busy to the end
        solutions = {ex.name: runs.submit(ex, catalog.solution_dir, env=solution_env) for ex in exercises}
        built = {ex.name: _submit_wrong(runs, ex, report) if wrong else [] for ex in exercises}
        stubs = {ex.name: runs.submit(ex, catalog.exercise_dir, stop_first=True) for ex in exercises}
        for ex in exercises:
            _judge(report, ex, [f.result() for f in stubs[ex.name]], [f.result() for f in solutions[ex.name]], say)
            for version, futures in built[ex.name]:
                _judge_wrong(report, version, [f.result() for f in futures], say)
    return report


def _submit_wrong(runs: _Runs, ex: Exercise,
                  report: VerifyReport) -> list[tuple[WrongVersion, list[Future[ExerciseResult]]]]:
    """Build and submit the runs of ``ex``'s kept wrong versions (a version that cannot be built is a problem)."""
    submitted = []
    for version in _wrong_versions(runs.catalog, ex, report):
        try:
            submitted.append((version, runs.wrong(ex, version)))
        except WrongVersionError as exc:
            report.wrong_problems.append(str(exc))
    return submitted


def _wrong_versions(catalog: Catalog, ex: Exercise, report: VerifyReport) -> list[WrongVersion]:
    try:
        return load_wrong_versions(catalog.root, ex.name)
    except WrongVersionError as exc:
        report.wrong_problems.append(str(exc))
        return []


def _judge(report: VerifyReport, ex: Exercise, stubs: list[ExerciseResult], sols: list[ExerciseResult],
           say: Callable[[str], None]) -> None:
    """Record what the stub's and the solution's results (one per repeat) mean for ``ex``."""
    stub_bad = [r for r in stubs if r.status == PASS]
    hanging = [r for r in stubs if r.hanging]
    sol_bad = [r for r in sols if r.status != PASS]
    times = f" ({len(stubs)} runs)" if len(stubs) > 1 else ""
    if stub_bad:
        report.stub_problems.append(f"{ex.name}: the untouched exercise already passes its grader (in "
                                    f"{len(stub_bad)} of {len(stubs)} runs; {_describe(stub_bad[0])})")
    if hanging:
        report.stub_problems.append(f"{ex.name}: the untouched exercise hangs its grader ({hanging[0].message})")
    if sol_bad:
        first = sol_bad[0].first_failure
        why = sol_bad[0].message or (f"{first.name}: {first.message}" if first else "")
        report.solution_problems.append(f"{ex.name}: the reference solution does not pass (in {len(sol_bad)} of "
                                        f"{len(sols)} runs; {_describe(sol_bad[0])}): {why}")
    report.solution_backends[ex.name] = list(sols[0].backends)
    report.solution_skipped[ex.name] = list(sols[0].skipped_backends)
    ok = not (stub_bad or hanging or sol_bad)
    line = (f"{'✓' if ok else '✗'} {ex.name:<24} exercise {'PASSES' if stub_bad else 'fails'} "
            f"({_describe(stubs[0])}) · solution {'FAILS' if sol_bad else 'passes'} ({_describe(sols[0])}){times}")
    report.lines.append(line)
    say(line)


def _judge_wrong(report: VerifyReport, version: WrongVersion, results: list[ExerciseResult],
                 say: Callable[[str], None]) -> None:
    report.wrong_total += 1
    report.wrong_graded[version.exercise] = report.wrong_graded.get(version.exercise, 0) + 1
    verdicts = [wrong_verdict(version, r) for r in results]
    misses = [v for v in verdicts if v is not None]
    if not misses:
        report.wrong_caught += 1
        line = f"    ✓ wrong/{version.name} [{version.klass}] caught by {version.test}"
    else:
        report.wrong_problems.append(f"{version.label} [{version.klass}]: not caught as expected in {len(misses)} "
                                     f"of {len(results)} runs: {misses[0]}")
        line = f"    ✗ wrong/{version.name} [{version.klass}] missed in {len(misses)} of {len(results)} runs"
    report.lines.append(line)
    say(line)
