"""The error hierarchy: every error a public call of queuekit raises is a QueuekitError.

The errors that come from Redis keep their other families too: ``ConnectionFailed`` is also the builtin
``ConnectionError`` and redis-py's ``ConnectionError``, ``CommandTimeout`` the builtin and redis-py's
``TimeoutError``, ``ErrorReply`` redis-py's ``ResponseError``. Code written against redis-py or the builtins
catches them as before, and ``except QueuekitError`` catches everything.

:func:`translated` is where redis-py's errors become these: it wraps the public functions and methods that talk to
Redis, so inside the library (the worker's loop included) redis-py's own errors are seen and handled as they are.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

import redis.exceptions

__all__ = [
    "QueuekitError",
    "ConnectionFailed",
    "ServerLoading",
    "CommandTimeout",
    "ServerError",
    "ErrorReply",
    "ValidationError",
    "JobNotFound",
    "LeaseLost",
    "JobFailed",
    "WaitTimeout",
    "HandlerNotFound",
    "Retry",
    "translate",
    "translated",
]


class QueuekitError(Exception):
    """Raised when queuekit refuses or cannot do what was asked; the base of every queuekit error."""

    # the usual ConnectionFailed('message'), also for the errors with a redis-py class, whose repr leaves it out
    __repr__ = Exception.__repr__


# ---- errors from Redis (each also its builtin and redis-py kin; the original redis-py error is the __cause__) ----

class ConnectionFailed(QueuekitError, ConnectionError, redis.exceptions.ConnectionError):
    """Raised when Redis cannot be reached, or the connection broke during a call; names host and port, never the
    password."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        # the builtin's __init__ (OSError's) calls no other: run redis-py's too, for the attributes it sets
        redis.exceptions.ConnectionError.__init__(self, *args)


class ServerLoading(ConnectionFailed, redis.exceptions.BusyLoadingError):
    """Raised when Redis answers but is still loading its data after a start; the same call works once it is done."""


class CommandTimeout(QueuekitError, TimeoutError, redis.exceptions.TimeoutError):
    """Raised when Redis did not answer a call within the client's socket timeout."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        redis.exceptions.TimeoutError.__init__(self, *args)  # as in ConnectionFailed


class ServerError(QueuekitError, redis.exceptions.RedisError):
    """Raised when redis-py reports any other failure (a reply it cannot read, a cluster without a node for a key)."""


class ErrorReply(ServerError, redis.exceptions.ResponseError):
    """Raised when Redis answers a call with an error: out of memory (OOM), no permission (NOPERM), a key of the
    wrong type (WRONGTYPE), a read-only replica (READONLY)..."""


# ---- refusals of queuekit's own -------------------------------------------------------------------------------

class ValidationError(QueuekitError, ValueError):
    """Raised when a job's type, data or options are invalid; nothing has been written to Redis.

    ``field`` names the offending field (for example ``"data['when']"`` or ``"delay"``); ``reason`` is the message
    without it.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class JobNotFound(QueuekitError, LookupError):
    """Raised when an operation needs a job that does not exist (or was removed)."""


class LeaseLost(QueuekitError):
    """Raised when a worker tries to change a job whose lease it no longer holds."""


class JobFailed(QueuekitError):
    """Raised when waiting for the result of a job that failed for good."""

    def __init__(self, job_id: str, error: str) -> None:
        super().__init__(f"job {job_id} failed: {error}")
        self.job_id = job_id
        self.error = error


class WaitTimeout(QueuekitError, TimeoutError):
    """Raised when a job is still not finished once the wait's timeout has passed."""


class HandlerNotFound(QueuekitError, LookupError):
    """Raised when a job names a handler, worker or script that was never registered."""


class Retry(QueuekitError):
    """Raised by a handler to ask for another attempt after ``delay`` seconds (counts as a failed attempt):
    ``raise Retry(delay=5)``, or ``raise Retry("rate limited", delay=5)`` with a message.

    Raises:
        ValidationError: (field ``"delay"``) a number given as the message (``Retry(5)``), or a delay that is not a
            number of 0 or more.
    """

    def __init__(self, message: str = "retry requested", *, delay: float | None = None) -> None:
        if not isinstance(message, str):
            # Retry(5) reads as "retry in 5" but would be a message: refuse it rather than retry at the backoff
            raise ValidationError("delay", f"Retry({message!r}) gives the delay as the message; "
                                           f"use Retry(delay={message!r}) (seconds)")
        if delay is not None and (isinstance(delay, bool) or not isinstance(delay, (int, float))
                                  or not delay >= 0 or delay == float("inf")):
            raise ValidationError("delay", f"expected a number of seconds, 0 or more, as in Retry(delay=5); "
                                           f"got {delay!r}")
        super().__init__(message)
        self.delay = delay


# ---- translation ----------------------------------------------------------------------------------------------

#: what redis-py raises -> queuekit's class, and how its message begins; the first match wins
_KINDS: tuple[tuple[type[Exception], type[QueuekitError], str], ...] = (
    (redis.exceptions.BusyLoadingError, ServerLoading, "{at} is still loading its data; try again in a moment"),
    (redis.exceptions.ConnectionError, ConnectionFailed, "cannot reach {at}"),
    (redis.exceptions.TimeoutError, CommandTimeout, "{at} did not answer in time"),
    (redis.exceptions.ResponseError, ErrorReply, "{at} refused the call"),
)
#: every error :func:`translated` turns into a queuekit error. Not the builtin ConnectionError or TimeoutError:
#: redis-py wraps the socket's, and one raised by the caller's code (a handler, a drain's time limit) is not Redis's.
_FOREIGN = (redis.exceptions.RedisError, redis.exceptions.RedisClusterException, UnicodeEncodeError)


def translate(exc: BaseException, where: str = "") -> QueuekitError:
    """queuekit's error for ``exc``, an error redis-py raised; ``where`` names the server (never with a password).

    Text Redis cannot be sent (a lone surrogate, which cannot be encoded) is a :class:`ValidationError`.
    """
    if isinstance(exc, UnicodeEncodeError):
        bad = exc.object[exc.start:exc.end]
        return ValidationError("text", f"{bad!r} at index {exc.start} of {_clip(exc.object)!r} cannot be sent to "
                                       f"Redis as {exc.encoding} ({exc.reason})")
    at = f"Redis at {where}" if where else "Redis"
    reason = str(exc) or type(exc).__name__
    if type(exc) is not redis.exceptions.ResponseError and isinstance(exc, redis.exceptions.ResponseError):
        reason = f"{reason} ({type(exc).__name__})"  # redis-py drops the code it knows (OOM, NOPERM...) from the text
    for kinds, cls, summary in _KINDS:
        if isinstance(exc, kinds):
            return cls(f"{summary.format(at=at)}: {reason}")
    return ServerError(f"{at} failed: {reason}")


_F = TypeVar("_F", bound=Callable[..., Any])


def translated(fn: _F) -> _F:
    """Make ``fn``, a public function or method (sync or async), raise queuekit's errors instead of redis-py's.

    The original error is the new one's ``__cause__``. A QueuekitError passes unchanged, so a public call made by
    another is translated once. For a method whose object has a ``_where()`` method, the message names the server
    it returns (host:port, never a password); otherwise it has redis-py's own text only.
    """
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except QueuekitError:
                raise
            except _FOREIGN as exc:
                raise translate(exc, _where(args)) from exc

        return cast(_F, run_async)

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except QueuekitError:
            raise
        except _FOREIGN as exc:
            raise translate(exc, _where(args)) from exc

    return cast(_F, run)


def _where(args: tuple[Any, ...]) -> str:
    describe = getattr(args[0], "_where", None) if args else None
    if not callable(describe):
        return ""
    try:
        return str(describe())
    except Exception:  # noqa: BLE001 - naming the server must never hide the error being reported
        return ""


def _clip(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[:size] + "..."
