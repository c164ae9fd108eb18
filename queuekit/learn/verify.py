"""``verify`` (for CI): the catalog is consistent, every untouched exercise fails its grader, every reference
solution passes it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .catalog import Catalog, Exercise, check_catalog
from .results import PASS, SKIP, ExerciseResult
from .runner import grade

__all__ = ["VerifyReport", "verify"]


@dataclass
class VerifyReport:
    """Everything ``verify`` found; ``ok`` only when there is no problem at all."""

    catalog_problems: list[str] = field(default_factory=list)
    stub_problems: list[str] = field(default_factory=list)
    solution_problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.catalog_problems or self.stub_problems or self.solution_problems)


def _describe(result: ExerciseResult) -> str:
    text = f"{result.count(PASS)} passed, {result.count('fail') + result.count('error')} failed"
    if result.count(SKIP):
        text += f", {result.count(SKIP)} skipped"
    return text + f", {result.duration:.1f}s"


def verify(catalog: Catalog, only: list[Exercise] | None = None, jobs: int = 2,
           echo: Callable[[str], None] | None = None) -> VerifyReport:
    """Run every check; ``echo`` receives one line per exercise as results come in."""
    report = VerifyReport(catalog_problems=check_catalog(catalog))
    say = echo or (lambda _line: None)
    say(f"catalog: {len(catalog.exercises)} exercises, "
        + ("consistent" if not report.catalog_problems else f"{len(report.catalog_problems)} problem(s)"))
    for problem in report.catalog_problems:
        say(f"  ✗ {problem}")
    exercises = [ex for ex in (only or catalog.exercises)
                 if all((catalog.exercise_dir / f).is_file() and (catalog.solution_dir / f).is_file()
                        for f in ex.files) and (catalog.root / ex.grader).is_file()]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        pending = [(ex, pool.submit(grade, catalog, ex, catalog.exercise_dir, stop_first=True),
                    pool.submit(grade, catalog, ex, catalog.solution_dir)) for ex in exercises]
        for ex, stub_future, sol_future in pending:
            _judge(report, ex, stub_future.result(), sol_future.result(), say)
    return report


def _judge(report: VerifyReport, ex: Exercise, stub: ExerciseResult, sol: ExerciseResult,
           say: Callable[[str], None]) -> None:
    """Record what the stub's and the solution's results mean for ``ex``."""
    stub_ok = stub.status != PASS
    sol_ok = sol.status == PASS
    if not stub_ok:
        report.stub_problems.append(f"{ex.name}: the untouched exercise already passes its grader "
                                    f"({_describe(stub)})")
    if stub.hanging:
        report.stub_problems.append(f"{ex.name}: the untouched exercise hangs its grader ({stub.message})")
    if not sol_ok:
        first = sol.first_failure
        why = sol.message or (f"{first.name}: {first.message}" if first else "")
        report.solution_problems.append(f"{ex.name}: the reference solution does not pass ({_describe(sol)}): "
                                        f"{why}")
    mark = "✓" if stub_ok and sol_ok and not stub.hanging else "✗"
    line = (f"{mark} {ex.name:<24} exercise {'fails' if stub_ok else 'PASSES'} ({_describe(stub)}) · "
            f"solution {'passes' if sol_ok else 'FAILS'} ({_describe(sol)})")
    report.lines.append(line)
    say(line)
