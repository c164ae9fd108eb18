"""Grader of task 0 (exercises/ex00_server.py): start a server, ping it, seed Holberton -> School."""

from __future__ import annotations

import re

import pytest
import redis

from exercise_support import call, compare_lines, free_port, load, run_script

ex = load("ex00_server.py", "start_server", "ping", "seed")
pytestmark = pytest.mark.task(0)


def _stop(server: object) -> None:
    stop = getattr(server, "stop", None)
    if callable(stop):
        stop()


def test_start_server_returns_a_running_server() -> None:
    server = call(ex.start_server, 0)
    try:
        url = getattr(server, "url", None)
        assert isinstance(url, str), (
            f"start_server(0) returned {server!r}; expected the started EmbeddedServer (it has a .url)")
        try:
            answered = redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.ConnectionError as exc:
            pytest.fail(f"start_server(0) returned a server at {url}, but nothing answers there ({exc}). "
                        "Did you call .start()?", pytrace=False)
        assert answered, f"the server at {url} did not answer PING"
    finally:
        _stop(server)


def test_start_server_listens_on_the_port_asked() -> None:
    port = free_port()
    server = call(ex.start_server, port)
    try:
        got = getattr(server, "port", None)
        assert got == port, f"start_server({port}) returned a server on port {got!r}; expected port {port}"
    finally:
        _stop(server)


def test_ping_returns_pong(client) -> None:
    got = call(ex.ping, client)
    assert got == "PONG", f"ping(client) returned {got!r}; expected the string 'PONG'"


def test_seed_sets_holberton_to_school(client) -> None:
    got = call(ex.seed, client)
    stored = client.get("Holberton")
    assert stored == "School", (
        f"after seed(client), `get Holberton` answers {stored!r}; expected 'School'. "
        f"Keys in the store: {sorted(client.keys('*'))}")
    assert got == "School", f"seed(client) returned {got!r}; expected the value read back, 'School'"


def test_running_the_script_prints_the_session(record_property) -> None:
    script, code = run_script("ex00_server.py", timeout=20)
    record_property("learner_output", script.transcript())
    assert code is not None, "`python ex00_server.py` was still running after 20 s; it must stop the server and end"
    lines = script.lines
    assert lines and re.fullmatch(r"Server listening on redis://127\.0\.0\.1:\d+", lines[0]), (
        f"the first line should be 'Server listening on redis://127.0.0.1:PORT'; got {lines[:1]!r}\n"
        f"stderr:\n{script.error_tail()}")
    problem = compare_lines(lines[1:], ["PONG", "School"], "`python ex00_server.py`")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"`python ex00_server.py` exited with status {code}; expected 0\n{script.error_tail()}"
