"""Task 5 (2/2) — The publisher. Its partner is exercises/ex05_subscriber.py (start the subscriber first).

Write:

1. `connect_client(url=None)`: as in task 1 (same two messages).
2. `publish_message(client, message, delay_ms)`: wait `delay_ms` milliseconds, then print `About to send MESSAGE`
   (MESSAGE being the message), then publish the message on the channel `holberton school channel` (`CHANNEL`),
   and only then return. Waiting with `time.sleep(delay_ms / 1000)` is what we want: each call has sent its
   message when it returns, so the messages go out in the order of the calls (a timer thread would leave that
   order to luck).

The end of the file (given) publishes four messages:

    publish_message(client, "Holberton Student #1 starts course", 100)
    publish_message(client, "Holberton Student #2 starts course", 200)
    publish_message(client, "KILL_SERVER", 300)
    publish_message(client, "Holberton Student #3 starts course", 400)

Run it with the subscriber already running on the same server (see ex05_subscriber.py: start
`queuekit server --port 6390` first, then the subscriber, then this):

    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex05_publisher.py

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
    # TODO: the same as task 1 (same lines, same return values): reuse what you wrote there
    raise NotImplementedError("connect_client")


def publish_message(client, message: str, delay_ms: int) -> None:
    """Wait ``delay_ms`` ms, print "About to send MESSAGE", publish ``message`` on CHANNEL."""
    # TODO: wait first (delay_ms is in milliseconds), then announce the message, then send it on CHANNEL; all of
    #       it before returning, so that the calls' order is the messages' order
    raise NotImplementedError("publish_message")


if __name__ == "__main__":
    client = connect_client()
    if client is not None:
        publish_message(client, "Holberton Student #1 starts course", 100)
        publish_message(client, "Holberton Student #2 starts course", 200)
        publish_message(client, "KILL_SERVER", 300)
        publish_message(client, "Holberton Student #3 starts course", 400)
