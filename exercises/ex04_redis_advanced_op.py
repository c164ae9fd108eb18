"""Task 4 — Advanced operations: store a hash and display it.

Write two functions (each takes the redis-py `client` first):

1. `create_hash(client)`: store in the hash with key `HolbertonSchools` the values of `SCHOOLS` (given below:
   Portland=50, Seattle=80, New York=20, Bogota=20, Cali=40, Paris=2), with **one HSET per field**, in that order,
   printing each reply with `redis_print` (HSET answers how many fields it added: `Reply: 1`, or `Reply: 0` when
   the field already existed, e.g. on a second run). When the server refuses an HSET (a `redis.RedisError`, for
   instance `WRONGTYPE ...` when the key holds a string), print that error with `redis_print(None, error)` and go
   on with the next school.
2. `display_hash(client)`: read the whole hash with HGETALL and print the dict it returns, the Python way
   (`print(the_dict)`): keys and values are strings, in insertion order.

Run it on an empty server (start `queuekit server --port 6390` in another terminal first):

    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex04_redis_advanced_op.py

Expected output (the first run; a second run prints `Reply: 0` six times):

    Redis client connected to the server
    Reply: 1
    Reply: 1
    Reply: 1
    Reply: 1
    Reply: 1
    Reply: 1
    {'Portland': '50', 'Seattle': '80', 'New York': '20', 'Bogota': '20', 'Cali': '40', 'Paris': '2'}
"""

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
    # TODO: the same as task 1 (same lines, same return values): reuse what you wrote there
    raise NotImplementedError("connect_client")


def create_hash(client) -> None:
    """One HSET per school into HolbertonSchools, printing each reply."""
    # TODO: one HSET per school, in the order of SCHOOLS, so that each reply can be shown on its own line; a
    #       refused HSET is shown too (as task 2 showed a refused SET) and must not stop the others
    raise NotImplementedError("create_hash")


def display_hash(client) -> None:
    """Print the whole hash as a dict."""
    # TODO: read the whole hash back from Redis in one command and print what you get, as Python shows it
    raise NotImplementedError("display_hash")


if __name__ == "__main__":
    client = connect_client()
    if client is not None:
        create_hash(client)
        display_hash(client)
