"""Grader of task 4 (exercises/ex04_redis_advanced_op.py): HSET each school, HGETALL and print the dict."""

from __future__ import annotations

import pytest

from exercise_support import call, compare_lines, load, run_script

ex = load("ex04_redis_advanced_op.py", "connect_client", "create_hash", "display_hash")
pytestmark = pytest.mark.task(4)

SCHOOLS = {"Portland": "50", "Seattle": "80", "New York": "20", "Bogota": "20", "Cali": "40", "Paris": "2"}
DICT_LINE = "{'Portland': '50', 'Seattle': '80', 'New York': '20', 'Bogota': '20', 'Cali': '40', 'Paris': '2'}"


def test_create_hash_stores_every_school(capsys, client) -> None:
    call(ex.create_hash, client)
    stored = client.hgetall("HolbertonSchools")
    assert stored == SCHOOLS, (
        f"after create_hash(client), HGETALL HolbertonSchools gives {stored!r}; expected {SCHOOLS!r}. "
        f"Keys in the store: {sorted(client.keys('*'))}")


def test_create_hash_prints_one_reply_per_hset(capsys, client) -> None:
    call(ex.create_hash, client)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, ["Reply: 1"] * 6, "create_hash(client) on an empty store")
    assert problem is None, problem + "\n  One HSET per school, each reply printed with redis_print."
    call(ex.create_hash, client)
    again = capsys.readouterr().out.splitlines()
    problem = compare_lines(again, ["Reply: 0"] * 6, "create_hash(client) a second time (fields already exist)")
    assert problem is None, problem


def test_display_hash_prints_the_dict(capsys, client) -> None:
    for field, value in SCHOOLS.items():
        client.hset("HolbertonSchools", field, value)
    call(ex.display_hash, client)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [DICT_LINE], "display_hash(client)")
    assert problem is None, problem


def test_script_output(server_url, record_property) -> None:
    script, code = run_script("ex04_redis_advanced_op.py", server_url, timeout=15)
    record_property("learner_output", script.transcript())
    expected = ["Redis client connected to the server"] + ["Reply: 1"] * 6 + [DICT_LINE]
    problem = compare_lines(script.lines, expected, "`python ex04_redis_advanced_op.py` on an empty server")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}; expected 0\n{script.error_tail()}"
