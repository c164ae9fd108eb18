"""Task 5 (2/2) — The publisher. Its partner is exercises/ex05_subscriber.py (start the subscriber first).

Write:

1. `connect_client(url=None)`: as in task 1 (same two messages).
2. `publish_message(client, message, delay_ms)`: after `delay_ms` milliseconds, print `About to send MESSAGE`
   (MESSAGE being the message), then publish the message on the channel `holberton school channel` (`CHANNEL`).
   Waiting with `time.sleep(delay_ms / 1000)` is fine: the messages must go out in the order of the calls.

The end of the file (given) publishes four messages:

    publish_message(client, "Holberton Student #1 starts course", 100)
    publish_message(client, "Holberton Student #2 starts course", 200)
    publish_message(client, "KILL_SERVER", 300)
    publish_message(client, "Holberton Student #3 starts course", 400)

Run it (with the subscriber already running on the same server):

    REDIS_URL=redis://127.0.0.1:6380 python exercises/ex05_publisher.py

Expected output:

    Redis client connected to the server
    About to send Holberton Student #1 starts course
    About to send Holberton Student #2 starts course
    About to send KILL_SERVER
    About to send Holberton Student #3 starts course
"""

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
