"""Task 1 — Redis client: connect and say whether it worked.

Write `connect_client(url=None)`:

- connect with `queuekit.connection.connect(url)` (no URL: it uses `$REDIS_URL`, else the embedded server);
- when the connection works, print exactly

      Redis client connected to the server

  and return the client;
- when it does not (connect raises `queuekit.errors.ConnectionFailed`), print exactly

      Redis client not connected to the server: ERROR_MESSAGE

  where ERROR_MESSAGE is the text of the error (`str(error)`), and return None. Never let the error escape.

Run it against a server: first start one in another terminal with `queuekit server --port 6390` (a real Redis
works too), then:

    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex01_redis_client.py
    Redis client connected to the server

and with no server listening on the port named:

    REDIS_URL=redis://127.0.0.1:6399 python exercises/ex01_redis_client.py
    Redis client not connected to the server: cannot reach Redis at 127.0.0.1:6399 (redis://127.0.0.1:6399): Error 111 connecting to 127.0.0.1:6399. Connection refused.

Either way the script ends normally (exit status 0).
"""

from __future__ import annotations

from queuekit.connection import connect
from queuekit.errors import ConnectionFailed


def connect_client(url: str | None = None):
    """Connect to Redis, print whether it worked, return the client (or None)."""
    # TODO: connect to the url given; connecting can fail (ConnectionFailed), so report either outcome with its
    #       exact line and never let the error escape
    raise NotImplementedError("connect_client")


if __name__ == "__main__":
    connect_client()
