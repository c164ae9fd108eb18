"""Reference solution of ex02_redis_op: exercises/ex02_redis_op.py states the task and the exact output expected."""

from __future__ import annotations

import redis

from queuekit.connection import connect
from queuekit.errors import ConnectionFailed


def redis_print(reply, error=None) -> None:
    """Print a Redis reply the way node_redis's ``redis.print`` did: ``Reply: <reply>``, or the error's text.

    redis-py answers True where Redis said OK, so True is printed as ``OK``. (Given: nothing to write here.)
    """
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


def set_new_school(client, school_name: str, value: str) -> None:
    """Set ``school_name`` to ``value`` and print the reply with redis_print."""
    try:
        reply = client.set(school_name, value)
    except redis.RedisError as error:
        redis_print(None, error)
        return
    redis_print(reply)


def display_school_value(client, school_name: str) -> None:
    """Print the value of the key ``school_name``."""
    print(client.get(school_name))


if __name__ == "__main__":
    client = connect_client()
    if client is not None:
        display_school_value(client, "Holberton")
        set_new_school(client, "HolbertonSanFrancisco", "100")
        display_school_value(client, "HolbertonSanFrancisco")
