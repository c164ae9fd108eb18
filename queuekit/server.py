"""The embedded Redis-compatible TCP server behind ``queuekit server``: fakeredis, reachable from other processes."""

from __future__ import annotations

import logging
import socket
import threading
from types import TracebackType

import fakeredis
import redis
from fakeredis import TcpFakeServer
from fakeredis._clients._tcp_server import TCPFakeRequestHandler, encode_reply
from fakeredis._helpers import SimpleError, SimpleString

__all__ = ["EmbeddedServer"]

logger = logging.getLogger(__name__)


class _Status(bytes):
    """A status reply (``+OK``, ``+PONG``, ``+QUEUED``, a script's ``status_reply``), told apart from a bulk string."""


class _ErrorReply(redis.ResponseError):
    """An error reply with its text as Redis sends it (``WRONGTYPE ...`` stays without an ``ERR`` in front)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _mark_status(result: object) -> object:
    """fakeredis's own replies, with each SimpleString (a status reply) turned into a :class:`_Status` and each
    SimpleError into an :class:`_ErrorReply` that keeps the exact text."""
    if isinstance(result, SimpleString):
        return _Status(result.value)
    if isinstance(result, SimpleError):
        return _ErrorReply(result.value)
    if isinstance(result, list):
        return [_mark_status(item) for item in result]
    return result


def _encode(value: object, protocol: int) -> bytes:
    """RESP as Redis writes it: a status reply as a simple string (``+OK``), an error with its own prefix, every
    other string as a bulk string (``$6\r\nSchool``), at the top level as inside an array; the rest is fakeredis's
    encoder."""
    if isinstance(value, _Status):
        return b"+" + bytes(value) + b"\r\n"
    if isinstance(value, _ErrorReply):
        return f"-{value.text}\r\n".encode()
    if isinstance(value, (bytes, str)):
        data = value if isinstance(value, bytes) else value.encode()
        return b"$%d\r\n%s\r\n" % (len(data), data)
    if isinstance(value, (list, tuple)):
        return b"*%d\r\n" % len(value) + b"".join(_encode(item, protocol) for item in value)
    return encode_reply(value, protocol, nested=True)


class _RequestHandler(TCPFakeRequestHandler):
    """fakeredis's handler closes the connection after any error reply (NOSCRIPT, WRONGTYPE, a failing script);
    a real server keeps it open, and clients rely on that: the worker's pipelined EVALSHA loads a script on NOSCRIPT.
    Here an error reply is sent as a reply and the connection stays open. Replies also leave at once (TCP_NODELAY).

    Replies are written as Redis writes them. fakeredis (2.x) turns its status replies (SimpleString) into plain bytes
    before its TCP encoder sees them, and the encoder then guesses: any top-level string that fits goes out as a
    simple string, so ``GET`` answered ``+School`` where Redis sends the bulk string ``$6\r\nSchool`` (redis-cli
    prints ``School`` instead of ``"School"``, and a client that checks reply types sees a status). Here the status
    replies are marked before fakeredis unwraps them, and the handler's encoder sends only those as simple strings.
    This wraps fakeredis's socket and writer per connection; fakeredis itself is not changed.
    """

    def setup(self) -> None:
        super().setup()
        # Replies are written one by one: without TCP_NODELAY, Nagle's algorithm holds each small reply back until
        # the client acknowledges the previous one (tens of ms per reply of a pipeline).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        read = self.current_client.read_response

        def read_response(*args: object, **kwargs: object) -> object:
            try:
                return read(*args, **kwargs)
            except redis.ResponseError as exc:  # an error reply, not a broken connection
                return exc

        self.current_client.read_response = read_response  # type: ignore[method-assign]

        # Keep status replies recognisable (see the class docstring): mark them before fakeredis unwraps them, and
        # write replies with the encoder above.
        sock = self.current_client.get_socket()
        unwrap = sock._decode_result

        def decode_result(result: object) -> object:
            return unwrap(_mark_status(result))

        sock._decode_result = decode_result  # type: ignore[method-assign]
        writer = self.writer

        def dump(value: object) -> None:
            writer.write(_encode(value, self.protocol_version))
            writer.writer.flush()

        writer.dump = dump  # type: ignore[method-assign]


class EmbeddedServer:
    """A fakeredis server listening on TCP, so several processes can share one store without installing Redis.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with EmbeddedServer(port=0) as server:   # port 0: the system picks a free port
            print(server.url)                    # redis://127.0.0.1:<port>

    Args:
        host: the address to listen on (loopback by default: nothing outside this machine can reach it).
        port: the TCP port; 0 picks a free one.
        store: the fakeredis store to serve; a new empty one by default. Pass
            ``queuekit.connection.embedded_server()`` to expose this process's embedded data.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, store: fakeredis.FakeServer | None = None) -> None:
        self.host = host
        self._requested_port = port
        self._store = store
        self._tcp: TcpFakeServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (known once started)."""
        if self._tcp is None:
            raise RuntimeError("the server is not started")
        return int(self._tcp.server_address[1])

    @property
    def url(self) -> str:
        """The URL to give ``REDIS_URL`` or ``queuekit.connect``."""
        return f"redis://{self.host}:{self.port}"

    def start(self) -> EmbeddedServer:
        """Start listening in a background thread and return self."""
        if self._tcp is not None:
            return self
        tcp = TcpFakeServer((self.host, self._requested_port), server_type="redis", server_version=(7, 0))
        tcp.RequestHandlerClass = _RequestHandler
        tcp.daemon_threads = True  # a client that never disconnects must not keep the process alive
        if self._store is not None:
            tcp.fake_server = self._store
        self._tcp = tcp
        self._thread = threading.Thread(target=tcp.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"queuekit-server-{self.port}", daemon=True)
        self._thread.start()
        logger.info("embedded server listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop listening and close the socket (connected clients see the connection drop)."""
        tcp, self._tcp = self._tcp, None
        if tcp is None:
            return
        tcp.shutdown()
        tcp.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Start and block until interrupted (what ``queuekit server`` does)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
