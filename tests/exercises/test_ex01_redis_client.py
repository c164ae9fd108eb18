"""Grader of task 1 (exercises/ex01_redis_client.py): the connected / not connected messages."""

from __future__ import annotations

import uuid

import pytest
import redis
from exercise_support import call, compare_lines, free_port, load, run_script

from queuekit.connection import connect
from queuekit.errors import ConnectionFailed

ex = load("ex01_redis_client.py", "connect_client")
pytestmark = pytest.mark.task(1)

CONNECTED = "Redis client connected to the server"
NOT_CONNECTED = "Redis client not connected to the server: "


def _down_url() -> tuple[str, str]:
    """A URL nothing listens on, and the whole line the statement asks for when connecting to it fails."""
    url = f"redis://127.0.0.1:{free_port()}"
    try:
        connect(url)
    except ConnectionFailed as error:
        return url, NOT_CONNECTED + str(error)
    pytest.skip(f"something answers at {url}")  # pragma: no cover - the port was just found free


def test_connected_message(capsys, server_url) -> None:
    client = call(ex.connect_client, server_url)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [CONNECTED], f"connect_client({server_url!r})")
    assert problem is None, problem
    assert client is not None and client.ping(), (
        f"connect_client({server_url!r}) returned {client!r}; expected the connected client")
    key, value = f"ex01-{uuid.uuid4().hex[:8]}", "seen"
    redis.Redis.from_url(server_url, decode_responses=True).set(key, value)
    assert client.get(key) == value, (
        f"connect_client({server_url!r}) returned a client of another server: a key set on {server_url} is not "
        "there. Connect to the url passed in: connect(url)")


def test_not_connected_message(capsys) -> None:
    url, line = _down_url()
    try:
        got = call(ex.connect_client, url)
    except Exception as exc:  # noqa: BLE001 - the learner must catch it
        pytest.fail(f"connect_client({url!r}) (nothing listens there) raised {type(exc).__name__}: {exc}. "
                    "Catch ConnectionFailed and print the 'not connected' message instead.", pytrace=False)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [line], f"connect_client({url!r}) with no server listening")
    assert problem is None, problem + (
        "\n  The whole line is 'Redis client not connected to the server: ' followed by the error's text, "
        "str(error), and nothing else.")
    assert got is None, f"connect_client({url!r}) returned {got!r}; expected None when not connected"


def test_script_connects_to_redis_url(server_url, record_property) -> None:
    script, code = run_script("ex01_redis_client.py", server_url, timeout=15)
    record_property("learner_output", script.transcript())
    problem = compare_lines(script.lines, [CONNECTED], f"`REDIS_URL={server_url} python ex01_redis_client.py`")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}; expected 0\n{script.error_tail()}"


def test_script_reports_an_unreachable_server(record_property) -> None:
    url, line = _down_url()
    script, code = run_script("ex01_redis_client.py", url, timeout=15)
    record_property("learner_output", script.transcript())
    problem = compare_lines(script.lines, [line], f"`REDIS_URL={url} python ex01_redis_client.py` (no server there)")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}; it should end normally\n{script.error_tail()}"
