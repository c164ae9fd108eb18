"""Grader of task 3 (exercises/ex03_redis_op_async.py): the task 2 functions with async / await."""

from __future__ import annotations

import asyncio
import inspect
import uuid

import fakeredis
import pytest
import redis
from exercise_support import compare_lines, free_port, load, run_script

from queuekit.connection import connect_async

ex = load("ex03_redis_op_async.py", "connect_client", "set_new_school", "display_school_value")
pytestmark = pytest.mark.task(3)

EXPECTED = ["Redis client connected to the server", "School", "Reply: OK", "100"]
REFUSED = "READONLY You can't write against a read only replica."


def _run(coro_fn, *args, learner_fn=None):
    """Run ``coro_fn(*args)`` (the learner's ``learner_fn``, or a scenario calling it) in a fresh event loop."""
    learner_fn = learner_fn or coro_fn
    name = learner_fn.__name__
    if not inspect.iscoroutinefunction(learner_fn):
        pytest.fail(f"`{name}` must be an async function: write `async def {name}(...)`", pytrace=False)
    try:
        return asyncio.run(coro_fn(*args))
    except NotImplementedError:
        pytest.fail(f"`{name}` is not written yet: it still raises NotImplementedError. Replace the "
                    "TODO with your code.", pytrace=False)


def _coroutine_note(out: list[str]) -> str:
    return " — a coroutine was printed: you forgot an `await`" if any("coroutine" in line for line in out) else ""


@pytest.mark.parametrize("name", ["connect_client", "set_new_school", "display_school_value"])
def test_functions_are_async(name: str) -> None:
    fn = getattr(ex, name)
    assert inspect.iscoroutinefunction(fn), f"`{name}` must be an async function: write `async def {name}(...)`"


def test_connect_client_prints_connected(capsys, server_url) -> None:
    key = f"ex03-{uuid.uuid4().hex[:8]}"
    redis.Redis.from_url(server_url).set(key, "seen")

    async def scenario():
        client = await ex.connect_client(server_url)
        if client is None:
            return None, None
        try:
            return client, await client.get(key)
        finally:
            await client.aclose()

    client, value = _run(scenario, learner_fn=ex.connect_client)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, ["Redis client connected to the server"], f"await connect_client({server_url!r})")
    assert problem is None, problem
    assert client is not None, (
        f"await connect_client({server_url!r}) returned None although the server answers; return the client")
    assert value == "seen", (
        f"await connect_client({server_url!r}) returned a client of another server: a key set on {server_url} is "
        "not there. Create the client with connect_async(url), the url passed in")


def test_connect_client_reports_an_unreachable_server(capsys) -> None:
    url = f"redis://127.0.0.1:{free_port()}"

    async def failure() -> str:
        probe = connect_async(url)
        try:
            await probe.ping()
        except (redis.RedisError, OSError) as error:
            return f"Redis client not connected to the server: {error}"
        finally:
            await probe.aclose()
        pytest.skip(f"something answers at {url}")  # pragma: no cover - the port was just found free

    line = asyncio.run(failure())
    try:
        got = _run(ex.connect_client, url)
    except Exception as exc:  # noqa: BLE001 - the learner must catch it
        pytest.fail(f"await connect_client({url!r}) (nothing listens there) raised {type(exc).__name__}: {exc}. "
                    "Catch it around `await client.ping()` and print the 'not connected' line.", pytrace=False)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [line], f"await connect_client({url!r}) with no server listening")
    assert problem is None, problem + (
        "\n  The whole line is 'Redis client not connected to the server: ' followed by str(error), nothing else. "
        "The asyncio client only connects when used: `await client.ping()` is what fails.")
    assert got is None, f"await connect_client({url!r}) returned {got!r}; expected None"


@pytest.mark.parametrize("school_name, value", [("HolbertonSanFrancisco", "100"), ("HolbertonParis", "75")])
def test_set_new_school_awaits_set(capsys, store, school_name: str, value: str) -> None:
    client = fakeredis.FakeAsyncRedis(server=store, decode_responses=True)
    _run(ex.set_new_school, client, school_name, value)
    out = capsys.readouterr().out.splitlines()
    sync = fakeredis.FakeRedis(server=store, decode_responses=True)
    stored = {key: sync.get(key) for key in sync.keys("*")}
    assert stored == {school_name: value}, (
        f"after await set_new_school(client, {school_name!r}, {value!r}) the store holds {stored!r}; expected "
        f"{ {school_name: value}!r}: the key is the school_name passed in, the value the value passed in"
        + _coroutine_note(out))
    assert out == ["Reply: OK"], (
        f"set_new_school should print 'Reply: OK' with redis_print; it printed {out!r}" + _coroutine_note(out))


def test_set_new_school_prints_a_refused_set(capsys, store) -> None:
    class Refusing(fakeredis.FakeAsyncRedis):
        async def execute_command(self, *args, **options):
            if str(args[0]).upper() == "SET":
                raise redis.ResponseError(REFUSED)
            return await super().execute_command(*args, **options)

    client = Refusing(server=store, decode_responses=True)
    try:
        _run(ex.set_new_school, client, "HolbertonSanFrancisco", "100")
    except redis.RedisError as exc:
        pytest.fail(f"when the server refuses the SET, set_new_school raised {type(exc).__name__}: {exc}. "
                    "Catch redis.RedisError and give the error to redis_print: redis_print(None, error)",
                    pytrace=False)
    out = capsys.readouterr().out.splitlines()
    problem = compare_lines(out, [REFUSED], "await set_new_school(...) when the server refuses the SET")
    assert problem is None, problem + (
        "\n  redis_print(None, error) prints the error's text alone, and no 'Reply: ...' line: the SET did not work.")


@pytest.mark.parametrize("school_name, value", [("Holberton", "School"), ("HolbertonParis", "75")])
def test_display_school_value_awaits_get(capsys, store, school_name: str, value: str) -> None:
    fakeredis.FakeRedis(server=store).set("Holberton", "School")
    fakeredis.FakeRedis(server=store).set("HolbertonParis", "75")
    client = fakeredis.FakeAsyncRedis(server=store, decode_responses=True)
    _run(ex.display_school_value, client, school_name)
    out = capsys.readouterr().out.splitlines()
    assert out == [value], (
        f"with Holberton = School and HolbertonParis = 75, display_school_value(client, {school_name!r}) should "
        f"print {value!r} (the value of the key passed in); it printed {out!r}" + _coroutine_note(out))


def test_script_output_in_order(server_url, record_property) -> None:
    redis.Redis.from_url(server_url).set("Holberton", "School")
    script, code = run_script("ex03_redis_op_async.py", server_url, timeout=15)
    record_property("learner_output", script.transcript())
    problem = compare_lines(script.lines, EXPECTED, "`python ex03_redis_op_async.py` (with Holberton = School)")
    assert problem is None, problem + f"\nstderr:\n{script.error_tail()}"
    assert code == 0, f"the script exited with status {code}; expected 0\n{script.error_tail()}"
