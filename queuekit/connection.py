"""connect(): a redis-py client for REDIS_URL, an explicit URL, or the embedded server shared by the process."""

from __future__ import annotations

import functools
import inspect
import logging
import os
import threading
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import fakeredis
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.cluster
import redis.retry

from .errors import ConnectionFailed, ServerLoading, ValidationError

__all__ = ["connect", "connect_async", "embedded_server", "use_embedded_server", "pin_embedded_server", "mask_url",
           "resolve_url", "is_cluster", "is_cluster_url"]

logger = logging.getLogger(__name__)

#: Seconds to wait for a TCP connection before giving up with ConnectionFailed.
CONNECT_TIMEOUT = 3.0
#: Seconds a single reply may take (blocking commands pass their own, longer, timeout).
SOCKET_TIMEOUT = 30.0

_lock = threading.Lock()
_server: fakeredis.FakeServer | None = None
_pinned = False  # while True, a call without a URL uses the embedded server whatever REDIS_URL says


def embedded_server() -> fakeredis.FakeServer:
    """The process-wide embedded server: every ``connect()`` without a URL sees its data."""
    global _server
    with _lock:
        if _server is None:
            _server = fakeredis.FakeServer(version=(7, 0))
        return _server


def use_embedded_server(server: fakeredis.FakeServer | None) -> fakeredis.FakeServer | None:
    """Replace the process-wide embedded server (tests use a fresh one each); returns the previous one."""
    global _server
    with _lock:
        previous, _server = _server, server
        return previous


def pin_embedded_server(pinned: bool) -> bool:
    """While pinned, a call without an explicit URL uses the embedded server even if ``REDIS_URL`` is set: a test's
    own server (``testing.fresh_server``) must never be swapped for a real Redis the environment names. Returns the
    previous setting."""
    global _pinned
    with _lock:
        previous, _pinned = _pinned, pinned
        return previous


def resolve_url(url: str | None = None) -> str | None:
    """The URL queuekit will use: ``url``, else ``REDIS_URL``, else None for the embedded server (always None
    without ``url`` while the embedded server is pinned)."""
    if url:
        return url
    if _pinned:
        return None
    return os.environ.get("REDIS_URL") or None


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, safe to log or show in an error."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))


def _describe(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379} ({mask_url(url)})"


def connect(url: str | None = None, *, check: bool = True, decode_responses: bool = True, **kwargs: Any) -> redis.Redis:
    """Return a redis-py client.

    Args:
        url: ``redis://[user:password@]host:port/db``; when None, ``REDIS_URL`` is used, and when that is unset the
            embedded in-process server (fakeredis) shared by the whole process. ``redis+cluster://host:port`` (or
            ``?cluster=true``) returns a ``redis.cluster.RedisCluster`` for a Redis Cluster instead.
        check: ping the server now, so an unreachable server fails here with a clear error.
        decode_responses: return ``str`` rather than ``bytes`` (the default, friendlier to read).

    Raises:
        ConnectionFailed: the server did not answer within ``CONNECT_TIMEOUT`` seconds (``ServerLoading``, one kind
            of it: it answered that it is still loading its data); the message names host and port, never the
            password.
        ValidationError: ``url`` is not a URL redis-py can read.
    """
    target = resolve_url(url)
    if target is None:
        return fakeredis.FakeRedis(server=embedded_server(), decode_responses=decode_responses, **kwargs)
    kwargs.setdefault("socket_connect_timeout", CONNECT_TIMEOUT)
    kwargs.setdefault("socket_timeout", SOCKET_TIMEOUT)
    cluster_url = _readable(target)
    if cluster_url is not None:
        # RedisCluster connects (and discovers the slots) when built: an unreachable cluster fails here
        try:
            # a RedisCluster: not a redis.Redis subclass, but it has the command API queuekit uses
            return redis.cluster.RedisCluster.from_url(  # type: ignore[return-value]
                cluster_url, decode_responses=decode_responses, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.RedisClusterException, OSError) as exc:
            raise ConnectionFailed(f"cannot reach the Redis Cluster at {_describe(target)}: "
                                   f"{_reason(exc)}") from exc
    kwargs.setdefault("health_check_interval", 15)
    client = redis.Redis.from_url(target, decode_responses=decode_responses, **kwargs)
    if check:
        try:
            client.ping()
        except (redis.RedisError, OSError) as exc:
            client.close()
            raise _unreachable(exc, _describe(target)) from exc
    return client


def _unreachable(exc: BaseException, where: str) -> ConnectionFailed:
    """The error for a first ping to ``where`` that failed with ``exc``."""
    if isinstance(exc, redis.BusyLoadingError):
        return ServerLoading(f"Redis at {where} is still loading its data; try again in a moment: {_reason(exc)}")
    if isinstance(exc, (redis.ConnectionError, redis.TimeoutError, OSError)):
        return ConnectionFailed(f"cannot reach Redis at {where}: {_reason(exc)}")
    # something answered, but not like a Redis server would
    return ConnectionFailed(f"no Redis answering at {where}: {_reason(exc)}")


def _readable(url: str) -> str | None:
    """``_cluster_url(url)``, once redis-py is known to read ``url``; else a ValidationError, which does not quote the
    URL (it may hold a password)."""
    try:
        cluster_url = _cluster_url(url)
        redis.connection.parse_url(cluster_url or url)  # type: ignore[no-untyped-call]
    except ValueError as exc:
        raise ValidationError("url", f"not a Redis URL ({exc}); expected redis://[user:password@]host:port/db, "
                                     "rediss://... or unix://...") from exc
    return cluster_url


def connect_async(url: str | None = None, *, decode_responses: bool = True, **kwargs: Any) -> redis.asyncio.Redis:
    """The asyncio twin of :func:`connect` (no ping here: await ``client.ping()`` to check)."""
    target = resolve_url(url)
    if target is None:
        return fakeredis.FakeAsyncRedis(server=embedded_server(), decode_responses=decode_responses, **kwargs)
    kwargs.setdefault("socket_connect_timeout", CONNECT_TIMEOUT)
    kwargs.setdefault("socket_timeout", SOCKET_TIMEOUT)
    cluster_url = _readable(target)
    if cluster_url is not None:
        return redis.asyncio.cluster.RedisCluster.from_url(  # type: ignore[return-value]
            cluster_url, decode_responses=decode_responses, **kwargs)
    return redis.asyncio.Redis.from_url(target, decode_responses=decode_responses, **kwargs)


def is_cluster_url(url: str | None) -> bool:
    """True for ``redis+cluster://...`` / ``rediss+cluster://...`` or a URL with ``?cluster=true``."""
    return url is not None and _cluster_url(url) is not None


def _cluster_url(url: str) -> str | None:
    """The plain ``redis://`` URL redis-py's RedisCluster takes, if ``url`` names a cluster; else None."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    query = [q for q in parts.query.split("&") if q]
    flags = [q for q in query if q.split("=", 1)[0].lower() == "cluster"]
    on = any(q.split("=", 1)[-1].lower() in ("true", "1", "yes", "cluster") for q in flags)
    if scheme.endswith("+cluster"):
        scheme, on = scheme[: -len("+cluster")], True
    if not on:
        return None
    rest = "&".join(q for q in query if q not in flags)
    return urlunsplit((scheme, parts.netloc, parts.path, rest, parts.fragment))


def is_cluster(client: Any) -> bool:
    """True if ``client`` is a redis-py Redis Cluster client (sync or asyncio)."""
    return isinstance(client, (redis.cluster.RedisCluster, redis.asyncio.cluster.RedisCluster))


def _cluster_nodes(client: Any) -> list[tuple[str, int]]:
    nodes = client.nodes_manager.startup_nodes.values()
    return sorted({(n.host, int(n.port)) for n in nodes})


def describe_client(client: Any) -> str:
    """A short, password-free description of where ``client`` points (for reprs and logs)."""
    if isinstance(client, (fakeredis.FakeRedis, fakeredis.FakeAsyncRedis)):
        return "embedded"
    if is_cluster(client):
        return "cluster " + ",".join(f"{h}:{p}" for h, p in _cluster_nodes(client))
    kw = client.connection_pool.connection_kwargs
    if "path" in kw:
        return f"unix:{kw['path']}"
    return f"{kw.get('host', '?')}:{kw.get('port', '?')}/{kw.get('db', 0)}"


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


#: each kind of connection in its sync and its asyncio form, the most specific first (an SSLConnection is a Connection)
_FORMS: tuple[tuple[type, type], ...] = (
    (redis.connection.SSLConnection, redis.asyncio.connection.SSLConnection),
    (redis.connection.UnixDomainSocketConnection, redis.asyncio.connection.UnixDomainSocketConnection),
    (redis.connection.Connection, redis.asyncio.connection.Connection),
)
#: settings whose value is an object made for one form only (a sync parser cannot serve an asyncio connection): a
#: twin of the other form leaves them to redis-py's defaults (the retry policy is translated: _retry_in_form)
_FORM_BOUND = frozenset({"parser_class", "redis_connect_func", "event_dispatcher", "command_packer",
                         "encoder_class"})
#: objects the original pool made for itself; the twin's pool makes its own
_POOL_OWNED = frozenset({"maint_notifications_pool_handler"})


def twin(client: Any, *, asyncio: bool = False, decode_responses: bool = True) -> Any:
    """A new client to the same server as ``client``, sync or (``asyncio=True``) asyncio, with its own pool.

    Contract: the twin's connections are of the same kind as the original's (TCP, TLS or Unix socket) and take
    every setting the original pool gives its connections (address, database, credentials, TLS files and checks,
    timeouts, client name, keepalive, encoding, protocol), except ``decode_responses``, which is the caller's
    choice (``str`` replies by default). Between sync and asyncio, the retry policy is rebuilt in the other form,
    and the settings that are objects of one form only (a parser class, a connect hook) are left to redis-py's
    defaults. Pool-wide limits such as
    ``max_connections`` are not copied. A twin of the embedded server's client shares its store; a twin of a
    Redis Cluster client is a cluster client to the same nodes.
    """
    if is_cluster(client):
        return _cluster_twin(client, asyncio=asyncio, decode_responses=decode_responses)
    pool = client.connection_pool
    if isinstance(client, (fakeredis.FakeRedis, fakeredis.FakeAsyncRedis)):
        cls = fakeredis.FakeAsyncRedis if asyncio else fakeredis.FakeRedis
        return cls(server=pool.connection_kwargs["server"], decode_responses=decode_responses)
    source = pool.connection_class
    target = _connection_class(source, asyncio=asyncio)
    crossing = _is_asyncio(source) != asyncio
    kwargs = _connection_settings(pool.connection_kwargs, target, crossing=crossing)
    kwargs["decode_responses"] = decode_responses
    if asyncio:
        return redis.asyncio.Redis.from_pool(redis.asyncio.ConnectionPool(connection_class=target, **kwargs))
    return redis.Redis.from_pool(redis.ConnectionPool(connection_class=target, **kwargs))


def _is_asyncio(connection_class: type) -> bool:
    """Whether ``connection_class`` is one of redis-py's asyncio connections."""
    return issubclass(connection_class, redis.asyncio.connection.AbstractConnection)


def _connection_class(source: type, *, asyncio: bool) -> type:
    """The connection class for a twin of a pool of ``source`` connections: ``source`` itself when it already has
    the wanted form (a subclass of the user's own is kept), else redis-py's class of the same kind in that form.

    Raises:
        TypeError: ``source`` is of the other form and derives from none of redis-py's connection kinds.
    """
    if _is_asyncio(source) == asyncio:
        return source
    for sync_form, asyncio_form in _FORMS:
        have, want = (sync_form, asyncio_form) if asyncio else (asyncio_form, sync_form)
        if issubclass(source, have):
            return want
    raise TypeError(f"no {'asyncio' if asyncio else 'sync'} counterpart of the connection class {source.__name__}")


@functools.cache
def _accepted(connection_class: type) -> frozenset[str]:
    """The keyword arguments ``connection_class`` takes by name (its own and those its bases' ``__init__`` take)."""
    names: set[str] = set()
    for cls in connection_class.__mro__:
        init = cls.__dict__.get("__init__")
        if init is None or cls is object:
            continue
        params = inspect.signature(init).parameters.values()
        names.update(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    names.discard("self")
    return frozenset(names)


def _connection_settings(kwargs: dict[str, Any], target: type, *, crossing: bool) -> dict[str, Any]:
    """The settings of a pool's connections (``kwargs``) for a new pool of ``target`` connections: all of them but
    the objects the pool owns; ``crossing`` between sync and asyncio, only those ``target`` takes by name and none
    made for one form only."""
    if not crossing:
        return {k: v for k, v in kwargs.items() if k not in _POOL_OWNED}
    accepted, dropped = _accepted(target), _POOL_OWNED | _FORM_BOUND
    settings = {k: v for k, v in kwargs.items() if k in accepted and k not in dropped}
    if settings.get("retry") is not None:
        settings["retry"] = _retry_in_form(settings["retry"], asyncio=_is_asyncio(target))
    return settings


def _retry_in_form(retry: Any, *, asyncio: bool) -> Any:
    """``retry``, a redis-py Retry of either form, as a Retry of the wanted form with the same backoff, number of
    retries and retried errors; None (the connection's own default) for a retry object redis-py did not make."""
    form = redis.asyncio.retry.Retry if asyncio else redis.retry.Retry
    if isinstance(retry, form):
        return retry
    try:
        # redis-py has no public getter for a Retry's backoff or errors; backoff objects serve both forms
        return form(retry._backoff, retry.get_retries(), retry._supported_errors)
    except AttributeError:
        return None


_CLUSTER_TWIN_KEYS = ("username", "password", "socket_timeout", "socket_connect_timeout", "client_name", "ssl",
                      "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs")


def _cluster_twin(client: Any, *, asyncio: bool, decode_responses: bool) -> Any:
    """A new cluster client (sync or asyncio) to the same cluster, with the same credentials and timeouts."""
    source: Any = client  # redis-py's cluster methods carry no annotations
    kwargs = source.get_connection_kwargs() if isinstance(client, redis.cluster.RedisCluster) else \
        source.connection_kwargs
    keep = {k: kwargs[k] for k in _CLUSTER_TWIN_KEYS if kwargs.get(k) is not None}
    if keep.get("ssl") is False:
        keep.pop("ssl")
    if asyncio:
        nodes = [redis.asyncio.cluster.ClusterNode(h, p) for h, p in _cluster_nodes(client)]
        return redis.asyncio.cluster.RedisCluster(startup_nodes=nodes, decode_responses=decode_responses, **keep)
    node: Any = redis.cluster.ClusterNode
    sync_nodes = [node(h, p) for h, p in _cluster_nodes(client)]
    return redis.cluster.RedisCluster(startup_nodes=sync_nodes, decode_responses=decode_responses, **keep)
