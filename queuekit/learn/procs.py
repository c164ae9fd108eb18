"""Finding and killing what a grading run started, by pid: its process group, and every process that still
carries the run's marker in its environment (a learner's child that left the group with ``setsid`` keeps the
environment it was started with).

The marker search reads ``/proc/<pid>/environ``; where there is no ``/proc`` (macOS) only process groups are used.
"""

from __future__ import annotations

import os
import signal
import time

__all__ = ["MARKER_ENV", "kill_group", "kill_marked", "marked_pids"]

#: The environment variable holding a grading run's unique marker.
MARKER_ENV = "QUEUEKIT_GRADE_RUN"


def marked_pids(value: str, name: str = MARKER_ENV) -> list[int]:
    """The live processes (not this one) whose environment holds ``name=value``; [] without ``/proc``."""
    needle = f"{name}={value}".encode()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    me = os.getpid()
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read()
        except OSError:  # gone, or not ours
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry))
    return found


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> bool:
    """Send ``sig`` to process group ``pgid``; False when there was no such group."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def kill_marked(value: str, name: str = MARKER_ENV, timeout: float = 3.0) -> list[int]:
    """SIGKILL every process marked ``name=value`` (and its process group), again until none is left or
    ``timeout`` seconds pass (a process may fork while it is being killed). Returns the pids killed."""
    killed: list[int] = []
    deadline = time.monotonic() + timeout
    while True:
        pids = [p for p in marked_pids(value, name) if not _is_zombie(p)]
        if not pids or time.monotonic() > deadline:
            return killed
        for pid in pids:
            try:
                pgid = os.getpgid(pid)
            except ProcessLookupError:
                continue
            if pgid != os.getpgrp():  # never our own group
                kill_group(pgid)
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                continue
            killed.append(pid)
        time.sleep(0.05)


def _is_zombie(pid: int) -> bool:
    """True when ``pid`` has exited but was not reaped yet (it holds no resource and runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2:][:1] in (b"Z", b"X")
