"""The embedded TCP server (``queuekit server``) answers byte for byte as Redis does on the wire.

Each command is sent as raw RESP to the embedded server and to the real Redis (database 5, keys unique to the run,
deleted afterwards; nothing is flushed), and the raw replies are compared. Without a real Redis the comparison is
skipped, except with ``CI=true`` where it fails; the embedded replies are still checked against the expected bytes.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

import pytest

from queuekit.server import EmbeddedServer

REAL_HOST, REAL_PORT, REAL_DB = "127.0.0.1", 6379, "5"


def resp(*args: str) -> bytes:
    """A command as a client sends it: an array of bulk strings."""
    out = b"*%d\r\n" % len(args)
    for arg in args:
        data = arg.encode()
        out += b"$%d\r\n%s\r\n" % (len(data), data)
    return out


def _read_reply(sock: socket.socket, expected_len: int | None = None) -> bytes:
    """Everything the server sends until it stays quiet for a moment (one reply per command sent)."""
    data = b""
    deadline = time.monotonic() + 5
    sock.settimeout(5)
    data += sock.recv(65536)
    while time.monotonic() < deadline:
        sock.settimeout(0.15)
        try:
            more = sock.recv(65536)
        except TimeoutError:
            break
        if not more:
            break
        data += more
    return data


def converse(port: int, commands: list[bytes]) -> list[bytes]:
    """Send each command on one connection and return each raw reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        replies = []
        for command in commands:
            sock.sendall(command)
            replies.append(_read_reply(sock))
        return replies


def _real_redis_available() -> bool:
    try:
        with socket.create_connection((REAL_HOST, REAL_PORT), timeout=2) as sock:
            sock.sendall(resp("PING"))
            return _read_reply(sock) == b"+PONG\r\n"
    except OSError:
        return False


KEY = f"qk-wire-{uuid.uuid4().hex[:8]}"

#: (command, the bytes Redis 7 answers)
CONVERSATION: list[tuple[bytes, bytes]] = [
    (resp("SELECT", REAL_DB), b"+OK\r\n"),
    (resp("SET", "Holberton", "School"), b"+OK\r\n"),
    (b"*2\r\n$3\r\nGET\r\n$9\r\nHolberton\r\n", b"$6\r\nSchool\r\n"),   # a bulk string, not +School
    (resp("GET", f"{KEY}:missing"), b"$-1\r\n"),
    (resp("HSET", f"{KEY}:h", "Portland", "50"), b":1\r\n"),
    (resp("HGETALL", f"{KEY}:h"), b"*2\r\n$8\r\nPortland\r\n$2\r\n50\r\n"),
    (resp("MGET", "Holberton", f"{KEY}:missing"), b"*2\r\n$6\r\nSchool\r\n$-1\r\n"),
    (resp("HGET", "Holberton", "x"), b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (resp("INCR", "Holberton"), b"-ERR value is not an integer or out of range\r\n"),
    (resp("PING"), b"+PONG\r\n"),
    (resp("TYPE", "Holberton"), b"+string\r\n"),
    (resp("MULTI"), b"+OK\r\n"),
    (resp("SET", f"{KEY}:x", "1"), b"+QUEUED\r\n"),
    (resp("GET", f"{KEY}:x"), b"+QUEUED\r\n"),
    (resp("EXEC"), b"*2\r\n+OK\r\n$1\r\n1\r\n"),
    (resp("EVAL", "return {1, 'a', redis.status_reply('S')}", "0"), b"*3\r\n:1\r\n$1\r\na\r\n+S\r\n"),
    (resp("DEL", "Holberton", f"{KEY}:h", f"{KEY}:x"), b":3\r\n"),
]


def test_the_embedded_server_answers_with_the_bytes_redis_sends() -> None:
    commands = [command for command, _ in CONVERSATION]
    with EmbeddedServer(port=0) as server:
        embedded = converse(server.port, commands)
    for (command, expected), got in zip(CONVERSATION, embedded):
        assert got == expected, f"embedded server answered {command!r} with {got!r}; Redis sends {expected!r}"


def test_the_embedded_server_and_the_real_redis_answer_alike() -> None:
    if not _real_redis_available():
        message = f"real Redis not reachable at {REAL_HOST}:{REAL_PORT}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the real Redis is required)", pytrace=False)
        pytest.skip(message)
    commands = [resp("SELECT", REAL_DB), resp("EXISTS", "Holberton")]
    assert converse(REAL_PORT, commands)[1] == b":0\r\n", "db 5 of the real Redis already holds Holberton: not ours"
    commands = [command for command, _ in CONVERSATION]
    with EmbeddedServer(port=0) as server:
        embedded = converse(server.port, commands)
    real = converse(REAL_PORT, commands)
    for command, got, want in zip(commands, embedded, real):
        assert got == want, f"{command!r}: embedded server {got!r}, real Redis {want!r}"
