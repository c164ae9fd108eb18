"""Helpers shared by the exercise graders: load the learner's file by path, run it as a process, compare output.

Graders find the files to grade in ``$EXERCISE_ROOT`` (default: the project's ``exercises/`` folder).
Every assertion message is written for a beginner: which function, with what input, what was expected, what came
back.
"""

from __future__ import annotations

import importlib.util
import os
import queue as _queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXERCISE_ROOT = Path(os.environ.get("EXERCISE_ROOT") or PROJECT_ROOT / "exercises").resolve()
#: The real Redis the multi-process exercises are also graded against (database 2 is reserved for them).
REAL_REDIS_URL = os.environ.get("QUEUEKIT_EXERCISE_REDIS_URL", "redis://127.0.0.1:6379/2")


def exercise_path(file_name: str) -> Path:
    """Where the graded copy of ``file_name`` is."""
    return EXERCISE_ROOT / file_name


def load(file_name: str, *names: str) -> ModuleType:
    """Import the learner's ``file_name`` by path and check that it defines ``names``.

    Raises:
        ImportError: with a friendly message when the file is missing, does not import, or lacks a name.
    """
    path = exercise_path(file_name)
    if not path.is_file():
        raise ImportError(f"MISSING FILE: {path} does not exist. Did you rename or delete it? "
                          f"(`queuekit learn reset` restores it)")
    if str(EXERCISE_ROOT) not in sys.path:
        sys.path.insert(0, str(EXERCISE_ROOT))
    module_name = f"{path.stem}_graded_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ImportError(f"SYNTAX ERROR in {path.name}, line {exc.lineno}: {exc.msg}. "
                          "Python could not read your file.") from None
    except Exception as exc:
        raise ImportError(f"{path.name} failed while being imported: {type(exc).__name__}: {exc}. Importing "
                          "the file must not run anything: put the code that runs under "
                          "`if __name__ == \"__main__\":`.") from None
    for name in names:
        if not hasattr(module, name):
            raise ImportError(f"MISSING FUNCTION: {path.name} has no `{name}`. Did you misname it or forget to "
                              "define it?")
    return module


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's ``fn``, turning a leftover ``NotImplementedError`` into a readable failure."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        import pytest

        pytest.fail(f"`{fn.__name__}` is not written yet: it still raises NotImplementedError"
                    f"{(' (' + str(exc) + ')') if str(exc) else ''}. Replace the TODO with your code.",
                    pytrace=False)


def show_lines(lines: Sequence[str]) -> str:
    """Lines as a numbered block for a message."""
    if not lines:
        return "    (nothing)"
    return "\n".join(f"    {i + 1:>2} | {line}" for i, line in enumerate(lines))


def compare_lines(got: Sequence[str], expected: Sequence[str], who: str) -> str | None:
    """None when ``got`` equals ``expected``, else a message naming the first difference and both outputs."""
    got, expected = list(got), list(expected)
    if got == expected:
        return None
    for i, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            where = f"line {i + 1}: expected {e!r}\n                but got  {g!r}"
            break
    else:
        if len(got) < len(expected):
            where = f"line {len(got) + 1} is missing: expected {expected[len(got)]!r}"
        else:
            where = f"line {len(expected) + 1} is extra: {got[len(expected)]!r}"
    return (f"{who} printed something different from what the exercise asks.\n  First difference, {where}\n"
            f"  Expected output:\n{show_lines(expected)}\n  Your output:\n{show_lines(got)}")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare_learner_process() -> None:
    """In a learner's process, before it runs: Ctrl-C as in a terminal, and be killed when the grader that started
    it dies (Linux), so that a grader killed at its time limit leaves no processor behind to take the next run's
    jobs (the process runs in a session of its own, which the runner's kill of the grader's group does not
    reach)."""
    # Ctrl-C must reach it as the learner's terminal would deliver it: a grader started in the background inherits
    # SIGINT ignored, and Python then never raises KeyboardInterrupt (a processor would ignore the grader's Ctrl-C)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: Script.stop() (by pid) is the only clean-up
        pass


class Script:
    """One of the learner's files running as a separate process, its output read line by line as it comes.

    Args:
        file_name: the exercise file to run with ``python FILE``.
        redis_url: given to the process as ``REDIS_URL`` (the shared server).
        env: more environment variables; ``args``: command-line arguments.
    """

    def __init__(self, file_name: str, redis_url: str | None = None, env: dict[str, str] | None = None,
                 args: Sequence[str] = ()) -> None:
        self.file_name = file_name
        run_env = dict(os.environ)
        run_env.pop("REDIS_URL", None)
        if redis_url:
            run_env["REDIS_URL"] = redis_url
        run_env.update(env or {})
        run_env["PYTHONUNBUFFERED"] = "1"
        run_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(EXERCISE_ROOT), run_env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen([sys.executable, str(exercise_path(file_name)), *args], cwd=EXERCISE_ROOT,
                                     env=run_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True,
                                     preexec_fn=_prepare_learner_process if sys.platform == "linux" else None)
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._new: _queue.Queue[str | None] = _queue.Queue()
        self._out = threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines, self._new), daemon=True)
        self._err = threading.Thread(target=self._pump, args=(self.proc.stderr, self.errors, None), daemon=True)
        self._out.start()
        self._err.start()

    @staticmethod
    def _pump(stream: Any, into: list[str], notify: _queue.Queue[str | None] | None) -> None:
        for line in stream:
            line = line.rstrip("\n")
            into.append(line)
            if notify is not None:
                notify.put(line)
        if notify is not None:
            notify.put(None)

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float) -> bool:
        """Wait until ``predicate(lines so far)`` holds; False after ``timeout`` s or when the process ended."""
        deadline = time.monotonic() + timeout
        while not predicate(self.lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                item = self._new.get(timeout=min(remaining, 0.1))
            except _queue.Empty:
                continue
            if item is None:
                self._new.put(None)
                return predicate(self.lines)
        return True

    def wait_line_count(self, n: int, timeout: float) -> bool:
        """Wait until the process printed at least ``n`` lines."""
        return self.wait_for(lambda lines: len(lines) >= n, timeout)

    def wait_exit(self, timeout: float) -> int | None:
        """The exit status, or None when the process still runs after ``timeout`` seconds."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._out.join(2)
        self._err.join(2)
        return code

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and everything it started."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=5)
        self._out.join(2)
        self._err.join(2)

    def transcript(self) -> str:
        """What the process printed, for the report (stdout, then stderr if any)."""
        text = "\n".join(self.lines)
        if self.errors:
            text += ("\n" if text else "") + "[stderr]\n" + "\n".join(self.errors[-40:])
        return text

    def error_tail(self, n: int = 6) -> str:
        """The last lines of stderr (usually the traceback's end), indented."""
        return show_lines(self.errors[-n:]) if self.errors else "    (nothing on stderr)"

    def __enter__(self) -> Script:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_script(file_name: str, redis_url: str | None = None, timeout: float = 15.0,
               env: dict[str, str] | None = None, args: Sequence[str] = ()) -> tuple[Script, int | None]:
    """Run a learner's file to completion (or ``timeout``); returns the script and its exit status (None: hung,
    then killed)."""
    script = Script(file_name, redis_url, env, args)
    code = script.wait_exit(timeout)
    if code is None:
        script.stop()
    return script, code


def transcripts(*scripts: Script) -> str:
    """The outputs of several processes, labelled, for ``record_property("learner_output", …)``."""
    return "\n".join(f"--- python {s.file_name} ---\n{s.transcript()}" for s in scripts)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def start_app(file_name: str, redis_url: str, timeout: float = 30.0) -> tuple[Script, str]:
    """Start a learner's web app (``python FILE`` with ``PORT`` set) and wait until it accepts connections.

    Returns the script and the base URL. Fails the test with the app's output when it does not come up.
    """
    import pytest

    port = free_port()
    script = Script(file_name, redis_url, env={"PORT": str(port)})

    def listening() -> bool:
        if not script.running:
            return True
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False
    wait_until(listening, timeout=timeout, interval=0.1)
    if not script.running:
        script.stop()
        pytest.fail(f"`PORT={port} python {file_name}` ended before serving anything (exit status "
                    f"{script.proc.returncode}). It must start uvicorn on the port in $PORT (1245 by default).\n"
                    f"Its output:\n{show_lines((script.lines + script.errors)[-15:])}", pytrace=False)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            pass
    except OSError:
        script.stop()
        pytest.fail(f"`PORT={port} python {file_name}` was not listening on port {port} after {timeout:g} s. "
                    f"Does it read $PORT?\nIts output:\n{show_lines((script.lines + script.errors)[-15:])}",
                    pytrace=False)
    return script, f"http://127.0.0.1:{port}"
