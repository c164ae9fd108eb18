"""Grading one exercise: its grader runs under pytest in a subprocess with a hard time limit.

A fresh process means fresh imports after every edit, and a learner's endless loop or a blocking call that never
returns cannot hang the runner: at the time limit the whole process group is killed and the test that was running
is reported as hanging.

Nothing a run started outlives it: each run carries a unique marker in its environment (``procs.MARKER_ENV``),
and when it ends, whether it finished, failed or was stopped, its process group and every process still holding
the marker are killed by pid, so that a forgotten worker cannot serve the next run's jobs.

Backends: graders run on the embedded server only, unless a real Redis was asked for with
``QUEUEKIT_EXERCISE_REDIS_URL`` (``queuekit learn --redis URL``), which must name its database: the graders empty
it before every test.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from .catalog import Catalog, Exercise
from .procs import MARKER_ENV, kill_group, kill_marked
from .results import ERROR, FAIL, PASS, SKIP, ExerciseResult, TestResult, truncate

__all__ = ["EXERCISE_ROOT_ENV", "REDIS_ENV", "RedisUrlError", "check_redis_url", "grade", "grade_many",
           "redis_database", "with_database"]

logger = logging.getLogger(__name__)

#: The environment variable graders read to find the files to grade.
EXERCISE_ROOT_ENV = "EXERCISE_ROOT"
#: The environment variable that asks the graders to run on a real Redis too (its URL, with a database number).
REDIS_ENV = "QUEUEKIT_EXERCISE_REDIS_URL"


class RedisUrlError(ValueError):
    """A real-Redis URL the graders must not use (no explicit database, database 0, not a redis URL)."""


def check_redis_url(url: str) -> str:
    """``url`` when the graders may use it, else :class:`RedisUrlError` saying why.

    The graders empty the database they use before each test, so the URL must name it explicitly
    (``redis://host:port/N``) and it must not be database 0, where Redis puts everyone's data by default.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise RedisUrlError(f"{url!r} is not a Redis URL (expected redis://HOST:PORT/DB)")
    db = redis_database(url)
    if db is None:
        raise RedisUrlError(f"{url!r} names no database: the graders empty the database they use before every "
                            "test, so name one kept for them, e.g. redis://127.0.0.1:6379/2")
    if db == 0:
        raise RedisUrlError(f"{url!r} is database 0, the default one where your own data usually is; the graders "
                            "empty the database they use: name another, e.g. redis://127.0.0.1:6379/2")
    return url


def redis_database(url: str) -> int | None:
    """The database number named in ``url`` (its path, or ``?db=N``), None when it names none."""
    parts = urlsplit(url)
    path = parts.path.strip("/") if parts.scheme != "unix" else ""
    if path.isdigit():
        return int(path)
    for pair in parts.query.split("&"):
        key, _, value = pair.partition("=")
        if key == "db" and value.isdigit():
            return int(value)
    return None


def with_database(url: str, db: int) -> str:
    """``url`` with its database replaced by ``db``."""
    parts = urlsplit(url)
    if parts.scheme == "unix" or "db=" in parts.query:
        query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("db="))
        query = (query + "&" if query else "") + f"db={db}"
        return parts._replace(query=query).geturl()
    return parts._replace(path=f"/{db}").geturl()


def _pytest_command(grader: Path, stop_first: bool) -> list[str]:
    # Plugins are named, not discovered (PYTEST_DISABLE_PLUGIN_AUTOLOAD below): importing every installed plugin
    # (hypothesis, benchmark, anyio...) would slow the start of every grading run, and graders need none of them.
    cmd = [sys.executable, "-m", "pytest", str(grader), "-p", "queuekit.learn.pytest_plugin", "-p", "queuekit.testing",
           "-p", "pytest_timeout", "-p", "no:cacheprovider", "-q", "--no-header", "-o", "addopts=",
           "-o", "console_output_style=classic"]
    if stop_first:
        cmd.append("-x")
    return cmd


def grade(catalog: Catalog, exercise: Exercise, exercise_root: Path | None = None, *, timeout: float | None = None,
          stop_first: bool = False, env: dict[str, str] | None = None) -> ExerciseResult:
    """Grade ``exercise`` with the files found in ``exercise_root`` (the learner's ``exercises/`` by default).

    Args:
        timeout: seconds before the run is stopped and reported as hanging (the catalog's value by default).
        stop_first: stop at the first failing test (enough to know an exercise does not pass yet).
        env: extra environment variables for the grader.
    """
    root = Path(exercise_root) if exercise_root is not None else catalog.exercise_dir
    limit = float(timeout if timeout is not None else exercise.timeout)
    started = time.monotonic()
    missing = [f for f in exercise.files if not (root / f).is_file()]
    if missing:
        return ExerciseResult(exercise.name, ERROR, f"missing file(s): {', '.join(missing)} (looked in {root})",
                              duration=0.0)
    grader = catalog.root / exercise.grader
    if not grader.is_file():
        return ExerciseResult(exercise.name, ERROR, f"the grader {exercise.grader} does not exist")
    with tempfile.TemporaryDirectory(prefix="queuekit-grade-") as tmp:
        results_path = Path(tmp) / "results.json"
        run_env = dict(os.environ)
        run_env.update(env or {})
        run_env[EXERCISE_ROOT_ENV] = str(root.resolve())
        run_env["QUEUEKIT_RESULTS"] = str(results_path)
        run_env["PYTHONUNBUFFERED"] = "1"
        run_env["PYTHONDONTWRITEBYTECODE"] = "1"
        run_env.pop("PYTEST_ADDOPTS", None)
        run_env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        marker = uuid.uuid4().hex
        run_env[MARKER_ENV] = marker
        redis_url = run_env.get(REDIS_ENV) or None
        if redis_url:
            try:
                check_redis_url(redis_url)
            except RedisUrlError as exc:
                return ExerciseResult(exercise.name, ERROR, f"{REDIS_ENV}: {exc}", duration=0.0)
        # the console goes to a file, not a pipe: a detached process that inherited it cannot keep the run open
        with open(Path(tmp) / "console.txt", "w+", encoding="utf-8", errors="replace") as console_file:
            proc = subprocess.Popen(_pytest_command(grader, stop_first), cwd=catalog.root, env=run_env,
                                    stdin=subprocess.DEVNULL, stdout=console_file, stderr=subprocess.STDOUT,
                                    text=True, start_new_session=True)
            hanging = False
            try:
                try:
                    proc.wait(timeout=limit)
                except subprocess.TimeoutExpired:
                    hanging = True
                    _kill_group(proc)
                    proc.wait()
            finally:
                _clean_up(proc, marker)
            console_file.seek(0)
            console = console_file.read()
        duration = time.monotonic() - started
        raw = _read_json(results_path)
    result = _build(exercise, raw, console or "", proc.returncode, hanging, limit, duration)
    result.redis_url = redis_url
    return result


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """Kill the grader and every process it started (the learner's scripts, servers…)."""
    if not kill_group(proc.pid, signal.SIGKILL):
        proc.kill()


def _clean_up(proc: subprocess.Popen[str], marker: str) -> None:
    """After a run, kill what is left of it: the grader's process group (the pytest process itself has ended,
    but processes it started may remain in the group), then every process still carrying the run's marker."""
    if proc.poll() is None:
        _kill_group(proc)
        proc.wait()
    kill_group(proc.pid, signal.SIGKILL)
    left = kill_marked(marker)
    if left:
        logger.info("killed %d process(es) left behind by a grading run: %s", len(left), left)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return cast("dict[str, Any]", json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _build(exercise: Exercise, raw: dict[str, Any] | None, console: str, returncode: int | None, hanging: bool,
           limit: float, duration: float) -> ExerciseResult:
    tests: list[TestResult] = []
    running = raw.get("running") if raw else None
    for entry in (raw or {}).get("tests", []):
        status = entry.get("status")
        if status == "pending":
            if hanging and running and entry is not None and _is_running(entry, running):
                waiting = raw.get("waiting") if raw else None
                entry = dict(entry, status=ERROR, message=(
                    f"hanging: this test did not finish within {limit:g} s, so it was stopped"
                    + (f" while it was waiting for {waiting}" if waiting else "") + ". Your code seems to "
                    "wait forever: an endless loop, a blocking call without a timeout, or a process that never "
                    "exits?"))
            elif hanging:
                entry = dict(entry, status=SKIP, message="not run: an earlier test was hanging")
            else:
                entry = dict(entry, status=SKIP, message="not run (an earlier test failed and the run stopped)")
        tests.append(TestResult(**{k: v for k, v in entry.items() if k in TestResult.__dataclass_fields__}))
    if hanging:
        if not any(t.message and t.message.startswith("hanging") for t in tests):
            # the time ran out before the first test (importing the exercise?), in a fixture or between tests
            where = running.split("::")[-1] if running else "(loading the exercise)"
            tests.append(TestResult(name=where, status=ERROR, message=(
                f"hanging: did not finish within {limit:g} s" + ("" if running else
                                                                 ": does your file run a loop when imported?"))))
        return ExerciseResult(exercise.name, FAIL, f"{exercise.name} is hanging: grading was stopped after "
                              f"{limit:g} s", tests, hanging=True, duration=duration)
    collect_errors = (raw or {}).get("collect_errors", [])
    if raw is None or collect_errors or not tests:
        message = "\n".join(collect_errors) if collect_errors else None
        if not message:
            message = ("the grader could not run" if raw is None else "the grader found no test to run") + \
                f" (exit status {returncode}). Its output:\n{truncate(console.strip(), 1500)}"
        return ExerciseResult(exercise.name, ERROR, message, tests, duration=duration)
    if any(t.status in (FAIL, ERROR) for t in tests):
        status = FAIL
    elif any(t.status == PASS for t in tests):
        status = PASS
    else:
        status = FAIL  # nothing failed but nothing passed either (everything skipped): not a pass
    message = None
    if status == FAIL and not any(t.status in (FAIL, ERROR) for t in tests):
        message = "no test ran (every test was skipped): " + "; ".join(sorted({t.message or "" for t in tests}))
    return ExerciseResult(exercise.name, status, message, tests, duration=duration)


def _is_running(entry: dict[str, Any], running: str) -> bool:
    name = entry.get("name") or ""
    return running.endswith("::" + name)


def grade_many(catalog: Catalog, exercises: Iterable[Exercise], exercise_root: Path | None = None, *,
               jobs: int = 1, stop_first: bool = False,
               env: dict[str, str] | None = None) -> Iterator[tuple[Exercise, ExerciseResult]]:
    """Grade several exercises, ``jobs`` at a time, yielding results in course order."""
    items = list(exercises)
    if jobs <= 1:
        for ex in items:
            yield ex, grade(catalog, ex, exercise_root, stop_first=stop_first, env=env)
        return
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(grade, catalog, ex, exercise_root, stop_first=stop_first, env=env) for ex in items]
        for ex, fut in zip(items, futures):
            yield ex, fut.result()
