"""Reference solution of ex01_redis_client: exercises/ex01_redis_client.py states the task and the exact output expected."""

from __future__ import annotations

from queuekit.connection import connect
from queuekit.errors import ConnectionFailed


def connect_client(url: str | None = None):
    """Connect to Redis, print whether it worked, return the client (or None)."""
    try:
        client = connect(url)
    except ConnectionFailed as error:
        print(f"Redis client not connected to the server: {error}")
        return None
    print("Redis client connected to the server")
    return client


if __name__ == "__main__":
    connect_client()
