"""Reference solution of ex05_subscriber: exercises/ex05_subscriber.py states the task and the exact output expected."""

from __future__ import annotations

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


def handle_message(message: str) -> bool:
    """Print ``message``; True when the subscriber should stop."""
    print(message)
    return message == "KILL_SERVER"


def listen(client) -> None:
    """Subscribe to CHANNEL and handle messages until handle_message returns True, then unsubscribe."""
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    try:
        for item in pubsub.listen():
            if item["type"] == "message" and handle_message(item["data"]):
                break
    finally:
        pubsub.unsubscribe(CHANNEL)
        pubsub.close()


if __name__ == "__main__":
    client = connect_client()
    if client is not None:
        listen(client)
