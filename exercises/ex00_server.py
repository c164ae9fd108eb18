"""Task 0 — Install a Redis instance (start a server, ping it, seed it).

The original course compiles Redis from source. Here you may use a real `redis-server`, or queuekit's embedded
server: a Redis-compatible server written in Python that other processes can reach over TCP (run it in a terminal
with `queuekit server --port 6390`). This exercise drives the embedded one from Python: no other program needed.

Write three functions:

1. `start_server(port=0)`: start a `queuekit.server.EmbeddedServer` listening on `port` (0 lets the system pick a
   free port) and return it, already started.
2. `ping(client)`: send PING to the server with the redis-py `client` and return the word the server answered,
   `"PONG"` (redis-py turns that answer into `True`: give back the word itself). Ask the server every time: when
   no server answers, `client.ping()` raises `redis.ConnectionError`; let that error come out.
3. `seed(client)`: set the value `School` for the key `Holberton` (tasks 2 and 3 read it), then read the key back
   with GET and return what the server answered: `"School"`. If the server refuses the SET, let its error come
   out (the key was not set).

Run it:

    python exercises/ex00_server.py

Expected output (the port changes every run):

    Server listening on redis://127.0.0.1:PORT
    PONG
    School

Tip: `queuekit.connect(url)` returns a redis-py client for a URL such as `server.url`.
"""

from __future__ import annotations

import queuekit.connection
from queuekit.server import EmbeddedServer


def start_server(port: int = 0) -> EmbeddedServer:
    """Start an embedded server on ``port`` and return it."""
    # TODO: build the server on the port given (0 = any free port); it only listens once started
    raise NotImplementedError("start_server")


def ping(client) -> str:
    """Ping the server with ``client``; return "PONG"."""
    # TODO: ask the server (redis-py gives True when it answered PONG) and return the word, not the boolean
    raise NotImplementedError("ping")


def seed(client) -> str:
    """Set Holberton -> School, then return the value read back."""
    # TODO: store the value, then read it back from the server, so what you return is what Redis holds
    raise NotImplementedError("seed")


if __name__ == "__main__":
    server = start_server()
    try:
        print(f"Server listening on {server.url}")
        client = queuekit.connection.connect(server.url)
        print(ping(client))
        print(seed(client))
    finally:
        server.stop()
