"""twin(): a new client to the same server that keeps every connection setting of the original (TLS included),
sync or asyncio, with only ``decode_responses`` chosen by the caller. No server is contacted."""

from __future__ import annotations

from typing import Any

import pytest
import redis
import redis.asyncio

from queuekit.connection import twin

TLS = {"ssl_ca_certs": "/certs/ca.pem", "ssl_certfile": "/certs/client.pem", "ssl_keyfile": "/certs/client.key",
       "ssl_cert_reqs": "optional", "ssl_check_hostname": False, "ssl_ciphers": "ECDHE+AESGCM",
       "ssl_password": "pem-secret"}
PLAIN = {"username": "app", "password": "s3cret", "db": 3, "socket_timeout": 7.5, "socket_connect_timeout": 1.5,
         "client_name": "qk-test", "health_check_interval": 11, "socket_keepalive": False}


def settings(client: Any) -> dict[str, Any]:
    return dict(client.connection_pool.connection_kwargs)


@pytest.mark.parametrize("asyncio", [False, True], ids=["sync", "asyncio"])
def test_a_twin_of_a_tls_client_speaks_tls_with_the_same_settings(asyncio: bool) -> None:
    client = redis.Redis(host="10.0.0.5", port=6380, ssl=True, decode_responses=True, **TLS, **PLAIN)
    copy = twin(client, asyncio=asyncio)
    expected = redis.asyncio.SSLConnection if asyncio else redis.SSLConnection
    assert copy.connection_pool.connection_class is expected
    assert isinstance(copy, redis.asyncio.Redis if asyncio else redis.Redis)
    kept = settings(copy)
    for key, value in {"host": "10.0.0.5", "port": 6380, **TLS, **PLAIN}.items():
        assert kept.get(key) == value, key


@pytest.mark.parametrize("asyncio", [False, True], ids=["sync", "asyncio"])
def test_a_twin_of_a_plain_client_keeps_credentials_database_timeouts_and_name(asyncio: bool) -> None:
    client = redis.Redis(host="10.0.0.5", port=6390, **PLAIN)
    copy = twin(client, asyncio=asyncio)
    expected = redis.asyncio.Connection if asyncio else redis.Connection
    assert copy.connection_pool.connection_class is expected
    kept = settings(copy)
    for key, value in {"host": "10.0.0.5", "port": 6390, **PLAIN}.items():
        assert kept.get(key) == value, key


@pytest.mark.parametrize("asyncio", [False, True], ids=["sync", "asyncio"])
def test_a_twin_of_a_unix_socket_client_uses_the_socket(asyncio: bool) -> None:
    client = redis.Redis(unix_socket_path="/run/redis.sock", db=2, password="pw")
    copy = twin(client, asyncio=asyncio)
    expected = redis.asyncio.UnixDomainSocketConnection if asyncio else redis.UnixDomainSocketConnection
    assert copy.connection_pool.connection_class is expected
    kept = settings(copy)
    assert (kept["path"], kept["db"], kept["password"]) == ("/run/redis.sock", 2, "pw")
    assert "host" not in kept and "port" not in kept


@pytest.mark.parametrize("decode", [True, False])
def test_decode_responses_is_the_callers_choice(decode: bool) -> None:
    client = redis.Redis(ssl=True, decode_responses=not decode, encoding="latin-1")
    for copy in (twin(client, decode_responses=decode), twin(client, asyncio=True, decode_responses=decode)):
        assert settings(copy)["decode_responses"] is decode
        assert settings(copy)["encoding"] == "latin-1"
    assert settings(twin(client))["decode_responses"] is True  # the default


def test_a_twin_of_an_asyncio_client_can_be_sync() -> None:
    client = redis.asyncio.Redis(host="10.0.0.5", port=6380, ssl=True, **TLS, **PLAIN)
    copy = twin(client)
    assert copy.connection_pool.connection_class is redis.SSLConnection
    kept = settings(copy)
    for key, value in {"host": "10.0.0.5", "port": 6380, **TLS, **PLAIN}.items():
        assert kept.get(key) == value, key


@pytest.mark.parametrize("asyncio", [False, True], ids=["sync", "asyncio"])
def test_a_twin_keeps_the_retry_policy_in_its_own_form(asyncio: bool) -> None:
    from redis.backoff import ConstantBackoff
    from redis.retry import Retry

    backoff = ConstantBackoff(0.25)
    client = redis.Redis(retry=Retry(backoff, 4))
    retry = settings(twin(client, asyncio=asyncio))["retry"]
    assert isinstance(retry, redis.asyncio.retry.Retry if asyncio else Retry)
    assert retry.get_retries() == 4 and retry._backoff.compute(1) == backoff.compute(1) == 0.25
