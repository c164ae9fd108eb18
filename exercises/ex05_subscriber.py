"""Task 5 (1/2) — The subscriber. Its partner is exercises/ex05_publisher.py.

Write:

1. `connect_client(url=None)`: as in task 1 (same two messages).
2. `handle_message(message)`: print the message, then return True when it is `KILL_SERVER` (time to stop), else
   False.
3. `listen(client)`: subscribe to the channel `holberton school channel` (the constant `CHANNEL`), call
   `handle_message` for every message received on it (only messages: not the confirmation of the subscription),
   and when it returns True unsubscribe, close the pubsub and return (the script then ends, exit status 0).
   `KILL_SERVER` itself is printed before the subscriber stops; a message published after it is never seen.
   Either use `client.pubsub()` directly, or queuekit's helper:
   `queuekit.pubsub.Subscriber(CHANNEL, handler, stop_on="KILL_SERVER", client=client).run()`.

Both processes must use the same server. In three terminals:

    queuekit server --port 6390                                            # or use a real Redis
    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex05_subscriber.py   # start this one first
    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex05_publisher.py

Expected output of the subscriber:

    Redis client connected to the server
    Holberton Student #1 starts course
    Holberton Student #2 starts course
    KILL_SERVER

(and the publisher's output is described in ex05_publisher.py).
"""

from __future__ import annotations

from queuekit.connection import connect
from queuekit.errors import ConnectionFailed

CHANNEL = "holberton school channel"


def connect_client(url: str | None = None):
    """Connect to Redis, print whether it worked, return the client (or None) — as in task 1."""
    # TODO: the same as task 1 (same lines, same return values): reuse what you wrote there
    raise NotImplementedError("connect_client")


def handle_message(message: str) -> bool:
    """Print ``message``; True when the subscriber should stop."""
    # TODO: show the message (every one, KILL_SERVER too), then tell the caller whether it is time to stop
    raise NotImplementedError("handle_message")


def listen(client) -> None:
    """Subscribe to CHANNEL and handle messages until handle_message returns True, then unsubscribe."""
    # TODO: subscribe, hand every message to handle_message, and leave as soon as it says stop; end the
    #       subscription yourself on the way out (the server counts subscribers until you do)
    raise NotImplementedError("listen")


if __name__ == "__main__":
    client = connect_client()
    if client is not None:
        listen(client)
