"""Grader of task 1 (exercises/ex01_redis_client.py): the connected / not connected messages."""

from __future__ import annotations

import pytest

from exercise_support import call, compare_lines, free_port, load, run_script

ex = load("ex01_redis_client.py", "connect_client")
pytestmark = pytest.mark.task(1)

CONNECTED = "Redis client connected to the server"
NOT_CONNECTED = "Redis client not connected to the server: "


def test_connected_message(capsys, server_url) -> None:
    client = call(ex.connect_client, server_url)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [CONNECTED], f"connect_client({server_url!r})")
    assert problem is None, problem
    assert client is not None and client.ping(), (
        f"connect_client({server_url!r}) returned {client!r}; expected the connected client")


def test_not_connected_message(capsys) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}"
    try:
        got = call(ex.connect_client, url)
    except Exception as exc:  # noqa: BLE001 - the learner must catch it
        pytest.fail(f"connect_client({url!r}) (nothing listens there) raised {type(exc).__name__}: {exc}. "
                    "Catch ConnectionFailed and print the 'not connected' message instead.", pytrace=False)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith(NOT_CONNECTED), (
        f"connect_client({url!r}) with no server listening should print one line starting with "
        f"{NOT_CONNECTED!r}; it printed {out!r}")
    assert f"127.0.0.1:{port}" in out[0], (
        f"the error message should be the error's text, which names 127.0.0.1:{port}; got {out[0]!r}")
    assert got is None, f"connect_client({url!r}) returned {got!r}; expected None when not connected"


def test_script_connects_to_redis_url(server_url, record_property) -> None:
    script, code = run_script("ex01_redis_client.py", server_url, timeout=15)
    record_property("learner_output", script.transcript())
    problem = compare_lines(script.lines, [CONNECTED], f"`REDIS_URL={server_url} python ex01_redis_client.py`")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}; expected 0\n{script.error_tail()}"


def test_script_reports_an_unreachable_server(record_property) -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    script, code = run_script("ex01_redis_client.py", url, timeout=15)
    record_property("learner_output", script.transcript())
    assert len(script.lines) == 1 and script.lines[0].startswith(NOT_CONNECTED), (
        f"`REDIS_URL={url} python ex01_redis_client.py` (no server there) should print one line starting with "
        f"{NOT_CONNECTED!r}; it printed {script.lines!r}\nstderr:\n{script.error_tail()}")
    assert code == 0, f"the script exited with status {code}; it should end normally\n{script.error_tail()}"
