"""Grader of task 0 (exercises/ex00_server.py): start a server, ping it, seed Holberton -> School."""

from __future__ import annotations

import re

import pytest
import redis
from exercise_support import call, compare_lines, free_port, load, recording_client, run_script

ex = load("ex00_server.py", "start_server", "ping", "seed")
pytestmark = pytest.mark.task(0)


def _stop(server: object) -> None:
    stop = getattr(server, "stop", None)
    if callable(stop):
        try:
            stop()
        except Exception:  # noqa: BLE001 - a server that was never started cannot be stopped: nothing to clean
            pass


def _url(server: object, call_text: str) -> str:
    try:
        url = getattr(server, "url", None)
    except RuntimeError as exc:  # EmbeddedServer.url before start()
        pytest.fail(f"{call_text} returned a server that is not listening ({exc}). EmbeddedServer(port=port) only "
                    "prepares it: call .start() on it (start() returns the server) before returning it.",
                    pytrace=False)
    if not isinstance(url, str):
        pytest.fail(f"{call_text} returned {server!r}; expected the started EmbeddedServer (it has a .url)",
                    pytrace=False)
    return url


def _answers_ping(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5).ping())
    except (redis.ConnectionError, redis.TimeoutError):
        return False


def test_start_server_returns_a_running_server() -> None:
    server = call(ex.start_server, 0)
    try:
        url = _url(server, "start_server(0)")
        assert _answers_ping(url), (
            f"start_server(0) returned a server at {url}, but nothing answers PING there. Did you call .start()?")
    finally:
        _stop(server)


def test_start_server_listens_on_the_port_asked() -> None:
    port = free_port()
    server = call(ex.start_server, port)
    try:
        url = _url(server, f"start_server({port})")
        got = getattr(server, "port", None)
        assert got == port and url == f"redis://127.0.0.1:{port}", (
            f"start_server({port}) returned a server on port {got!r} ({url}); expected it on the port passed in, "
            f"{port}: give the port argument to EmbeddedServer")
        assert _answers_ping(url), f"start_server({port}): nothing answers PING on port {port}"
    finally:
        _stop(server)


def test_ping_returns_pong(client) -> None:
    got = call(ex.ping, client)
    assert got == "PONG", (
        f"ping(client) returned {got!r}; expected the string 'PONG' (exactly that word, in capitals: what the "
        "server answers; redis-py gives True for it)")


def test_ping_asks_the_server(store) -> None:
    events: list[tuple] = []
    got = call(ex.ping, recording_client(store, events))
    sent = [e[1] for e in events]
    assert "PING" in sent, (
        f"ping(client) returned {got!r} without sending PING to the server (commands sent: {sent}). "
        "Ask the server with client.ping(): PONG must come from it")
    down = redis.Redis(port=free_port(), socket_connect_timeout=2, decode_responses=True)
    try:
        answer = call(ex.ping, down)
    except redis.ConnectionError:
        return
    pytest.fail(f"ping(client) with no server listening returned {answer!r}; expected the redis.ConnectionError "
                "that client.ping() raises to come out (PONG only when the server answered)", pytrace=False)


def test_seed_sets_holberton_to_school(client) -> None:
    got = call(ex.seed, client)
    stored = client.get("Holberton")
    assert stored == "School", (
        f"after seed(client), `get Holberton` answers {stored!r}; expected 'School'. "
        f"Keys in the store: {sorted(client.keys('*'))}")
    assert got == "School", f"seed(client) returned {got!r}; expected the value read back, 'School'"


def test_seed_reads_the_value_back(store) -> None:
    events: list[tuple] = []
    call(ex.seed, recording_client(store, events))
    sent = [e[1:3] for e in events if e[1] in ("SET", "GET")]
    assert sent == [("SET", "Holberton"), ("GET", "Holberton")], (
        f"seed(client) sent {sent} (command, key); expected SET Holberton, then GET Holberton: return the value "
        "the server gives back, not a string you typed")


def test_seed_lets_a_refused_set_show(store) -> None:
    refused = redis.ResponseError("READONLY You can't write against a read only replica.")
    events: list[tuple] = []
    try:
        got = call(ex.seed, recording_client(store, events, fail={"SET": refused}))
    except redis.RedisError:
        return
    pytest.fail(f"when the server refuses the SET (READONLY), seed(client) returned {got!r}; expected the "
                "redis error to come out, so that you see the key was not set", pytrace=False)


def test_running_the_script_prints_the_session(record_property) -> None:
    script, code = run_script("ex00_server.py", timeout=20)
    record_property("learner_output", script.transcript())
    assert code is not None, "`python ex00_server.py` was still running after 20 s; it must stop the server and end"
    lines = script.lines
    assert lines and re.fullmatch(r"Server listening on redis://127\.0\.0\.1:\d+", lines[0]), (
        f"the first line should be 'Server listening on redis://127.0.0.1:PORT' (the whole line); got "
        f"{lines[:1]!r}\nstderr:\n{script.error_tail()}")
    problem = compare_lines(lines[1:], ["PONG", "School"], "`python ex00_server.py`")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"`python ex00_server.py` exited with status {code}; expected 0\n{script.error_tail()}"
