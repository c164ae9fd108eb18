"""Grader of task 2 (exercises/ex02_redis_op.py): set_new_school, display_school_value, the output order."""

from __future__ import annotations

import pytest
import redis
from exercise_support import call, compare_lines, free_port, load, recording_client, run_script

from queuekit.connection import connect
from queuekit.errors import ConnectionFailed

ex = load("ex02_redis_op.py", "connect_client", "set_new_school", "display_school_value", "redis_print")
pytestmark = pytest.mark.task(2)

EXPECTED = ["Redis client connected to the server", "School", "Reply: OK", "100"]
REFUSED = "READONLY You can't write against a read only replica."


def test_connect_client_prints_connected(capsys, client) -> None:
    got = call(ex.connect_client)
    out = capsys.readouterr().out.splitlines()
    assert out == ["Redis client connected to the server"], (
        f"connect_client() should print 'Redis client connected to the server' (as in task 1); it printed {out!r}")
    assert got is not None, "connect_client() returned None although the connection works; return the client"


def test_connect_client_reports_an_unreachable_server(capsys) -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    try:
        connect(url)
    except ConnectionFailed as error:
        line = f"Redis client not connected to the server: {error}"
    try:
        got = call(ex.connect_client, url)
    except Exception as exc:  # noqa: BLE001 - the learner must catch it
        pytest.fail(f"connect_client({url!r}) (nothing listens there) raised {type(exc).__name__}: {exc}. As in "
                    "task 1, catch ConnectionFailed and print the 'not connected' line instead.", pytrace=False)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [line], f"connect_client({url!r}) with no server listening")
    assert problem is None, problem + (
        "\n  As in task 1: 'Redis client not connected to the server: ' followed by str(error), nothing else.")
    assert got is None, f"connect_client({url!r}) returned {got!r}; expected None when not connected"


@pytest.mark.parametrize("school_name, value", [("HolbertonSanFrancisco", "100"), ("HolbertonParis", "75")])
def test_set_new_school_sets_and_prints_reply(capsys, client, school_name: str, value: str) -> None:
    call(ex.set_new_school, client, school_name, value)
    out = capsys.readouterr().out.splitlines()
    stored = {key: client.get(key) for key in client.keys("*")}
    assert stored == {school_name: value}, (
        f"after set_new_school(client, {school_name!r}, {value!r}) the store holds {stored!r}; expected "
        f"{ {school_name: value}!r}: the key is the school_name passed in, the value the value passed in")
    assert out == ["Reply: OK"], (
        f"set_new_school should print the reply with redis_print, i.e. exactly 'Reply: OK'; it printed {out!r}")


def test_set_new_school_replaces_a_value(capsys, client) -> None:
    client.set("HolbertonParis", "75")
    call(ex.set_new_school, client, "HolbertonParis", "76")
    out = capsys.readouterr().out.splitlines()
    stored = client.get("HolbertonParis")
    assert stored == "76" and out == ["Reply: OK"], (
        f"with HolbertonParis already set to '75', set_new_school(client, 'HolbertonParis', '76') left {stored!r} "
        f"and printed {out!r}; expected '76' and 'Reply: OK' (a plain SET replaces the value)")


def test_set_new_school_prints_a_refused_set(capsys, store) -> None:
    events: list[tuple] = []
    client = recording_client(store, events, fail={"SET": redis.ResponseError(REFUSED)})
    try:
        call(ex.set_new_school, client, "HolbertonSanFrancisco", "100")
    except redis.RedisError as exc:
        pytest.fail(f"when the server refuses the SET, set_new_school raised {type(exc).__name__}: {exc}. "
                    "Catch redis.RedisError and give the error to redis_print: redis_print(None, error)",
                    pytrace=False)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [REFUSED], "set_new_school when the server refuses the SET")
    assert problem is None, problem + (
        "\n  redis_print(None, error) prints the error's text alone, and no 'Reply: ...' line: the SET did not work.")


@pytest.mark.parametrize("school_name, value", [("Holberton", "School"), ("HolbertonParis", "75")])
def test_display_school_value_prints_the_value(capsys, client, school_name: str, value: str) -> None:
    client.set("Holberton", "School")
    client.set("HolbertonParis", "75")
    call(ex.display_school_value, client, school_name)
    out = capsys.readouterr().out.splitlines()
    assert out == [value], (
        f"with Holberton = School and HolbertonParis = 75, display_school_value(client, {school_name!r}) should "
        f"print {value!r} (the value of the key passed in, alone on its line); it printed {out!r}")


def test_script_output_in_order(server_url, record_property) -> None:
    redis.Redis.from_url(server_url).set("Holberton", "School")
    script, code = run_script("ex02_redis_op.py", server_url, timeout=15)
    record_property("learner_output", script.transcript())
    problem = compare_lines(script.lines, EXPECTED, "`python ex02_redis_op.py` (with Holberton = School)")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}; expected 0\n{script.error_tail()}"
