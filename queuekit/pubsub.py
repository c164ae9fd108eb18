"""A small publisher/subscriber helper over Redis pub/sub: blocking, in a background thread, or with asyncio."""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import redis
import redis.asyncio

from .connection import connect, connect_async, describe_client
from .errors import translated

__all__ = ["Subscriber", "publish"]

logger = logging.getLogger(__name__)

Handler = Callable[..., Any]


@translated
def publish(channel: str, message: str, client: redis.Redis | None = None) -> int:
    """Publish ``message`` on ``channel``; returns how many subscribers received it."""
    return int((client or connect()).publish(channel, message))


class Subscriber:
    """Calls ``handler`` for every message published on ``channels`` until told to stop.

    Args:
        channels: one channel name or several.
        handler: ``handler(message)`` or ``handler(message, channel)``; messages are ``str``.
        stop_on: a message that ends the subscription; the handler still receives it first.
        client: the redis-py client to use (``queuekit.connect()`` by default; for :meth:`run_async`,
            ``queuekit.connect_async()``).

    Use :meth:`run` to block (a script), :meth:`start`/:meth:`stop` for a background thread (a notebook), or
    ``await sub.run_async()`` under asyncio. Every way unsubscribes and closes its connection when it ends.
    """

    #: how long one wait for a message lasts before checking for stop(), in seconds
    poll_interval = 0.1

    def __init__(self, channels: str | Iterable[str], handler: Handler, *, stop_on: str | None = None,
                 client: Any = None) -> None:
        self.channels = [channels] if isinstance(channels, str) else list(channels)
        if not self.channels or not all(isinstance(c, str) and c for c in self.channels):
            raise ValueError("channels: expected a non-empty channel name or a list of them")
        if not callable(handler):
            raise TypeError("handler: expected a callable taking (message) or (message, channel)")
        self.handler = handler
        self.stop_on = stop_on
        self.client = client
        self.subscribed = threading.Event()
        self.received = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._wants_channel = _accepts_two(handler)

    def _dispatch(self, message: Any) -> bool:
        """Call the handler for one pub/sub message; True when the subscription should end."""
        if message is None or message.get("type") != "message":
            return self._stopping.is_set()
        data, channel = message["data"], message["channel"]
        if isinstance(data, bytes):
            data = data.decode()
        if isinstance(channel, bytes):
            channel = channel.decode()
        self.received += 1
        if self._wants_channel:
            self.handler(data, channel)
        else:
            self.handler(data)
        return self.stop_on is not None and data == self.stop_on or self._stopping.is_set()

    def run(self) -> None:
        """Subscribe and handle messages in this thread until ``stop_on`` arrives or :meth:`stop` is called."""
        client = self.client or connect()
        pubsub = client.pubsub()
        try:
            if not self._subscribe(pubsub):
                return
            self.subscribed.set()
            while not self._stopping.is_set():
                if self._dispatch(self._receive(pubsub)):
                    break
        finally:
            self._close(pubsub)

    # The calls to Redis raise queuekit's errors (see errors.translated); the handler's own errors pass unchanged.

    @translated
    def _subscribe(self, pubsub: Any) -> bool:
        """Subscribe; True once the server confirmed it, False if :meth:`stop` was called first."""
        pubsub.subscribe(*self.channels)
        # The subscribe confirmation comes back as a message: read it so `subscribed` means "active on the server".
        while not _is_confirmation(pubsub.get_message(timeout=self.poll_interval)):
            if self._stopping.is_set():
                return False
        return True

    @translated
    def _receive(self, pubsub: Any) -> Any:
        return pubsub.get_message(timeout=self.poll_interval)

    def _close(self, pubsub: Any) -> None:
        try:
            pubsub.unsubscribe()
            pubsub.close()
        except (redis.ConnectionError, OSError):  # the server may already be gone; nothing left to release
            pass
        self.subscribed.clear()

    async def run_async(self) -> None:
        """The asyncio form of :meth:`run`; cancel the task or call :meth:`stop` to end it."""
        client = self.client or connect_async()
        pubsub = await self._pubsub_async(client)
        try:
            if not await self._subscribe_async(pubsub):
                return
            self.subscribed.set()
            while not self._stopping.is_set():
                if self._dispatch(await self._receive_async(pubsub)):
                    break
        finally:
            try:
                await pubsub.unsubscribe()
                await pubsub.aclose()
            except (redis.ConnectionError, OSError):
                pass
            self.subscribed.clear()

    @translated
    async def _pubsub_async(self, client: Any) -> Any:
        if hasattr(client, "initialize"):  # a cluster client learns its nodes before it can hand out a pubsub
            await client.initialize()
        return client.pubsub()

    @translated
    async def _subscribe_async(self, pubsub: Any) -> bool:
        await pubsub.subscribe(*self.channels)
        while not _is_confirmation(await pubsub.get_message(timeout=self.poll_interval)):
            if self._stopping.is_set():
                return False
        return True

    @translated
    async def _receive_async(self, pubsub: Any) -> Any:
        return await pubsub.get_message(timeout=self.poll_interval)

    def _where(self) -> str:
        """Where the subscriber's server is, when it was given a client (named in the errors of its calls)."""
        return describe_client(self.client) if self.client is not None else ""

    def start(self, wait: float = 5.0) -> Subscriber:
        """Run in a daemon thread; returns once the subscription is active (or ``wait`` seconds passed)."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run_logged, name=f"queuekit-sub-{self.channels[0]}",
                                        daemon=True)
        self._thread.start()
        self.subscribed.wait(wait)
        return self

    def _run_logged(self) -> None:
        try:
            self.run()
        except Exception:
            logger.exception("subscriber on %s stopped on an error", self.channels)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the subscription to end, and wait up to ``timeout`` seconds for its thread."""
        self._stopping.set()
        self.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the background thread to end."""
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """True while the background thread runs."""
        return self._thread is not None and self._thread.is_alive()


def _is_confirmation(message: Any) -> bool:
    return message is not None and message.get("type") == "subscribe"


def _accepts_two(fn: Handler) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)
