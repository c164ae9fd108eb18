"""Reference solution of ex04_redis_advanced_op: exercises/ex04_redis_advanced_op.py states the task and the exact output expected."""

from __future__ import annotations

import redis

from queuekit.connection import connect
from queuekit.errors import ConnectionFailed

KEY = "HolbertonSchools"
SCHOOLS = {"Portland": "50", "Seattle": "80", "New York": "20", "Bogota": "20", "Cali": "40", "Paris": "2"}


def redis_print(reply, error=None) -> None:
    """``Reply: <reply>`` (True is shown as OK), or the error's text. (Given.)"""
    if error is not None:
        print(str(error))
        return
    if reply is True:
        reply = "OK"
    print(f"Reply: {reply}")


def connect_client(url: str | None = None):
    """Connect to Redis, print whether it worked, return the client (or None) — as in task 1."""
    try:
        client = connect(url)
    except ConnectionFailed as error:
        print(f"Redis client not connected to the server: {error}")
        return None
    print("Redis client connected to the server")
    return client


def create_hash(client) -> None:
    """One HSET per school into HolbertonSchools, printing each reply."""
    for field, value in SCHOOLS.items():
        try:
            reply = client.hset(KEY, field, value)
        except redis.RedisError as error:
            redis_print(None, error)
            continue
        redis_print(reply)


def display_hash(client) -> None:
    """Print the whole hash as a dict."""
    print(client.hgetall(KEY))


if __name__ == "__main__":
    client = connect_client()
    if client is not None:
        create_hash(client)
        display_hash(client)
