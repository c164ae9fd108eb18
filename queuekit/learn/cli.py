"""``queuekit learn``: the learner's and the instructor's command line (``main(argv) -> exit status``)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from .catalog import Catalog, CatalogError, Exercise, load_catalog
from .pristine import reset, snapshot
from .progress import Progress
from .render import Style, exercise_list, result_text, summary_line
from .report import (
    RosterError,
    class_learners,
    grade_class,
    grade_directory,
    is_class_folder,
    read_roster,
    submission_root,
    write_csv,
    write_report,
)
from .results import PASS, ExerciseResult
from .runner import REDIS_ENV, RedisUrlError, check_redis_url, grade
from .verify import verify
from .watch import Watch

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``queuekit learn``."""
    parser = argparse.ArgumentParser(
        prog="queuekit learn",
        description="Work through the queuekit course: with no command, watch mode grades the current exercise "
                    "every time you save it.")
    parser.add_argument("--root", type=Path, help="the project folder (default: found from the current folder)")
    parser.add_argument("--once", action="store_true", help="watch mode: grade the current exercise once and exit")
    _redis_option(parser, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _redis_option(sub.add_parser("watch", help="the default: grade on every save; keys h n r l q"))
    sub.add_parser("list", help="every exercise, in course order, with its state")
    p = sub.add_parser("check", help="grade one exercise (default: every exercise)")
    p.add_argument("exercise", nargs="?")
    _redis_option(p)
    p = sub.add_parser("hint", help="show the next hint of an exercise, one at a time")
    p.add_argument("exercise")
    p = sub.add_parser("reset", help="restore an exercise's original files (your version is backed up)")
    p.add_argument("exercise")
    p = sub.add_parser("solution", help="show the reference solution of an exercise that passes")
    p.add_argument("exercise")
    p = sub.add_parser("grade", help="instructors: grade a folder of submitted exercise files, or a whole class "
                                     "(one folder per learner, or --roster)")
    p.add_argument("directory", type=Path, nargs="?", help="one learner's files, or a class: one folder per learner")
    p.add_argument("--class", dest="as_class", action="store_true",
                   help="DIRECTORY holds one folder per learner (found by itself when DIRECTORY has no exercise "
                        "file but has sub-folders)")
    p.add_argument("--roster", type=Path, help="a CSV of the class: header row, then 'learner id,folder' rows "
                                               "(folders relative to the roster's folder)")
    p.add_argument("--json", dest="json_path", type=Path, help="write the report here (- for standard output)")
    p.add_argument("--csv", dest="csv_path", type=Path,
                   help="class: write one row per learner (points per exercise, total, max) for a learning platform")
    p.add_argument("--only", action="append", default=[], metavar="EXERCISE", help="grade only this exercise")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="grading runs at a time (default: the number of cores)")
    p.add_argument("--time-limit", type=float, metavar="SECONDS",
                   help="stop an exercise's grading after this long (default: the catalog's limit per exercise)")
    _redis_option(p)
    p = sub.add_parser("verify", help="CI: exercises fail, solutions pass, kept wrong versions fail, catalog "
                                      "consistent")
    p.add_argument("--only", action="append", default=[], metavar="EXERCISE")
    p.add_argument("--jobs", type=int, default=2, help="graders run at a time")
    p.add_argument("--repeat", type=int, default=3, help="runs of each check, all with the same verdict (default 3)")
    p.add_argument("--no-wrong", dest="wrong", action="store_false", help="skip the kept wrong versions")
    _redis_option(p)
    for name in ("solution",):
        _redis_option(sub.choices[name])
    return parser


def _redis_option(parser: argparse.ArgumentParser, default: object = argparse.SUPPRESS) -> None:
    parser.add_argument("--redis", metavar="URL", default=default,
                        help="grade on this real Redis too, besides the embedded server: redis://HOST:PORT/DB, "
                             "naming a database other than 0, which the graders EMPTY before every test "
                             f"(default: ${REDIS_ENV} when set, else the embedded server only)")


@contextlib.contextmanager
def _redis_env(url: str | None) -> Iterator[None]:
    """Within: the graders use ``url`` (``$QUEUEKIT_EXERCISE_REDIS_URL``) as well; restored afterwards."""
    if url is None:
        yield
        return
    saved = os.environ.get(REDIS_ENV)
    os.environ[REDIS_ENV] = url
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(REDIS_ENV, None)
        else:
            os.environ[REDIS_ENV] = saved


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run ``queuekit learn`` with ``argv`` (without the program name); returns the exit status."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        catalog = load_catalog(args.root)
    except CatalogError as exc:
        _err(f"queuekit learn: {exc}")
        return 2
    style = Style(sys.stdout)
    progress = Progress.load(catalog.root)
    redis_url = getattr(args, "redis", None)
    try:
        for url in (redis_url, os.environ.get(REDIS_ENV)):
            if url:
                check_redis_url(url)
                break
    except RedisUrlError as exc:
        _err(f"queuekit learn: --redis / ${REDIS_ENV}: {exc}")
        return 2
    try:
        with _redis_env(redis_url):
            return _dispatch(args, catalog, progress, style)
    except KeyError as exc:
        _err(f"queuekit learn: {exc.args[0]}")
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, catalog: Catalog, progress: Progress, style: Style) -> int:
    command = args.command or "watch"
    run = _COMMANDS.get(command)
    if run is None:
        raise AssertionError(command)
    return run(args, catalog, progress, style)


def _watch(args: argparse.Namespace, catalog: Catalog, progress: Progress, style: Style) -> int:
    snapshot(catalog)
    return Watch(catalog, progress, once=args.once).run()


def _list(args: argparse.Namespace, catalog: Catalog, progress: Progress, style: Style) -> int:
    print(exercise_list(catalog, progress, style, progress.current))
    return 0


def _check(args: argparse.Namespace, catalog: Catalog, progress: Progress, style: Style) -> int:
    exercises = [catalog.get(args.exercise)] if args.exercise else catalog.exercises
    results = []
    for ex in exercises:
        result = grade(catalog, ex)
        results.append(result)
        if result.passed:
            progress.mark_passed(ex.name)
        progress.save()
        print(result_text(catalog, ex, result, style))
        if len(exercises) > 1 and not result.passed:
            print()
    if len(exercises) > 1:
        print(summary_line(results))
    return 0 if all(r.passed for r in results) else 1


def _hint(args: argparse.Namespace, catalog: Catalog, progress: Progress, style: Style) -> int:
    ex = catalog.get(args.exercise)
    if not ex.hints:
        print(f"{ex.name} has no hint.")
        return 0
    index = progress.next_hint(ex.name, len(ex.hints))
    progress.save()
    last = " (that was the last one)" if index + 1 == len(ex.hints) else \
        f" (run again for hint {index + 2})"
    print(style.yellow(f"{ex.name} · hint {index + 1}/{len(ex.hints)}{last}"))
    print(ex.hints[index].strip())
    return 0


def _reset(args: argparse.Namespace, catalog: Catalog, progress: Progress, style: Style) -> int:
    ex = catalog.get(args.exercise)
    try:
        lines = reset(catalog, ex)
    except FileNotFoundError as exc:
        _err(f"queuekit learn: {exc}")
        return 1
    progress.mark_unpassed(ex.name)
    progress.save()
    print("\n".join(lines))
    return 0


def _solution(args: argparse.Namespace, catalog: Catalog, progress: Progress, style: Style) -> int:
    ex = catalog.get(args.exercise)
    if not progress.is_passed(ex.name):
        result = grade(catalog, ex)
        if not result.passed:
            print(f"The solution of {ex.name} is shown once your exercise passes: run "
                  f"`queuekit learn check {ex.name}` to see what is left, or `queuekit learn hint {ex.name}`.")
            return 1
        progress.mark_passed(ex.name)
        progress.save()
    for f in ex.files:
        path = catalog.solution_dir / f
        print(style.green(f"# exercises/solutions/{f}"))
        print(path.read_text(encoding="utf-8"))
    return 0


def _grade(args: argparse.Namespace, catalog: Catalog, progress: Progress, style: Style) -> int:
    only = [catalog.get(n) for n in args.only] or None
    if args.roster is None and args.directory is None:
        _err("queuekit learn: grade needs a folder (one learner's files, or a class) or --roster CSV")
        return 2
    if args.directory is not None and not args.directory.is_dir():
        _err(f"queuekit learn: {args.directory} is not a folder")
        return 2
    out = sys.stderr if "-" in (str(args.json_path), str(args.csv_path)) else sys.stdout
    if args.roster is not None or args.as_class or is_class_folder(catalog, args.directory):
        return _grade_class(args, catalog, only, out)

    def echo(ex: Exercise, result: ExerciseResult) -> None:
        mark = "✓" if result.status == PASS else "✗"
        print(f"{mark} {ex.name:<24} {result.status:<5} "
              f"{result.count('pass')}/{len(result.tests)} tests" + (" (hanging)" if result.hanging else "")
              + (f" [{', '.join(result.backends)}]" if result.backends else ""), file=out)
    report = grade_directory(catalog, submission_root(catalog, args.directory), only, jobs=args.jobs, echo=echo)
    if args.json_path is not None:
        write_report(report, args.json_path)
    return 0


def _grade_class(args: argparse.Namespace, catalog: Catalog, only: list[Exercise] | None, out: TextIO) -> int:
    try:
        learners = read_roster(args.roster) if args.roster is not None else class_learners(args.directory)
    except RosterError as exc:
        _err(f"queuekit learn: {exc}")
        return 2
    if not learners:
        _err(f"queuekit learn: {args.directory} holds no learner's folder")
        return 2
    redis_url = os.environ.get(REDIS_ENV) or None
    print(f"grading {len(learners)} learner(s), {args.jobs} run(s) at a time, on the embedded server"
          + (f" and the real Redis {redis_url} (databases from this one on are EMPTIED)" if redis_url else ""),
          file=out)
    try:
        report = grade_class(catalog, learners, only, jobs=args.jobs, time_limit=args.time_limit,
                             redis_url=redis_url, echo=lambda line: print(line, file=out))
    except RosterError as exc:
        _err(f"queuekit learn: {exc}")
        return 2
    print(f"backends: {', '.join(report['backends']) or 'none'}; points: {POINTS_NOTE}", file=out)
    if args.json_path is not None:
        write_report(report, args.json_path)
    if args.csv_path is not None:
        write_csv(report, args.csv_path)
    return 0


POINTS_NOTE = "one per passed grader test (the tests the reference solution passes)"


def _verify(args: argparse.Namespace, catalog: Catalog, progress: Progress, style: Style) -> int:
    only = [catalog.get(n) for n in args.only] or None
    outcome = verify(catalog, only, jobs=args.jobs, echo=print, repeat=args.repeat, wrong=args.wrong)
    problems = outcome.problems
    if outcome.wrong_total:
        print(f"wrong versions: {outcome.wrong_caught} of {outcome.wrong_total} caught in every one of "
              f"{args.repeat} run(s)")
    if problems:
        print()
        print(style.red(f"verify: {len(problems)} problem(s)"))
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print(style.green("verify: OK"))
    return 0


#: what each command of ``queuekit learn`` runs: ``(args, catalog, progress, style) -> exit status``
_COMMANDS: dict[str, Callable[[argparse.Namespace, Catalog, Progress, Style], int]] = {
    "watch": _watch, "list": _list, "check": _check, "hint": _hint, "reset": _reset, "solution": _solution,
    "grade": _grade, "verify": _verify,
}
