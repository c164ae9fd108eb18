"""Grader of task 5 (exercises/ex05_subscriber.py and ex05_publisher.py): two processes, one server."""

from __future__ import annotations

import sys
import threading
import time

import fakeredis
import pytest
import redis
from exercise_support import (
    Script,
    TimedOutput,
    call,
    compare_lines,
    free_port,
    load,
    recording_client,
    run_script,
    transcripts,
    wait_until,
)

from queuekit.connection import connect
from queuekit.errors import ConnectionFailed

sub = load("ex05_subscriber.py", "connect_client", "handle_message", "listen")
pub = load("ex05_publisher.py", "connect_client", "publish_message")
pytestmark = pytest.mark.task(5)

CHANNEL = "holberton school channel"
MESSAGES = ["Holberton Student #1 starts course", "Holberton Student #2 starts course", "KILL_SERVER",
            "Holberton Student #3 starts course"]
SUBSCRIBER_OUTPUT = ["Redis client connected to the server"] + MESSAGES[:3]
PUBLISHER_OUTPUT = ["Redis client connected to the server"] + [f"About to send {m}" for m in MESSAGES]


@pytest.mark.parametrize("message, stop", [("Holberton Student #1 starts course", False), ("KILL_SERVER", True)])
def test_handle_message(capsys, message: str, stop: bool) -> None:
    got = call(sub.handle_message, message)
    out = capsys.readouterr().out.splitlines()
    assert out == [message], f"handle_message({message!r}) should print the message; it printed {out!r}"
    assert got is stop, f"handle_message({message!r}) returned {got!r}; expected {stop} (stop only on KILL_SERVER)"


def _publish_in_thread(client, message: str, delay_ms: int, events: list) -> tuple[bool, float]:
    """Call publish_message in a thread with stdout timed, ``("returned", time)`` added to ``events`` when it
    returns; (returned within 10 s, the time it was called)."""
    outcome: list[BaseException] = []

    def body() -> None:
        try:
            call(pub.publish_message, client, message, delay_ms)
            events.append(("returned", time.monotonic()))
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            outcome.append(exc)

    saved = sys.stdout
    sys.stdout = TimedOutput(events)
    try:
        worker = threading.Thread(target=body, daemon=True)
        started = time.monotonic()
        worker.start()
        worker.join(10)
    finally:
        sys.stdout = saved
    if outcome:
        raise outcome[0]
    return not worker.is_alive(), started


def test_publish_message_prints_then_publishes(store) -> None:
    listener = fakeredis.FakeRedis(server=store, decode_responses=True).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(CHANNEL)
    events: list[tuple] = []
    message = "Holberton Student #7 starts course"
    returned, _ = _publish_in_thread(recording_client(store, events), message, 300, events)
    assert returned, (f"publish_message(client, {message!r}, 300) had not returned after 10 s: delay_ms is in "
                      "milliseconds (time.sleep takes seconds: delay_ms / 1000)")
    steps = [("print", e[1]) if e[0] == "print" else ("returned",) if e[0] == "returned" else ("command", *e[1:])
             for e in events]
    expected = [("print", f"About to send {message}"), ("command", "PUBLISH", CHANNEL, message), ("returned",)]
    assert steps == expected, (
        f"publish_message(client, {message!r}, 300) did, in this order: {steps}; expected {expected}: print the "
        f"whole line 'About to send MESSAGE' with the message passed in, then publish that message on {CHANNEL!r}, "
        "both before publish_message returns")
    item = None
    for _ in range(20):  # the first reads return the (ignored) subscribe confirmation
        item = listener.get_message(timeout=0.1)
        if item is not None:
            break
    listener.close()
    assert item is not None and item["data"] == message, (
        f"publish_message should publish {message!r} on {CHANNEL!r}; a subscriber got {item!r}")


@pytest.mark.parametrize("delay_ms", [400, 700])
def test_publish_message_waits_the_delay(store, delay_ms: int) -> None:
    events: list[tuple] = []
    returned, started = _publish_in_thread(recording_client(store, events), "hello", delay_ms, events)
    assert returned, (f"publish_message(client, 'hello', {delay_ms}) had not returned after 10 s: delay_ms is in "
                      "milliseconds (time.sleep takes seconds: delay_ms / 1000)")
    printed = [e for e in events if e[0] == "print"]
    assert printed, (f"publish_message(client, 'hello', {delay_ms}) returned without printing 'About to send hello'; "
                     "wait, print and publish before returning")
    waited = (printed[0][2] - started) * 1000
    assert waited >= delay_ms * 0.98, (
        f"publish_message(client, 'hello', {delay_ms}) printed 'About to send hello' {waited:.0f} ms after it was "
        f"called; expected after {delay_ms} ms at least: wait delay_ms milliseconds first, then print and publish")


class _KeepingClient(fakeredis.FakeRedis):
    """A client that keeps every pubsub it makes: a subscription then ends only when the learner's code ends it
    (unsubscribe / close), not when Python happens to collect a forgotten pubsub object."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.made: list = []

    def pubsub(self, **kwargs):
        made = super().pubsub(**kwargs)
        self.made.append(made)
        return made


def test_listen_prints_until_kill_server(store) -> None:
    client = _KeepingClient(server=store, decode_responses=True)
    events: list[tuple] = []
    output = TimedOutput(events)
    saved = sys.stdout
    sys.stdout = output
    try:
        _listen_and_check(client, store, output)
    finally:
        sys.stdout = saved


def _listen_and_check(client, store, output: TimedOutput) -> None:
    failure: list[BaseException] = []

    def body() -> None:
        try:
            call(sub.listen, client)
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            failure.append(exc)

    listener = threading.Thread(target=body, daemon=True)
    listener.start()
    admin = fakeredis.FakeRedis(server=store, decode_responses=True)
    subscribed = wait_until(lambda: not listener.is_alive() or admin.pubsub_numsub(CHANNEL)[0][1] >= 1, timeout=10)
    if failure:
        raise failure[0]
    assert subscribed and listener.is_alive(), (
        f"listen(client) did not subscribe to the channel {CHANNEL!r} within 10 s"
        + (" (it returned before subscribing)" if not listener.is_alive() else "")
        + f"; channels with subscribers: {admin.pubsub_channels()}")
    for message in MESSAGES:  # #3 right after KILL_SERVER: it may already be waiting when KILL_SERVER is handled
        admin.publish(CHANNEL, message)
    listener.join(5)
    printed = output.printed()
    if failure:
        raise failure[0]
    assert not listener.is_alive(), (
        f"listen(client) was still listening 5 s after KILL_SERVER was published; when handle_message returns True "
        f"it must unsubscribe and return. It printed: {printed}")
    problem = compare_lines(printed, MESSAGES[:3], "listen(client), given #1, #2, KILL_SERVER, #3")
    assert problem is None, problem + (
        "\n  Every message is printed by handle_message, KILL_SERVER too; the loop ends right after it, so #3 is "
        "never printed.")
    left = admin.pubsub_numsub(CHANNEL)[0][1]
    assert left == 0, (
        f"listen(client) returned but the server still counts {left} subscriber(s) on {CHANNEL!r}: unsubscribe "
        "(and close the pubsub) before returning")


@pytest.mark.parametrize("file_name", ["ex05_subscriber.py", "ex05_publisher.py"])
def test_scripts_report_an_unreachable_server(file_name: str, record_property) -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    try:
        connect(url)
    except ConnectionFailed as error:
        line = f"Redis client not connected to the server: {error}"
    script, code = run_script(file_name, url, timeout=15)
    record_property("learner_output", script.transcript())
    problem = compare_lines(script.lines, [line], f"`REDIS_URL={url} python {file_name}` (no server there)")
    assert problem is None, problem + (
        "\n  As in task 1: 'Redis client not connected to the server: ' followed by str(error), nothing else."
        f"\nstderr:\n{script.error_tail()}")
    assert code == 0, f"`python {file_name}` exited with status {code}; it should end normally\n{script.error_tail()}"


def test_subscriber_and_publisher_processes(server_url, record_property) -> None:
    admin = redis.Redis.from_url(server_url, decode_responses=True)
    subscriber = Script("ex05_subscriber.py", server_url)
    publisher = None
    try:
        subscribed = wait_until(lambda: not subscriber.running or
                                admin.pubsub_numsub(CHANNEL)[0][1] >= 1, timeout=10)
        record_property("learner_output", transcripts(subscriber))
        assert subscribed and subscriber.running, (
            f"the subscriber did not subscribe to {CHANNEL!r} within 10 s"
            + (" (it ended before subscribing)" if not subscriber.running else "")
            + f". It printed:\n{subscriber.transcript()}")
        publisher = Script("ex05_publisher.py", server_url)
        pub_code = publisher.wait_exit(timeout=15)
        sub_code = subscriber.wait_exit(timeout=5)
        record_property("learner_output", transcripts(subscriber, publisher))
        assert pub_code is not None, (
            f"the publisher was still running 15 s after it started; it must end after its 4 messages. "
            f"It printed:\n{publisher.transcript()}")
        problem = compare_lines(publisher.lines, PUBLISHER_OUTPUT, "the publisher (ex05_publisher.py)")
        assert problem is None, problem + f"\nstderr:\n{publisher.error_tail()}"
        assert sub_code is not None, (
            "the subscriber was still running 5 s after the publisher published KILL_SERVER: on KILL_SERVER it must "
            f"unsubscribe and end. It printed:\n{subscriber.transcript()}")
        problem = compare_lines(subscriber.lines, SUBSCRIBER_OUTPUT, "the subscriber (ex05_subscriber.py)")
        assert problem is None, problem + f"\nstderr:\n{subscriber.error_tail()}"
        assert sub_code == 0, f"the subscriber exited with status {sub_code}; expected 0\n{subscriber.error_tail()}"
        assert pub_code == 0, f"the publisher exited with status {pub_code}; expected 0\n{publisher.error_tail()}"
        assert wait_until(lambda: admin.pubsub_numsub(CHANNEL)[0][1] == 0, timeout=3), (
            "the subscriber ended but the server still counts a subscriber on the channel: unsubscribe first")
    finally:
        subscriber.stop()
        if publisher is not None:
            publisher.stop()
