"""Reference solution of ex05_publisher: exercises/ex05_publisher.py states the task and the exact output expected."""

from __future__ import annotations

import time

from queuekit.connection import connect
from queuekit.errors import ConnectionFailed

CHANNEL = "holberton school channel"


def connect_client(url: str | None = None):
    """Connect to Redis, print whether it worked, return the client (or None) — as in task 1."""
    try:
        client = connect(url)
    except ConnectionFailed as error:
        print(f"Redis client not connected to the server: {error}")
        return None
    print("Redis client connected to the server")
    return client


def publish_message(client, message: str, delay_ms: int) -> None:
    """Wait ``delay_ms`` ms, print "About to send MESSAGE", publish ``message`` on CHANNEL."""
    time.sleep(delay_ms / 1000)
    print(f"About to send {message}")
    client.publish(CHANNEL, message)


if __name__ == "__main__":
    client = connect_client()
    if client is not None:
        publish_message(client, "Holberton Student #1 starts course", 100)
        publish_message(client, "Holberton Student #2 starts course", 200)
        publish_message(client, "KILL_SERVER", 300)
        publish_message(client, "Holberton Student #3 starts course", 400)
