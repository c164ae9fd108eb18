"""Fixtures shared by the fault suites: ``cluster``, a 3-master Redis Cluster on free loopback ports for the session."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
import redis.cluster

from faults_support import RedisProcess, free_cluster_port


class Cluster:
    def __init__(self, servers: list[RedisProcess]) -> None:
        self.servers = servers
        self.ports = [s.port for s in servers]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}/0"

    def client(self) -> redis.cluster.RedisCluster:
        return redis.cluster.RedisCluster(host="127.0.0.1", port=self.ports[0], decode_responses=True)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("cluster")
    servers: list[RedisProcess] = []
    try:
        for k in range(3):
            for attempt in range(3):  # a port found free can be taken before redis-server binds it: try another
                port = free_cluster_port()
                node = RedisProcess(base / f"node-{k}-{attempt}", [
                    "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf",
                    "--cluster-node-timeout", "5000", "--save", "", "--appendonly", "no"], port=port)
                try:
                    servers.append(node.start(timeout=10))
                    break
                except RuntimeError:
                    node.stop()
                    if attempt == 2:
                        raise
        nodes = [f"127.0.0.1:{s.port}" for s in servers]
        subprocess.run(["redis-cli", "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + 30
        while True:  # every node agrees the cluster is up, with all slots covered
            states = [s.client().execute_command("CLUSTER", "INFO") for s in servers]
            if all("cluster_state:ok" in st and "cluster_slots_ok:16384" in st for st in states):
                break
            assert time.monotonic() < deadline, f"the cluster did not come up: {states}"
            time.sleep(0.1)
        yield Cluster(servers)
    finally:
        for s in servers:
            s.stop()
