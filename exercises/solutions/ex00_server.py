"""Reference solution of ex00_server: exercises/ex00_server.py states the task and the exact output expected."""

from __future__ import annotations

import queuekit.connection
from queuekit.server import EmbeddedServer


def start_server(port: int = 0) -> EmbeddedServer:
    """Start an embedded server on ``port`` and return it."""
    return EmbeddedServer(port=port).start()


def ping(client) -> str:
    """Ping the server with ``client``; return "PONG"."""
    return "PONG" if client.ping() else "no answer"


def seed(client) -> str:
    """Set Holberton -> School, then return the value read back."""
    client.set("Holberton", "School")
    return client.get("Holberton")


if __name__ == "__main__":
    server = start_server()
    try:
        print(f"Server listening on {server.url}")
        client = queuekit.connection.connect(server.url)
        print(ping(client))
        print(seed(client))
    finally:
        server.stop()
