"""Least privilege: queuekit runs end to end as a Redis ACL user limited to its key prefix ``qk:*``, its channels
``qk:*`` and the commands it needs (QUEUEKIT_ACL below, the line the README shows; test_readme_shows_this_acl checks they agree), and a command outside
that list is refused.

Runs twice: on a private redis-server (fresh script cache, so the SCRIPT LOAD path is exercised, and a clean
ACL LOG) and on the shared real Redis at 127.0.0.1:6379 (database 4, a user and queue with unique names, both
deleted afterwards; nothing else is touched).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from faults_support import RedisProcess

import queuekit.queue
from queuekit import Queue, Worker
from queuekit.errors import JobFailed

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]

#: every command queuekit sends, directly or from its Lua scripts (a script's commands are checked too)
QUEUEKIT_COMMANDS = (
    # connection: SELECT only when the URL names a database other than 0 (redis-py also tries CLIENT SETINFO on
    # Redis 7.2+ and ignores a refusal: allow "client|setinfo" there to keep ACL LOG quiet; 7.0 does not know it)
    "ping", "select",
    # scripts: EVALSHA, and SCRIPT LOAD after a restart emptied the script cache (no plain EVAL)
    "evalsha", "script|load",
    # producer and management
    "sadd", "srem", "smembers", "hget", "hgetall", "hset", "hdel", "lrange", "rpush", "ltrim", "zcard", "zrange",
    "zrangebyscore", "scan", "del", "get",
    # worker: wake-ups, registry
    "blpop", "zadd", "zrem", "zremrangebyscore", "set",
    # inside the Lua scripts (pexpire: the history buckets; zscore: promote, set_priority, move)
    "hmget", "hincrby", "exists", "incr", "incrby", "llen", "publish", "zpopmin", "pexpire", "zscore",
    # the hand-off of a job to an idle worker (its offer, its id in the idle lists, its inbox)
    "lpop", "lpush", "lrem", "getdel",
    # events
    "subscribe", "unsubscribe",
)
#: QK_ACL_DROP=cmd runs the test without one command (to show each one is needed: the test must then fail)
QUEUEKIT_ACL = ("on >{password} resetkeys ~qk:* resetchannels &qk:* -@all "
                + " ".join(f"+{c}" for c in QUEUEKIT_COMMANDS if c != os.environ.get("QK_ACL_DROP")))


@pytest.fixture(params=["private", pytest.param("shared", marks=pytest.mark.realredis)])
def admin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[redis.Redis, int, int]]:
    """(admin client, port, db) of the server to lock down."""
    if request.param == "private":
        server = RedisProcess(tmp_path / "redis", ["--save", "", "--appendonly", "no"]).start()
        client = server.client()
        try:
            yield client, server.port, 0
        finally:
            client.close()
            server.stop()
        return
    client = redis.Redis(port=6379, db=4, decode_responses=True, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        client.close()
        pytest.skip(f"no real Redis on 127.0.0.1:6379: {exc}")
    try:
        yield client, 6379, 4
    finally:
        client.close()


@pytest.fixture
def acl_user(admin: tuple[redis.Redis, int, int]) -> Iterator[tuple[str, str, int, int]]:
    client, port, db = admin
    name, password = f"qk-acl-{secrets.token_hex(4)}", secrets.token_hex(16)
    client.execute_command("ACL", "SETUSER", name, *QUEUEKIT_ACL.format(password=password).split())
    try:
        yield name, password, port, db
    finally:
        client.execute_command("ACL", "DELUSER", name)
        assert name not in client.execute_command("ACL", "USERS")


def close_hubs(name: str) -> None:
    with queuekit.queue._hubs_lock:
        hubs = [queuekit.queue._hubs.pop(k) for k in list(queuekit.queue._hubs) if k[1] == name]
    for hub in hubs:
        hub.close()


def denials(admin: redis.Redis, user: str) -> list[dict[str, Any]]:
    entries = admin.execute_command("ACL", "LOG", "128")
    out = []
    for entry in entries:
        fields = entry if isinstance(entry, dict) else dict(zip(entry[0::2], entry[1::2]))
        if fields.get("username") == user:
            out.append(fields)
    return out


def test_queuekit_runs_as_a_least_privilege_user(admin: tuple[redis.Redis, int, int],
                                                 acl_user: tuple[str, str, int, int]) -> None:
    admin_client = admin[0]
    user, password, port, db = acl_user
    url = f"redis://{user}:{password}@127.0.0.1:{port}/{db}"
    name = f"acl-{secrets.token_hex(4)}"
    queue = Queue(name, url=url)
    worker = None
    try:
        done: list[str] = []
        queue.on("job complete", lambda job_id, result: done.append(job_id))
        ok = queue.add("square", {"x": 7})
        flaky = queue.add("square", {"x": "boom"}, attempts=2, backoff=10)
        later = queue.create("square", {"x": 3}).delay(200).priority("high").save()
        queue.add_bulk([("square", {"x": i}) for i in range(20)])
        queue.pause()
        queue.resume()

        def square(job: Any) -> int:
            job.log("squaring %s", job.data["x"])
            job.progress(1, 1)
            return int(job.data["x"]) ** 2

        worker = Worker(queue, {"square": square}, concurrency=3, lease=3).start()
        assert ok.wait(10) == 49 and later.wait(10) == 9
        with pytest.raises(JobFailed):
            flaky.wait(10)
        deadline = time.monotonic() + 10
        while queue.counts()["complete"] < 22:
            assert time.monotonic() < deadline, queue.counts()
            time.sleep(0.05)
        assert queue.workers() and queue.types() == ["square"]
        assert [j.id for j in queue.jobs("failed")] == [flaky.id]
        assert queue.retry(flaky.id) == 1
        assert queue.get_job(ok.id).logs == ["squaring 7"]
        assert queue.clean("complete", keep=5) == 17
        worker.stop(5)
        worker = None
        deadline = time.monotonic() + 5
        while len(done) < 22 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(done) >= 22, "events did not reach the subscriber"
        assert queue.obliterate() > 0 and queue.counts() == dict.fromkeys(queue.counts(), 0)
        close_hubs(name)  # the event subscription ends (UNSUBSCRIBE) before the ACL LOG is read
        time.sleep(0.2)
        assert denials(admin_client, user) == [], "queuekit needed a command or key outside its ACL"

        # and nothing else is allowed
        locked = redis.Redis(host="127.0.0.1", port=port, db=db, username=user, password=password,
                             decode_responses=True)
        try:
            for refused in (lambda: locked.set("not-queuekit:key", "1"),       # key outside qk:*
                            lambda: locked.get("session:42"),
                            lambda: locked.flushdb(),                          # command outside the list
                            lambda: locked.keys("*"),
                            lambda: locked.config_get("requirepass"),
                            lambda: locked.eval("return 1", 0),                # no arbitrary Lua
                            lambda: locked.publish("other-channel", "x")):     # channel outside qk:*
                with pytest.raises(redis.exceptions.NoPermissionError):
                    refused()
            assert locked.get("qk:nothing-here") is None  # while queuekit's own commands still work
        finally:
            locked.close()
    finally:
        if worker is not None:
            worker.stop(2)
        close_hubs(name)
        for key in admin_client.scan_iter(match=f"qk:{{{name}}}:*", count=1000):
            admin_client.delete(key)
        admin_client.srem("qk:queues", name)


@pytest.mark.parametrize("doc", ["README.md", "docs/acl.md"])
def test_the_docs_show_this_acl(doc: str) -> None:
    """The ACL line a reader copies from the README or the ACL guide grants exactly the commands this test proves
    sufficient."""
    text = (Path(__file__).resolve().parents[2] / doc).read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("ACL SETUSER queuekit "))
    granted = {word[1:] for word in line.split() if word.startswith("+")}
    assert granted == set(QUEUEKIT_COMMANDS), (
        f"README grants {sorted(granted - set(QUEUEKIT_COMMANDS))} too many and misses "
        f"{sorted(set(QUEUEKIT_COMMANDS) - granted)}")
    assert "~qk:*" in line and "&qk:*" in line and "-@all" in line
