"""Task 3 — Async operations: the same as task 2 with async / await.

Copy task 2 and turn it into asyncio code with queuekit's asyncio client, `queuekit.connection.connect_async()`
(a `redis.asyncio.Redis`: every command is awaited, e.g. `await client.get(key)`):

1. `async def connect_client(url=None)`: create the client with `connect_async(url)`, then `await client.ping()`
   to check the connection (the asyncio client only connects when used). Print the same two messages as task 1:
   `Redis client connected to the server` and return the client, or
   `Redis client not connected to the server: ERROR_MESSAGE` and return None when ping raises
   `redis.RedisError` (or `OSError`).
2. `async def set_new_school(client, school_name, value)`: await the SET, print the reply with `redis_print`; when
   the server refuses the SET (a `redis.RedisError`), print the error with `redis_print(None, error)` instead, as in
   task 2.
3. `async def display_school_value(client, school_name)`: await the GET and print the value.

`main()` (given) awaits them in the same order as task 2. Run it against a server holding Holberton = School
(start `queuekit server --port 6390` in another terminal, and seed it as in task 2):

    REDIS_URL=redis://127.0.0.1:6390 python -c "import queuekit; queuekit.connect().set('Holberton', 'School')"
    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex03_redis_op_async.py

Expected output — the same result as task 2:

    Redis client connected to the server
    School
    Reply: OK
    100
"""

from __future__ import annotations

import asyncio

import redis

from queuekit.connection import connect_async


def redis_print(reply, error=None) -> None:
    """``Reply: <reply>`` (True is shown as OK), or the error's text. (Given.)"""
    if error is not None:
        print(str(error))
        return
    if reply is True:
        reply = "OK"
    print(f"Reply: {reply}")


async def connect_client(url: str | None = None):
    """Create an asyncio client, check it with ping, print whether it worked; return it or None."""
    # TODO: create the asyncio client for the url given; it connects only when used, so check the server
    #       answers before printing either line (and close the client you give up on)
    raise NotImplementedError("connect_client")


async def set_new_school(client, school_name: str, value: str) -> None:
    """Set ``school_name`` to ``value`` and print the reply with redis_print."""
    # TODO: as in task 2, but every command of this client is awaited
    raise NotImplementedError("set_new_school")


async def display_school_value(client, school_name: str) -> None:
    """Print the value of the key ``school_name``."""
    # TODO: as in task 2: the value of the key given, awaited
    raise NotImplementedError("display_school_value")


async def main() -> None:
    client = await connect_client()
    if client is not None:
        await display_school_value(client, "Holberton")
        await set_new_school(client, "HolbertonSanFrancisco", "100")
        await display_school_value(client, "HolbertonSanFrancisco")
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
