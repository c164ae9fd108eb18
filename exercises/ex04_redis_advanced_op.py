"""Task 4 — Advanced operations: store a hash and display it.

Write two functions (each takes the redis-py `client` first):

1. `create_hash(client)`: store in the hash with key `HolbertonSchools` the values of `SCHOOLS` (given below:
   Portland=50, Seattle=80, New York=20, Bogota=20, Cali=40, Paris=2), with **one HSET per field**, in that order,
   printing each reply with `redis_print` (HSET answers how many fields it added: `Reply: 1`, or `Reply: 0` when
   the field already existed, e.g. on a second run).
2. `display_hash(client)`: read the whole hash with HGETALL and print the dict it returns, the Python way
   (`print(the_dict)`): keys and values are strings, in insertion order.

Run it on an empty server:

    REDIS_URL=redis://127.0.0.1:6380 python exercises/ex04_redis_advanced_op.py

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
    # TODO: copy your connect_client from ex01_redis_client.py
    raise NotImplementedError("connect_client")


def create_hash(client) -> None:
    """One HSET per school into HolbertonSchools, printing each reply."""
    # TODO: for each field and value of SCHOOLS: redis_print(client.hset(KEY, field, value))
    raise NotImplementedError("create_hash")


def display_hash(client) -> None:
    """Print the whole hash as a dict."""
    # TODO: print(client.hgetall(KEY))
    raise NotImplementedError("display_hash")


if __name__ == "__main__":
    client = connect_client()
    if client is not None:
        create_hash(client)
        display_hash(client)
