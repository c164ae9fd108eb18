"""Grader of task 5 (exercises/ex05_subscriber.py and ex05_publisher.py): two processes, one server."""

from __future__ import annotations

import pytest
import redis

from exercise_support import Script, call, compare_lines, load, transcripts, wait_until

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


def test_publish_message_prints_then_publishes(capsys, client) -> None:
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    call(pub.publish_message, client, "hello", 10)
    out = capsys.readouterr().out.splitlines()
    assert out == ["About to send hello"], (
        f"publish_message(client, 'hello', 10) should print 'About to send hello'; it printed {out!r}")
    item = None
    for _ in range(20):  # the first reads return the (ignored) subscribe confirmation
        item = pubsub.get_message(timeout=0.1)
        if item is not None:
            break
    assert item is not None and item["data"] == "hello", (
        f"publish_message(client, 'hello', 10) should publish 'hello' on {CHANNEL!r}; a subscriber got {item!r}")


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
