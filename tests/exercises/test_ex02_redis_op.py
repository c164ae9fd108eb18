"""Grader of task 2 (exercises/ex02_redis_op.py): set_new_school, display_school_value, the output order."""

from __future__ import annotations

import pytest
import redis

from exercise_support import call, compare_lines, load, run_script

ex = load("ex02_redis_op.py", "connect_client", "set_new_school", "display_school_value", "redis_print")
pytestmark = pytest.mark.task(2)

EXPECTED = ["Redis client connected to the server", "School", "Reply: OK", "100"]


def test_connect_client_prints_connected(capsys, client) -> None:
    got = call(ex.connect_client)
    out = capsys.readouterr().out.splitlines()
    assert out == ["Redis client connected to the server"], (
        f"connect_client() should print 'Redis client connected to the server' (as in task 1); it printed {out!r}")
    assert got is not None, "connect_client() returned None although the connection works; return the client"


def test_set_new_school_sets_and_prints_reply(capsys, client) -> None:
    call(ex.set_new_school, client, "HolbertonSanFrancisco", "100")
    out = capsys.readouterr().out.splitlines()
    stored = client.get("HolbertonSanFrancisco")
    assert stored == "100", (
        f"after set_new_school(client, 'HolbertonSanFrancisco', '100'), the key holds {stored!r}; expected '100'")
    assert out == ["Reply: OK"], (
        f"set_new_school should print the reply with redis_print, i.e. exactly 'Reply: OK'; it printed {out!r}")


def test_display_school_value_prints_the_value(capsys, client) -> None:
    client.set("Holberton", "School")
    call(ex.display_school_value, client, "Holberton")
    out = capsys.readouterr().out.splitlines()
    assert out == ["School"], (
        f"with Holberton set to School, display_school_value(client, 'Holberton') should print 'School'; "
        f"it printed {out!r}")


def test_script_output_in_order(server_url, record_property) -> None:
    redis.Redis.from_url(server_url).set("Holberton", "School")
    script, code = run_script("ex02_redis_op.py", server_url, timeout=15)
    record_property("learner_output", script.transcript())
    problem = compare_lines(script.lines, EXPECTED, "`python ex02_redis_op.py` (with Holberton = School)")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}; expected 0\n{script.error_tail()}"
