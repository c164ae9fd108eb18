"""Helpers for the fault suites: private redis-server processes on free loopback ports, worker subprocesses,
/proc readings. Every process started here is stopped by its owner (fixtures use try/finally)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def redis_server_binary() -> str:
    path = shutil.which("redis-server")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (CI=true: the fault suites must run)")
        pytest.skip("redis-server is not installed")
    return path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_cluster_port() -> int:
    """A port P <= 55535 with P and its cluster bus port P + 10000 both free on 127.0.0.1."""
    import random

    for _ in range(200):
        port = random.randint(20000, 55000)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair for a cluster node")


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    return free_port()


class RedisProcess:
    """One private redis-server on 127.0.0.1:<port>, started with ``args`` in ``directory``.

    ``restart()`` stops it cleanly (SIGTERM: with AOF on, Redis flushes and fsyncs the AOF before exiting) and
    starts it again with the same arguments and directory, so the data survives.
    """

    def __init__(self, directory: Path, args: list[str], port: int | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.directory / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **kw: Any) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True, **kw)

    def start(self, timeout: float = 20.0) -> RedisProcess:
        cmd = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
               "--logfile", str(self.log), "--daemonize", "no", *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        probe = self.client(socket_connect_timeout=0.5, socket_timeout=2)
        try:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server on port {self.port} exited: {self.tail()}")
                try:
                    if probe.ping():
                        # with AOF, PING answers while loading? No: it replies LOADING, which raises; so up here
                        return self
                except (redis.RedisError, AttributeError):
                    # not up yet (refused, LOADING), or a reply that is not yet our server's: ask again. Once seen in
                    # CI: redis-py's connection handshake got a list where it expected a map (AttributeError).
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on port {self.port} did not answer in {timeout}s: {self.tail()}")
                time.sleep(0.05)
        finally:
            probe.close()

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (a clean shutdown that fsyncs the AOF), then SIGKILL if it lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> float:
        """Stop cleanly and start again with the same data directory; returns the seconds it was down."""
        began = time.monotonic()
        self.stop()
        self.start()
        return time.monotonic() - began

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def rss_kib(pid: int) -> int | None:
    """VmRSS of a process, KiB (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_state(pid: int) -> str:
    """The one-letter state from /proc/<pid>/stat ('T' = stopped), '' if gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def python_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")])
    env.pop("REDIS_URL", None)
    return env


def spawn(script: str, *args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``python tests/faults/<script> args...`` in its own process group."""
    out: Any = open(log, "ab") if log is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen([sys.executable, str(HERE / script), *args], env=python_env(), stdout=out,
                                stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
                                start_new_session=True)
    finally:
        if log is not None:
            out.close()


def spawn_cli(*args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start the real ``queuekit`` command (``python -m queuekit.cli args...``) in its own process group."""
    out: Any = open(log, "ab") if log is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen([sys.executable, "-m", "queuekit.cli", *args], env=python_env(), stdout=out,
                                stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
                                start_new_session=True, cwd=str(HERE))
    finally:
        if log is not None:
            out.close()


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGCONT (in case it is frozen), SIGTERM, then SIGKILL after ``timeout``."""
    if proc.poll() is not None:
        return
    for sig in (signal.SIGCONT, signal.SIGTERM):
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default
