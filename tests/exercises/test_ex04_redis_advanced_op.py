"""Grader of task 4 (exercises/ex04_redis_advanced_op.py): HSET each school, HGETALL and print the dict."""

from __future__ import annotations

import pytest
from exercise_support import call, compare_lines, free_port, load, run_script

from queuekit.connection import connect
from queuekit.errors import ConnectionFailed

ex = load("ex04_redis_advanced_op.py", "connect_client", "create_hash", "display_hash")
pytestmark = pytest.mark.task(4)

KEY = "HolbertonSchools"
SCHOOLS = {"Portland": "50", "Seattle": "80", "New York": "20", "Bogota": "20", "Cali": "40", "Paris": "2"}
DICT_LINE = "{'Portland': '50', 'Seattle': '80', 'New York': '20', 'Bogota': '20', 'Cali': '40', 'Paris': '2'}"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


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


def test_create_hash_stores_every_school(capsys, client) -> None:
    call(ex.create_hash, client)
    keys = sorted(client.keys("*"))
    assert keys == [KEY], f"after create_hash(client) the store holds the keys {keys}; expected only {KEY!r}"
    stored = client.hgetall(KEY)
    assert list(stored.items()) == list(SCHOOLS.items()), (
        f"after create_hash(client), HGETALL {KEY} gives {stored!r}; expected {SCHOOLS!r}: every school, with its "
        "value as a string, set in the order of SCHOOLS (Redis keeps the order the fields were added in)")


def test_create_hash_prints_one_reply_per_hset(capsys, client) -> None:
    call(ex.create_hash, client)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, ["Reply: 1"] * 6, "create_hash(client) on an empty store")
    assert problem is None, problem + "\n  One HSET per school, each reply printed with redis_print."
    call(ex.create_hash, client)
    again = capsys.readouterr().out.splitlines()
    problem = compare_lines(again, ["Reply: 0"] * 6, "create_hash(client) a second time (fields already exist)")
    assert problem is None, problem + (
        "\n  A second run adds no field, so each HSET answers 0: keep what is stored, do not delete it first.")


def test_create_hash_prints_each_refused_hset(capsys, client) -> None:
    client.set(KEY, "not a hash")
    try:
        call(ex.create_hash, client)
    except Exception as exc:  # noqa: BLE001 - the learner must catch it
        pytest.fail(f"with {KEY} holding a string, create_hash(client) raised {type(exc).__name__}: {exc}. Each "
                    "HSET the server refuses is printed with redis_print(None, error), and the next one is tried.",
                    pytrace=False)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [WRONGTYPE] * 6, f"create_hash(client) with {KEY} holding a string")
    assert problem is None, problem + (
        "\n  Each of the six HSETs is refused: print each error with redis_print(None, error) (its text alone), "
        "then go on with the next school.")


def test_display_hash_prints_the_dict(capsys, client) -> None:
    for field, value in SCHOOLS.items():
        client.hset(KEY, field, value)
    call(ex.display_hash, client)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [DICT_LINE], "display_hash(client)")
    assert problem is None, problem + "\n  print the dict HGETALL returns, as it is: print(the_dict)"


def test_display_hash_reads_what_is_stored(capsys, client) -> None:
    stored = {"Paris": "2", "Tunis": "12", "Portland": "51"}
    for field, value in stored.items():
        client.hset(KEY, field, value)
    call(ex.display_hash, client)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [repr(stored)], f"display_hash(client) with {KEY} holding {stored!r}")
    assert problem is None, problem + "\n  display_hash prints what HGETALL reads from Redis, not the SCHOOLS constant."


def test_script_output(server_url, record_property) -> None:
    script, code = run_script("ex04_redis_advanced_op.py", server_url, timeout=15)
    record_property("learner_output", script.transcript())
    expected = ["Redis client connected to the server"] + ["Reply: 1"] * 6 + [DICT_LINE]
    problem = compare_lines(script.lines, expected, "`python ex04_redis_advanced_op.py` on an empty server")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}; expected 0\n{script.error_tail()}"
