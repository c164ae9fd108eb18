"""Task 2 — Basic operations: set a value and display one.

Copy `connect_client` from task 1 (same messages), then write two functions. Each takes the redis-py `client`
first (the original course used one global client; passing it makes the functions easy to test):

1. `set_new_school(client, school_name, value)`: set in Redis the value `value` for the key `school_name`, and
   print a confirmation with the helper `redis_print` given below (for a successful SET it prints `Reply: OK`).
   When the server refuses the SET (it raises a `redis.RedisError`), print the error instead, with
   `redis_print(None, error)`: its text alone, and no `Reply: ...` line.
2. `display_school_value(client, school_name)`: print the value stored for the key `school_name`, alone on its
   line.

The end of the file (already written) calls, in this order:

    display_school_value(client, "Holberton")
    set_new_school(client, "HolbertonSanFrancisco", "100")
    display_school_value(client, "HolbertonSanFrancisco")

Run it against a server holding Holberton = School. With Python alone: start `queuekit server --port 6390` in
another terminal, seed it, then run the script:

    REDIS_URL=redis://127.0.0.1:6390 python -c "import queuekit; queuekit.connect().set('Holberton', 'School')"
    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex02_redis_op.py

Expected output:

    Redis client connected to the server
    School
    Reply: OK
    100
"""

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
    # TODO: the same as task 1 (same lines, same return values): reuse what you wrote there
    raise NotImplementedError("connect_client")


def set_new_school(client, school_name: str, value: str) -> None:
    """Set ``school_name`` to ``value`` and print the reply with redis_print."""
    # TODO: store the value under the key given, and confirm with redis_print what Redis answered; a SET the
    #       server refuses raises: report that error with redis_print instead of a reply
    raise NotImplementedError("set_new_school")


def display_school_value(client, school_name: str) -> None:
    """Print the value of the key ``school_name``."""
    # TODO: read the key given and print its value, nothing else on the line
    raise NotImplementedError("display_school_value")


if __name__ == "__main__":
    client = connect_client()
    if client is not None:
        display_school_value(client, "Holberton")
        set_new_school(client, "HolbertonSanFrancisco", "100")
        display_school_value(client, "HolbertonSanFrancisco")
