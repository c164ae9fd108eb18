"""Helpers shared by the exercise graders: load the learner's file by path, run it as a process, compare output.

Graders find the files to grade in ``$EXERCISE_ROOT`` (default: the project's ``exercises/`` folder).
Every assertion message is written for a beginner: which function, with what input, what was expected, what came
back. Every wait names what it waits for (``what=``): the :class:`Waited` it returns is false after a timeout and
its ``message`` says what did not happen in time, for the grader's assertion.

Processes: each :class:`Script` runs in its own process group with a unique marker in its environment; ``stop()``
kills the group and every process still holding the marker (a child that left the group with ``setsid`` too).
Scripts not stopped by their test are killed when the test ends (``kill_leftovers``, called by conftest.py) and
when the grader exits; the runner kills whatever is left of a grading run after it.
"""

from __future__ import annotations

import atexit
import contextlib
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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXERCISE_ROOT = Path(os.environ.get("EXERCISE_ROOT") or PROJECT_ROOT / "exercises").resolve()
#: The real Redis the exercises are also graded against, only when asked for (``queuekit learn --redis URL``
#: sets it; the URL names the database the graders empty): "" means the embedded server only.
REAL_REDIS_URL = os.environ.get("QUEUEKIT_EXERCISE_REDIS_URL", "")
#: The environment variable marking every process a :class:`Script` started (its value is unique per script).
SCRIPT_MARKER_ENV = "QUEUEKIT_SCRIPT_RUN"


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


class Waited:
    """What a wait returns: true when what was awaited happened in time. When it did not, ``message`` (also its
    ``str``) names what was awaited, for how long, and what was seen instead; put it in the assertion message."""

    def __init__(self, ok: bool, what: str, timeout: float, seen: str = "", ended: bool = False) -> None:
        self.ok, self.what, self.timeout, self.seen, self.ended = ok, what, timeout, seen, ended

    def __bool__(self) -> bool:
        return self.ok

    @property
    def message(self) -> str:
        if self.ok:
            return f"{self.what}: done"
        if self.ended:
            return f"stopped waiting for {self.what}: the process ended" + (f"; {self.seen}" if self.seen else "")
        return f"waited {self.timeout:g} s for {self.what}, in vain" + (f"; {self.seen}" if self.seen else "")

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"Waited({self.ok}, {self.message!r})"


def _note_waiting(what: str | None) -> None:
    """Tell the runner what the test is waiting for, so a run stopped at its time limit can name it."""
    try:
        from queuekit.learn.pytest_plugin import note_waiting
    except ImportError:
        return
    note_waiting(what)


@contextlib.contextmanager
def waiting_for(what: str) -> Iterator[None]:
    """Around a blocking call (an HTTP request, a queue read...): if it times out, the test fails naming ``what``
    (``"the response to GET /reserve_seat"``), and a run stopped at its time limit names it too."""
    import pytest

    _note_waiting(what)
    try:
        yield
    except Exception as exc:
        if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
            pytest.fail(f"timed out waiting for {what} ({type(exc).__name__}: {exc or 'no answer in time'})",
                        pytrace=False)
        raise
    finally:
        _note_waiting(None)


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

    last_wait: Waited | None = None

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
        self.marker = uuid.uuid4().hex
        run_env[SCRIPT_MARKER_ENV] = self.marker
        self.command = f"python {file_name}" + "".join(f" {a}" for a in args)
        self.proc = subprocess.Popen([sys.executable, str(exercise_path(file_name)), *args], cwd=EXERCISE_ROOT,
                                     env=run_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True,
                                     preexec_fn=_prepare_learner_process if sys.platform == "linux" else None)
        _STARTED[self.proc.pid] = self
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

    def _seen(self) -> str:
        """What the process did so far, for a timeout message."""
        text = f"`{self.command}` printed {len(self.lines)} line(s)"
        if self.lines:
            text += f", the last: {self.lines[-1][:200]!r}"
        if self.proc.poll() is not None:
            text += f", and it ended with exit status {self.proc.returncode}"
        return text

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float, what: str | None = None) -> Waited:
        """Wait until ``predicate(lines so far)`` holds; false after ``timeout`` s or when the process ended.

        ``what`` describes the awaited output for the message (``"the line 'worker 1 started'"``)."""
        what = what or f"`{self.command}` to print the expected line(s)"
        deadline = time.monotonic() + timeout
        _note_waiting(what)
        try:
            while not predicate(self.lines):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return Waited(False, what, timeout, self._seen())
                try:
                    item = self._new.get(timeout=min(remaining, 0.1))
                except _queue.Empty:
                    continue
                if item is None:
                    self._new.put(None)
                    self._out.join(1)
                    try:  # its output closed: it is ending; let it be reaped so that the message gives its status
                        self.proc.wait(timeout=2)
                    except subprocess.TimeoutExpired:
                        pass
                    ok = predicate(self.lines)
                    return Waited(ok, what, timeout, "" if ok else self._seen(), ended=not ok)
            return Waited(True, what, timeout)
        finally:
            _note_waiting(None)

    def wait_line_count(self, n: int, timeout: float, what: str | None = None) -> Waited:
        """Wait until the process printed at least ``n`` lines."""
        return self.wait_for(lambda lines: len(lines) >= n, timeout,
                             what or f"`{self.command}` to print {n} line(s)")

    def wait_exit(self, timeout: float, what: str | None = None) -> int | None:
        """The exit status, or None when the process still runs after ``timeout`` seconds (then
        ``self.last_wait.message`` names what was awaited and what the process printed)."""
        what = what or f"`{self.command}` to finish"
        _note_waiting(what)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.last_wait = Waited(False, what, timeout, self._seen() + " and it is still running")
            return None
        finally:
            _note_waiting(None)
        self._out.join(2)
        self._err.join(2)
        self.last_wait = Waited(True, what, timeout)
        return code

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
        """Stop the process (``sig``, then SIGKILL) and everything it started: its process group, and any process
        still carrying this script's marker (a child that detached with ``setsid``)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=timeout)
            except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
            self.proc.wait(timeout=5)
        _kill_rest(self)
        _STARTED.pop(self.proc.pid, None)
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


#: every Script started and not stopped yet, by pid
_STARTED: dict[int, Script] = {}


def _kill_rest(script: Script) -> None:
    """SIGKILL what is left of ``script`` after its own process ended: its group, then its marked processes."""
    try:
        os.killpg(script.proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        from queuekit.learn.procs import kill_marked
    except ImportError:
        return
    kill_marked(script.marker, SCRIPT_MARKER_ENV, timeout=2.0)


def kill_leftovers() -> list[str]:
    """Kill every script still running or not stopped (and whatever it started); returns their commands.
    conftest.py calls it after every test, and it runs when the grader exits."""
    left = list(_STARTED.values())
    for script in left:
        try:
            script.stop(signal.SIGKILL, timeout=2)
        except Exception:  # noqa: BLE001 - clean-up goes on with the next script
            _STARTED.pop(script.proc.pid, None)
    return [s.command for s in left]


atexit.register(kill_leftovers)


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


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05,
               what: str | None = None) -> Waited:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass; ``what`` names the awaited state for the
    message (default: the predicate's name)."""
    name = getattr(predicate, "__name__", "")
    what = what or (f"{name}() to hold" if name and name != "<lambda>" else "the expected state")
    deadline = time.monotonic() + timeout
    _note_waiting(what)
    try:
        while True:
            if predicate():
                return Waited(True, what, timeout)
            if time.monotonic() >= deadline:
                return Waited(False, what, timeout)
            time.sleep(interval)
    finally:
        _note_waiting(None)


def start_app(file_name: str, redis_url: str, timeout: float = 30.0, what: str | None = None) -> tuple[Script, str]:
    """Start a learner's web app (``python FILE`` with ``PORT`` set) and wait until it accepts connections.

    Returns the script and the base URL. Fails the test with the app's output when it does not come up, naming
    what was awaited (``what``, default: the app accepting connections on its port).
    """
    import pytest

    port = free_port()
    script = Script(file_name, redis_url, env={"PORT": str(port)})
    what = what or f"`PORT={port} python {file_name}` to accept connections on port {port}"

    def listening() -> bool:
        if not script.running:
            return True
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False
    wait_until(listening, timeout=timeout, interval=0.1, what=what)
    if not script.running:
        script.stop()
        pytest.fail(f"while waiting for {what}, the app ended before serving anything (exit status "
                    f"{script.proc.returncode}). It must start uvicorn on the port in $PORT (1245 by default).\n"
                    f"Its output:\n{show_lines((script.lines + script.errors)[-15:])}", pytrace=False)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            pass
    except OSError:
        script.stop()
        pytest.fail(f"waited {timeout:g} s for {what}, in vain: nothing was listening on port {port}. "
                    f"Does it read $PORT?\nIts output:\n{show_lines((script.lines + script.errors)[-15:])}",
                    pytrace=False)
    return script, f"http://127.0.0.1:{port}"


def recording_client(store: Any, events: list[tuple[Any, ...]], fail: dict[str, Exception] | None = None) -> Any:
    """A redis-py client of the embedded ``store`` that appends ``("command", NAME, *args)`` to ``events`` for every
    command it sends (so a grader can check the order of the commands and of the lines printed), and raises
    ``fail[NAME]`` instead of sending a command named in ``fail`` (a command the server refuses)."""
    import fakeredis

    failing = {name.upper(): error for name, error in (fail or {}).items()}

    class _Recording(fakeredis.FakeRedis):
        def execute_command(self, *args: Any, **options: Any) -> Any:
            name = str(args[0]).upper()
            events.append(("command", name, *args[1:]))
            if name in failing:
                raise failing[name]
            return super().execute_command(*args, **options)

    return _Recording(server=store, decode_responses=True)


class TimedOutput:
    """A stand-in for ``sys.stdout`` that appends ``("print", LINE, time)`` to ``events`` for every line written."""

    def __init__(self, events: list[tuple[Any, ...]]) -> None:
        self.events = events
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            self.events.append(("print", line, time.monotonic()))
        return len(text)

    def flush(self) -> None:
        pass

    def printed(self) -> list[str]:
        return [e[1] for e in self.events if e[0] == "print"]
