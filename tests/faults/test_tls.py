"""TLS: queuekit runs end to end against a private redis-server that only speaks TLS, with a certificate authority
and server certificate made for the test, given as a redis-py client (``Queue(client=...)``, whose worker, event hub
and other clients are twins of it) and as a ``rediss://`` URL (``Queue(url=...)``)."""

from __future__ import annotations

import datetime
import ipaddress
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import queuekit.queue
from faults_support import RedisProcess, free_port
from queuekit import Queue, Worker
from queuekit.errors import JobFailed

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]


class Certificates:
    """Files of a test certificate authority and of a server certificate it signed for 127.0.0.1."""

    def __init__(self, directory: Path) -> None:
        self.ca = directory / "ca.pem"
        self.cert = directory / "server.pem"
        self.key = directory / "server-key.pem"


def _certificate(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool) -> x509.Certificate:
    """A certificate for ``subject``'s public ``key``, signed by ``issuer_key``, valid for a day."""
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_certificates(directory: Path) -> Certificates:
    """A self-signed CA and a server certificate for 127.0.0.1 signed by it, written as PEM files in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    files = Certificates(directory)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate("queuekit test CA", ca_key, "queuekit test CA", ca_key, ca=True)
    server_cert = _certificate("127.0.0.1", server_key, "queuekit test CA", ca_key, ca=False)
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    return files


class TLSRedis(RedisProcess):
    """A private redis-server whose only listener is TLS on ``port`` (the plain port is off)."""

    def __init__(self, directory: Path, certs: Certificates) -> None:
        port = free_port()
        super().__init__(directory, [
            "--port", "0", "--tls-port", str(port), "--tls-cert-file", str(certs.cert),
            "--tls-key-file", str(certs.key), "--tls-ca-cert-file", str(certs.ca), "--tls-auth-clients", "no",
            "--save", "", "--appendonly", "no"], port=port)
        self.certs = certs

    @property
    def url(self) -> str:
        return f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={quote(str(self.certs.ca), safe='')}"

    def client(self, **kw: Any) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, ssl=True, ssl_ca_certs=str(self.certs.ca),
                           decode_responses=True, **kw)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSRedis]:
    base = tmp_path_factory.mktemp("tls")
    server = TLSRedis(base / "redis", make_certificates(base / "certs"))
    try:
        yield server.start()
    finally:
        server.stop()


def _close_hubs(name: str) -> None:
    with queuekit.queue._hubs_lock:
        hubs = [queuekit.queue._hubs.pop(k) for k in list(queuekit.queue._hubs) if k[1] == name]
    for hub in hubs:
        hub.close()


def _square(job: Any) -> int:
    job.log("squaring %s", job.data["x"])
    return int(job.data["x"]) ** 2


def run_end_to_end(queue: Queue) -> None:
    """A worker on ``queue`` runs jobs to results, a failure, and events; the queue ends empty."""
    done: list[str] = []
    queue.on("job complete", lambda job_id, result: done.append(job_id))
    worker = Worker(queue, {"square": _square}, concurrency=2, lease=3).start()
    try:
        ok = queue.add("square", {"x": 7})
        bad = queue.add("square", {"x": "boom"})
        queue.add_bulk([("square", {"x": i}) for i in range(10)])
        assert ok.wait(10) == 49
        with pytest.raises(JobFailed):
            bad.wait(10)
        deadline = time.monotonic() + 10
        while queue.counts()["complete"] < 11 or len(done) < 11:
            assert time.monotonic() < deadline, (queue.counts(), len(done))
            time.sleep(0.05)
        assert queue.get_job(ok.id).logs == ["squaring 7"]
        assert queue.workers()
    finally:
        worker.stop(5)
        queue.obliterate()
        _close_hubs(queue.name)


def test_the_server_speaks_only_tls(tls_server: TLSRedis) -> None:
    plain = redis.Redis(host="127.0.0.1", port=tls_server.port, socket_connect_timeout=1, socket_timeout=1)
    try:
        with pytest.raises((redis.ConnectionError, redis.TimeoutError)):
            plain.ping()
    finally:
        plain.close()
    client = tls_server.client()
    try:
        assert client.ping()
    finally:
        client.close()


def test_a_worker_runs_end_to_end_on_a_tls_client(tls_server: TLSRedis) -> None:
    client = tls_server.client()
    try:
        run_end_to_end(Queue(f"tls-{secrets.token_hex(4)}", client=client))
    finally:
        client.close()


def test_a_worker_runs_end_to_end_on_a_tls_client_that_returns_bytes(tls_server: TLSRedis) -> None:
    client = redis.Redis(host="127.0.0.1", port=tls_server.port, ssl=True, ssl_ca_certs=str(tls_server.certs.ca))
    try:
        run_end_to_end(Queue(f"tls-{secrets.token_hex(4)}", client=client))
    finally:
        client.close()


def test_a_worker_runs_end_to_end_on_a_rediss_url(tls_server: TLSRedis) -> None:
    run_end_to_end(Queue(f"tls-{secrets.token_hex(4)}", url=tls_server.url))
