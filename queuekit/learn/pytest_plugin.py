"""The pytest plugin the runner loads (``-p queuekit.learn.pytest_plugin``) to write results JSON.

The file named by ``$QUEUEKIT_RESULTS`` is rewritten after every test, so that when the runner has to kill a
hanging run it still knows which tests finished and which one was running (``"running"``).

Graders can attach what the learner's code printed (for example the output of a subprocess) with
``record_property("learner_output", text)``; otherwise the test's captured stdout and stderr are used. The
server a test ran on is recorded from ``record_property("backend", name)`` (the ``server_url`` fixture does it).
"""

from __future__ import annotations

import inspect
import json
import os
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest

from .results import ERROR, FAIL, PASS, SKIP, truncate

RESULTS_ENV = "QUEUEKIT_RESULTS"
_MESSAGE_LIMIT = 3000


class _Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.tests: dict[str, dict[str, Any]] = {}
        self.collect_errors: list[str] = []
        self.running: str | None = None
        self.waiting: str | None = None
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def write(self, finished: bool = False) -> None:
        with self.lock:  # graders may wait (note_waiting) from several threads
            data = {"tests": list(self.tests.values()), "collect_errors": self.collect_errors,
                    "running": None if finished else self.running, "finished": finished,
                    "waiting": None if finished else self.waiting}
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, self.path)


def _short_message(report: pytest.TestReport, call_excinfo: Any) -> str:
    """A readable failure message: the assertion's own message when the grader wrote one, else the exception."""
    if call_excinfo is not None:
        exc = call_excinfo.value
        if isinstance(exc, AssertionError):
            text = str(exc)
            # pytest's rewritten assert appends "assert <introspection>": keep the grader's sentence only
            for marker in ("\nassert ", "\nAssertionError"):
                if marker in text and not text.startswith("assert "):
                    text = text.split(marker, 1)[0]
            return text.strip()[:_MESSAGE_LIMIT] or "assertion failed"
        if isinstance(exc, pytest.fail.Exception):
            return str(exc.msg if hasattr(exc, "msg") else exc)[:_MESSAGE_LIMIT]
        where = ""
        tb = call_excinfo.traceback
        if tb:
            entry = tb[-1]
            where = f" (raised at {Path(str(entry.path)).name}, line {entry.lineno + 1})"
        return f"{type(exc).__name__}: {exc}{where}"[:_MESSAGE_LIMIT]
    return str(report.longreprtext)[-_MESSAGE_LIMIT:]


def _task_id(item: pytest.Item) -> int | None:
    marker = item.get_closest_marker("task")
    if marker is None:
        return None
    value = marker.kwargs.get("taskno", marker.args[0] if marker.args else None)
    return int(value) if isinstance(value, int) else None


def _test_code(item: pytest.Item) -> str | None:
    fn = getattr(item, "function", None)
    try:
        return inspect.getsource(fn) if fn is not None else None
    except (OSError, TypeError):
        return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    report._queuekit_excinfo = call.excinfo


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "task(taskno): the task of the exercise a test grades")
    path = os.environ.get(RESULTS_ENV)
    if path:
        config._queuekit_recorder = _Recorder(Path(path))  # type: ignore[attr-defined]


def _recorder(config: pytest.Config) -> _Recorder | None:
    return getattr(config, "_queuekit_recorder", None)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed and _current is not None:
        _current.collect_errors.append(_collect_message(report))


def _collect_message(report: pytest.CollectReport) -> str:
    """The useful part of a collection error: the exception line(s) at the end, not pytest's traceback."""
    text = str(report.longreprtext).strip()
    lines = text.splitlines()
    tail = [ln.removeprefix("E ") for ln in lines if ln.startswith("E ")]
    return ("\n".join(t.strip() for t in tail) or text)[-_MESSAGE_LIMIT:]


def pytest_collection_finish(session: pytest.Session) -> None:
    rec = _recorder(session.config)
    if rec is None:
        return
    for item in session.items:
        rec.tests[item.nodeid] = {"name": item.name, "status": "pending", "message": None, "output": None,
                                  "test_code": _test_code(item), "task_id": _task_id(item), "duration": 0.0,
                                  "backend": None}
    rec.write()


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    rec = _current
    if rec is not None:
        rec.running = nodeid
        rec.waiting = None
        rec.write()


def note_waiting(what: str | None) -> None:
    """Record what the running test is waiting for (None: nothing any more), so that a run stopped at its time
    limit can say it; graders call it through ``exercise_support`` around every wait."""
    rec = _current
    if rec is not None and rec.waiting != what:
        rec.waiting = what
        rec.write()


_current: _Recorder | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _current
    _current = _recorder(session.config)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    rec = _current
    if rec is None or report.nodeid not in rec.tests:
        return
    entry = rec.tests[report.nodeid]
    entry["duration"] = round(entry["duration"] + report.duration, 3)
    props = dict(report.user_properties)
    output = cast("str | None", props.get("learner_output"))
    backends = [str(value) for key, value in report.user_properties if key == "backend" and value]
    if backends:  # a test on the real Redis may use the in-process embedded store as well: it ran on Redis
        entry["backend"] = next((b for b in backends if b != "embedded"), backends[0])
    if output is None:
        output = "".join(text for _, text in report.get_sections("Captured stdout")) + \
                 "".join(text for _, text in report.get_sections("Captured stderr"))
    if report.when == "call":
        if report.passed:
            entry["status"] = PASS
        elif report.skipped:
            entry["status"] = SKIP
            entry["message"] = _skip_reason(report)
        else:
            entry["status"] = FAIL
            entry["message"] = _short_message(report, getattr(report, "_queuekit_excinfo", None))
        entry["output"] = truncate(output)
    elif report.skipped and entry["status"] == "pending":
        entry["status"] = SKIP
        entry["message"] = _skip_reason(report)
    elif report.failed:
        entry["status"] = ERROR
        excinfo = getattr(report, "_queuekit_excinfo", None)
        prefix = "while preparing the test" if report.when == "setup" else "while cleaning up after the test"
        entry["message"] = f"{prefix}: {_short_message(report, excinfo)}"
        entry["output"] = truncate(output) or entry["output"]
    if report.when == "teardown":
        rec.running = None
    rec.write()


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    rec = _recorder(session.config)
    if rec is not None:
        rec.write(finished=True)
