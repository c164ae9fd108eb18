"""Reference solution of ex03_redis_op_async: exercises/ex03_redis_op_async.py states the task and the exact output expected."""

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
    client = connect_async(url)
    try:
        await client.ping()
    except (redis.RedisError, OSError) as error:
        print(f"Redis client not connected to the server: {error}")
        await client.aclose()
        return None
    print("Redis client connected to the server")
    return client


async def set_new_school(client, school_name: str, value: str) -> None:
    """Set ``school_name`` to ``value`` and print the reply with redis_print."""
    try:
        reply = await client.set(school_name, value)
    except redis.RedisError as error:
        redis_print(None, error)
        return
    redis_print(reply)


async def display_school_value(client, school_name: str) -> None:
    """Print the value of the key ``school_name``."""
    print(await client.get(school_name))


async def main() -> None:
    client = await connect_client()
    if client is not None:
        await display_school_value(client, "Holberton")
        await set_new_school(client, "HolbertonSanFrancisco", "100")
        await display_school_value(client, "HolbertonSanFrancisco")
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
