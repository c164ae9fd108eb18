"""Grader of task 3 (exercises/ex03_redis_op_async.py): the task 2 functions with async / await."""

from __future__ import annotations

import asyncio
import inspect

import fakeredis
import pytest
import redis

from exercise_support import compare_lines, free_port, load, run_script

ex = load("ex03_redis_op_async.py", "connect_client", "set_new_school", "display_school_value")
pytestmark = pytest.mark.task(3)

EXPECTED = ["Redis client connected to the server", "School", "Reply: OK", "100"]


def _run(coro_fn, *args):
    if not inspect.iscoroutinefunction(coro_fn):
        pytest.fail(f"`{coro_fn.__name__}` must be an async function: write `async def {coro_fn.__name__}(...)`",
                    pytrace=False)
    try:
        return asyncio.run(coro_fn(*args))
    except NotImplementedError:
        pytest.fail(f"`{coro_fn.__name__}` is not written yet: it still raises NotImplementedError. Replace the "
                    "TODO with your code.", pytrace=False)


@pytest.mark.parametrize("name", ["connect_client", "set_new_school", "display_school_value"])
def test_functions_are_async(name: str) -> None:
    fn = getattr(ex, name)
    assert inspect.iscoroutinefunction(fn), f"`{name}` must be an async function: write `async def {name}(...)`"


def test_set_new_school_awaits_set(capsys, store) -> None:
    client = fakeredis.FakeAsyncRedis(server=store, decode_responses=True)
    _run(ex.set_new_school, client, "HolbertonSanFrancisco", "100")
    out = capsys.readouterr().out.splitlines()
    stored = fakeredis.FakeRedis(server=store, decode_responses=True).get("HolbertonSanFrancisco")
    assert stored == "100", f"after set_new_school(client, 'HolbertonSanFrancisco', '100') the key holds {stored!r}"
    assert out == ["Reply: OK"], f"set_new_school should print 'Reply: OK' with redis_print; it printed {out!r}"


def test_display_school_value_awaits_get(capsys, store) -> None:
    fakeredis.FakeRedis(server=store).set("Holberton", "School")
    client = fakeredis.FakeAsyncRedis(server=store, decode_responses=True)
    _run(ex.display_school_value, client, "Holberton")
    out = capsys.readouterr().out.splitlines()
    assert out == ["School"], (
        f"display_school_value(client, 'Holberton') should print 'School'; it printed {out!r}"
        + (" — a coroutine was printed: you forgot an `await`" if out and "coroutine" in out[0] else ""))


def test_connect_client_reports_an_unreachable_server(capsys) -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    got = _run(ex.connect_client, url)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("Redis client not connected to the server: "), (
        f"await connect_client({url!r}) with no server there should print 'Redis client not connected to the "
        f"server: ...'; it printed {out!r}")
    assert got is None, f"await connect_client({url!r}) returned {got!r}; expected None"


def test_script_output_in_order(server_url, record_property) -> None:
    redis.Redis.from_url(server_url).set("Holberton", "School")
    script, code = run_script("ex03_redis_op_async.py", server_url, timeout=15)
    record_property("learner_output", script.transcript())
    problem = compare_lines(script.lines, EXPECTED, "`python ex03_redis_op_async.py` (with Holberton = School)")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}; expected 0\n{script.error_tail()}"
