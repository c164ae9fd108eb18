"""Hostile input: arbitrary data, options, ids and type names thrown at the public API (hypothesis).

Whatever comes in, only documented errors (``queuekit.errors.*``) come out, and Redis stays consistent: a refused
call writes nothing, an accepted one stores exactly the jobs it returns and the counts agree. Runs on the embedded
server and on a private real redis-server. Queue names and job ids take every character the API accepts:
obliterating a queue leaves every other queue as it was, and jobs whose ids spell each other's keys each keep
their own line, log and history. Also: a job naming an unregistered handler or script is refused, no pickle
anywhere in the package, and credentials never appear in a log line, a repr or an error message.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queuekit
import queuekit.queue
from redis.backoff import NoBackoff
from redis.retry import Retry

from faults_support import RedisProcess, closed_port, python_env
from queuekit import Queue, Subscriber, Worker, connect, errors, publish
from queuekit.connection import twin
from queuekit.errors import ConnectionFailed, HandlerNotFound, QueuekitError
from queuekit.keys import QUEUES
from queuekit.patterns import Registry, ScriptQueue

PACKAGE = Path(queuekit.__file__).resolve().parent
SETTINGS = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))

# ---- strategies ----------------------------------------------------------------------------------------------

# text holding a lone surrogate (what decoding bad bytes with surrogateescape leaves): a str Redis cannot be sent
with_surrogate = st.builds(lambda a, c, b: a + c + b, st.text(max_size=8), st.integers(0xD800, 0xDFFF).map(chr),
                           st.text(max_size=8))
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                      st.text(max_size=30), with_surrogate)
not_json = st.one_of(st.binary(max_size=10), st.sets(st.integers(), max_size=3), st.builds(object),
                     st.datetimes(), st.complex_numbers(), st.just(Ellipsis), st.functions())
leaf = st.one_of(json_leaf, json_leaf, json_leaf, not_json)
data_values = st.recursive(leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.one_of(st.text(max_size=10), st.text(max_size=10), st.integers(), st.none(), with_surrogate),
                    inner, max_size=4)), max_leaves=12)
anything = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40), with_surrogate,
                     st.binary(max_size=8), st.lists(st.integers(), max_size=3),
                     st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
                     st.timedeltas(), st.datetimes(), st.builds(object))
type_names = st.one_of(st.text(max_size=220), st.sampled_from(["work", "a:b", "{x}", "wait:x", "\x00", "é" * 201]),
                       anything)
job_ids = st.one_of(st.none(), st.text(max_size=140), st.from_regex(r"[a-z][a-z0-9\-_.:@]{0,20}", fullmatch=True),
                    st.integers(), anything)
priorities = st.one_of(st.integers(-2000, 2000), st.sampled_from(["low", "normal", "medium", "high", "critical",
                                                                  "urgent", ""]), anything)
durations = st.one_of(st.integers(-10, 10**13), st.floats(), st.timedeltas(), st.datetimes(), anything,
                      st.datetimes(timezones=st.just(timezone.utc)))
backoffs = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.sampled_from(["fixed", "exponential", "x"]),
                     st.fixed_dictionaries({"type": st.sampled_from(["fixed", "exponential", "nope", None])},
                                           optional={"delay": durations, "jitter": anything}),
                     st.dictionaries(st.text(max_size=6), anything, max_size=3), anything)
options = st.fixed_dictionaries({}, optional={"priority": priorities, "delay": durations,
                                              "attempts": st.one_of(st.integers(-3, 50), anything),
                                              "backoff": backoffs, "ttl": st.one_of(st.none(), durations),
                                              "job_id": job_ids,
                                              "remove_on_complete": st.one_of(st.booleans(), anything)})

# ---- backends ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["embedded", "redis"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[redis.Redis]:
    if request.param == "embedded":
        yield fakeredis.FakeRedis(server=fakeredis.FakeServer(version=(7, 0)), decode_responses=True)
        return
    server = RedisProcess(tmp_path_factory.mktemp("hostile"), ["--save", "", "--appendonly", "no"]).start()
    client = server.client()
    try:
        yield client
    finally:
        client.close()
        server.stop()


def snapshot(client: redis.Redis) -> dict[str, Any]:
    """Every key with its type and value: what a refused call must leave exactly as it was."""
    out: dict[str, Any] = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == "string":
            out[key] = client.get(key)
        elif kind == "hash":
            out[key] = client.hgetall(key)
        elif kind == "zset":
            out[key] = client.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            out[key] = sorted(client.smembers(key))
        elif kind == "list":
            out[key] = client.lrange(key, 0, -1)
    return out


def fresh_queue(client: redis.Redis, name: str = "hostile") -> Queue:
    client.flushdb()
    return Queue(name, client=client, events=False)


def stored_jobs(queue: Queue) -> int:
    return len([k for k in queue.client.scan_iter(count=1000) if k.startswith(queue.keys.job(""))])


def check_consistent(queue: Queue, expected: int) -> None:
    counts = queue.counts()
    assert sum(counts.values()) == expected == stored_jobs(queue), (counts, expected)


def call(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, BaseException | None]:
    try:
        return fn(*args, **kwargs), None
    except QueuekitError as exc:
        return None, exc
    # anything else propagates: hypothesis reports it as a failure with the input that caused it


# ---- properties ----------------------------------------------------------------------------------------------


@SETTINGS
@given(job_type=type_names, data=data_values, opts=options)
def test_add_refuses_with_queuekit_errors_and_writes_nothing(store: redis.Redis, job_type: Any, data: Any,
                                                            opts: dict[str, Any]) -> None:
    queue = fresh_queue(store)
    before = snapshot(store)
    job, error = call(queue.add, job_type, data, **opts)
    if error is not None:
        assert snapshot(store) == before, f"a refused add wrote to Redis: {error}"
        return
    assert job.id and queue.get_job(job.id) is not None
    assert queue.get_job(job.id).data == ({} if data is None else json.loads(json.dumps(data)))
    check_consistent(queue, 1)


@SETTINGS
@given(job_type=type_names, data=data_values, opts=options)
def test_fluent_save_refuses_with_queuekit_errors_and_writes_nothing(store: redis.Redis, job_type: Any, data: Any,
                                                                     opts: dict[str, Any]) -> None:
    queue = fresh_queue(store)
    before = snapshot(store)

    def build_and_save() -> Any:
        job = queue.create(job_type, data)
        for name in ("priority", "delay", "attempts", "backoff", "ttl", "remove_on_complete"):
            if name in opts:
                getattr(job, name)(opts[name])
        if opts.get("job_id") is not None:
            job.set_id(opts["job_id"])
        return job.save()

    job, error = call(build_and_save)
    if error is not None:
        assert snapshot(store) == before, f"a refused save wrote to Redis: {error}"
        return
    assert queue.get_job(job.id) is not None
    check_consistent(queue, 1)


bulk_items = st.lists(st.one_of(
    st.tuples(type_names, data_values),
    st.builds(lambda t, d, o: {"type": t, "data": d, **o}, type_names, data_values, options),
    st.dictionaries(st.text(max_size=8), anything, max_size=3),
    anything), max_size=6)


@SETTINGS
@given(items=bulk_items)
def test_add_bulk_is_all_or_nothing(store: redis.Redis, items: list[Any]) -> None:
    queue = fresh_queue(store)
    before = snapshot(store)
    jobs, error = call(queue.add_bulk, items)
    if error is not None:
        assert snapshot(store) == before, f"a refused add_bulk wrote to Redis: {error}"
        return
    created = {j.id for j in jobs if not j.duplicate}
    assert len(jobs) == len(items) and all(queue.get_job(j.id) is not None for j in jobs)
    check_consistent(queue, len(created))


@SETTINGS
@given(job_id=anything, state=st.one_of(st.sampled_from(["inactive", "active", "delayed", "complete", "failed"]),
                                        anything),
       job_type=st.one_of(st.none(), type_names), start=anything, count=anything, desc=anything)
def test_reading_never_raises_anything_undocumented(store: redis.Redis, job_id: Any, state: Any, job_type: Any,
                                                    start: Any, count: Any, desc: Any) -> None:
    queue = fresh_queue(store)
    queue.add("work", {"n": 1})
    queue.add("work", {"n": 2}, delay=10_000)
    before = snapshot(store)
    found, _ = call(queue.get_job, job_id)
    assert found is None or found.id == str(job_id)
    listed, _ = call(queue.jobs, state, job_type, start, count, desc)
    assert listed is None or isinstance(listed, list)
    assert snapshot(store) == before
    check_consistent(queue, 2)


@SETTINGS
@given(name=st.one_of(st.sampled_from(["send-mail", "resize"]), type_names), data=data_values,
       path=st.one_of(st.sampled_from(["reports/daily", "os.system", "builtins:eval"]), type_names),
       params=data_values)
def test_registry_and_script_queue_refuse_what_is_not_registered(store: redis.Redis, name: Any, data: Any,
                                                                 path: Any, params: Any) -> None:
    queue = fresh_queue(store)
    registry = Registry(queue, process=False)
    registry.add_worker("send-mail", lambda job: None, lambda d: f"mail {len(d)}")
    scripts = ScriptQueue("hostile-scripts", client=store)
    scripts.jobs.events_enabled = False
    scripts.register("reports/daily")(lambda p: p)
    before = snapshot(store)
    job_id, error = call(registry.submit_job, name, data)
    if name != "send-mail":
        assert error is not None, f"submit_job accepted unregistered worker {name!r}"
    if error is not None:
        assert snapshot(store) == before
    else:
        assert registry.get_job_by_id(job_id).data["title"] == f"mail {len({} if data is None else data)}"
    before = snapshot(store)
    job, error = call(scripts.queue, path, params)
    if path != "reports/daily":
        assert isinstance(error, HandlerNotFound), f"an unregistered script {path!r} was queued"
    if error is not None:
        assert snapshot(store) == before


@pytest.mark.parametrize("name", [["send-mail"], {"a": 1}, {1, 2}])
def test_unhashable_names_are_refused_with_documented_errors(store: redis.Redis, name: Any) -> None:
    """Found by the property above: a list/dict/set as a worker name or script path raised TypeError."""
    queue = fresh_queue(store)
    registry = Registry(queue, process=False)
    registry.add_worker("send-mail", lambda job: None, lambda d: "t")
    scripts = ScriptQueue("hostile-unhashable", client=store)
    before = snapshot(store)
    with pytest.raises(QueuekitError):
        registry.submit_job(name, {})
    with pytest.raises(HandlerNotFound):
        scripts.queue(name, {})
    assert snapshot(store) == before


def test_a_job_naming_an_unregistered_handler_or_script_is_refused_at_run_time(store: redis.Redis) -> None:
    queue = fresh_queue(store)
    scripts = ScriptQueue("hostile-run", client=store)
    scripts.register("ok")(lambda p: "ran")
    # a job written by someone else naming a script that was never registered (e.g. an import path)
    forged = scripts.jobs.add(ScriptQueue.JOB_TYPE, {"script": "os:system", "params": {"cmd": "true"}})
    fine = scripts.queue("ok", {})
    scripts.worker(lease=5).drain(timeout=20)
    assert scripts.jobs.get_job(fine.id).result == "ran"
    bad = scripts.jobs.get_job(forged.id)
    assert bad.state == "failed" and "no script registered at 'os:system'" in bad.error
    registry = Registry(queue, process=False)
    with pytest.raises(HandlerNotFound):
        registry.submit_job("never-registered", {})
    with pytest.raises(HandlerNotFound):
        registry.worker_for("never-registered")
    scripts.jobs.obliterate()


# ---- names and ids that spell other keys ---------------------------------------------------------------------

queue_names = st.one_of(st.sampled_from(["*", "?", "[a]", "queue[1]", "queue1", "\\", "a\\*", "[^a]", "a b", "é",
                                         "x:job", "x"]),
                        st.text(min_size=1, max_size=20).filter(lambda s: s.isprintable() and not set(s) & set("{}")))
id_stems = st.text(st.one_of(st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd")), st.sampled_from("-_.:@")),
                   min_size=1, max_size=12)


@contextmanager
def queues_on(store: redis.Redis) -> Iterator[Callable[[str], Queue]]:
    """``make(name)`` builds a queue on a client of the store's server that is closed afterwards, with the
    connection each queue keeps for adding jobs. (That connection never goes back to its pool's count: a hundred
    queues made on the store's own client would exhaust its pool.)"""
    client = twin(store)
    made: list[Queue] = []

    def make(name: str) -> Queue:
        made.append(Queue(name, client=client, events=False))
        return made[-1]

    try:
        yield make
    finally:
        for queue in made:
            queue.close()
        client.close()


@SETTINGS
@given(names=st.lists(queue_names, min_size=2, max_size=4, unique=True))
def test_obliterating_a_queue_leaves_every_other_queue_as_it_was(store: redis.Redis, names: list[str]) -> None:
    store.flushdb()
    with queues_on(store) as make:
        queues = [make(name) for name in names]
        for queue in queues:
            queue.add("work", {"queue": queue.name}).log("a line")
        others = {k: v for k, v in snapshot(store).items() if k != QUEUES and not k.startswith(queues[0].keys.base)}
        queues[0].obliterate()
    assert {k: v for k, v in snapshot(store).items() if k != QUEUES} == others
    assert store.smembers(QUEUES) == set(names[1:])


@settings(SETTINGS, max_examples=25)
@given(stem=id_stems, failing=st.sets(st.integers(0, 6)))
def test_ids_that_spell_each_others_keys_keep_their_own_lines_and_histories(store: redis.Redis, stem: str,
                                                                            failing: set[int]) -> None:
    store.flushdb()
    family = [stem, f"{stem}:log", f"{stem}:errs", f"log:{stem}", f"errs:{stem}", f"job:{stem}", f"{stem}:job"]
    bad = {family[n] for n in failing}

    def handler(job: Any) -> str:
        job.log(f"run of {job.id}")
        if job.id in bad:
            raise ValueError(f"{job.id} failed")
        return str(job.id)

    with queues_on(store) as make:
        queue = make("hostile")
        added = [i for i in dict.fromkeys(family) if call(queue.add, "work", job_id=i)[1] is None]
        Worker(queue, {"work": handler}).drain(timeout=20)
        assert sorted(j.id for j in queue.jobs("failed", count=50)) == sorted(i for i in added if i in bad)
        assert sorted(j.id for j in queue.jobs("complete", count=50)) == sorted(i for i in added if i not in bad)
        for job_id in added:
            job = queue.get_job(job_id)
            assert job.logs == [f"run of {job_id}"]
            assert [a["error"] for a in job.failed_attempts] == ([f"{job_id} failed"] if job_id in bad else [])
        check_consistent(queue, len(added))

# ---- Redis away, loading, or refusing: queuekit's errors, still catchable as redis-py's and the builtins ---------


def impatient_client(server: RedisProcess) -> redis.Redis:
    """A client that does not retry a failed call (redis-py's default retries spend seconds on each one)."""
    return connect(server.url, retry=Retry(NoBackoff(), 0))


def test_every_call_while_redis_is_down_raises_a_queuekit_connection_error(tmp_path: Path) -> None:
    # Given a queue on a private Redis holding a job, and the course's helpers on the same server
    server = RedisProcess(tmp_path / "redis", ["--save", "", "--appendonly", "no"]).start()
    queue = Queue("outage", client=impatient_client(server))
    job = queue.add("work", {"n": 1})
    registry = Registry(queue, process=False)
    registry.add_worker("mail", lambda j: None, lambda d: "a title")
    scripts = ScriptQueue("outage-scripts", client=queue.client)
    scripts.register("daily")(lambda p: p)
    calls: dict[str, Any] = {
        "add": lambda: queue.add("work", {"n": 2}),
        "add_bulk": lambda: queue.add_bulk([("work", {"n": 3}), ("work", {"n": 4})]),
        "save": lambda: queue.create("work").save(),
        "counts": queue.counts, "types": queue.types, "workers": queue.workers,
        "get_job": lambda: queue.get_job(job.id), "jobs": lambda: queue.jobs("inactive"),
        "retry": lambda: queue.retry(job.id), "retry_failed": queue.retry_failed,
        "remove": lambda: queue.remove(job.id), "clean": queue.clean, "obliterate": queue.obliterate,
        "pause": queue.pause, "resume": queue.resume, "paused": lambda: queue.paused,
        "job.refresh": job.refresh, "job.logs": lambda: job.logs, "job.failed_attempts": lambda: job.failed_attempts,
        "job.log": lambda: job.log("a line"), "job.progress": lambda: job.progress(1, 2),
        "job.remove": job.remove, "job.retry": job.retry,
        "publish": lambda: publish("outage-news", "hello", queue.client),
        "Subscriber.run": Subscriber("outage-news", print, client=queue.client).run,
        "Registry.submit_job": lambda: registry.submit_job("mail", {}),
        "Registry.get_job_by_id": lambda: registry.get_job_by_id(job.id),
        "ScriptQueue.queue": lambda: scripts.queue("daily", {}),
    }
    try:
        # When the server goes away
        server.stop()

        # Then every call fails with one error of all three families, naming the server, redis-py's error its cause
        for name, call in calls.items():
            with pytest.raises(QueuekitError) as failed:
                call()
            error = failed.value
            assert isinstance(error, ConnectionFailed), (name, repr(error))
            assert isinstance(error, redis.ConnectionError) and isinstance(error, ConnectionError), name
            assert f"127.0.0.1:{server.port}" in str(error), (name, str(error))
            assert isinstance(error.__cause__, redis.ConnectionError), (name, repr(error.__cause__))
        # ... and a wait that gives up does so with a queuekit error too (ConnectionFailed, or WaitTimeout if it
        # rides out the outage until its timeout)
        with pytest.raises(QueuekitError):
            job.wait(timeout=2)
    finally:
        queue.close()
        server.stop()


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path_factory.mktemp("refusing"), ["--save", "", "--appendonly", "no"]).start()
    try:
        yield server
    finally:
        server.stop()


def test_a_redis_still_loading_its_data_raises_a_queuekit_error_of_the_loading_kind(
        private_redis: RedisProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a queue that has added a job (its connections are open)
    queue = Queue("loading", client=impatient_client(private_redis), events=False)
    job = queue.add("work")

    # When Redis answers every call as it does while it loads its data after a restart ("-LOADING ..."; faked on
    # the client's side of the socket: a data set big enough to catch a real server loading takes long to build)
    def loading(*args: Any, **kwargs: Any) -> Any:
        raise redis.exceptions.BusyLoadingError("Redis is loading the dataset in memory")

    monkeypatch.setattr(redis.connection.AbstractConnection, "read_response", loading)

    # Then each call raises queuekit's error of that kind: also a connection error, and redis-py's loading error
    for call in (lambda: queue.add("work"), queue.counts, lambda: queue.get_job(job.id), queue.pause):
        with pytest.raises(QueuekitError) as failed:
            call()
        assert isinstance(failed.value, errors.ServerLoading) and isinstance(failed.value, ConnectionFailed)
        assert isinstance(failed.value, ConnectionError) and isinstance(failed.value, redis.exceptions.BusyLoadingError)
        assert f"127.0.0.1:{private_redis.port}" in str(failed.value) and "loading" in str(failed.value)
    monkeypatch.undo()
    queue.obliterate()


def test_a_full_redis_refuses_with_a_queuekit_error_reply(private_redis: RedisProcess) -> None:
    # Given a queue on a Redis that has reached its memory limit (and evicts nothing)
    queue = Queue("full", client=impatient_client(private_redis), events=False)
    queue.add("work")
    admin = private_redis.client()
    admin.config_set("maxmemory", "1")
    try:
        # When a job is added, or the queue paused
        for call in (lambda: queue.add("work", {"n": 2}), queue.pause):
            with pytest.raises(QueuekitError) as refused:
                call()

            # Then Redis's refusal is a queuekit error, still redis-py's ResponseError, naming the server
            assert isinstance(refused.value, errors.ErrorReply) and isinstance(refused.value, redis.ResponseError)
            assert "maxmemory" in str(refused.value) and f"127.0.0.1:{private_redis.port}" in str(refused.value)
    finally:
        admin.config_set("maxmemory", "0")
        admin.close()
    queue.obliterate()


# ---- no pickle -----------------------------------------------------------------------------------------------

UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "marshal", "jsonpickle"}


def test_no_pickle_anywhere_in_the_package() -> None:
    offenders = []
    for path in PACKAGE.rglob("*"):
        if path.suffix == ".py":
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name.split(".")[0] for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module.split(".")[0]]
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
                    names = [a.value for a in node.args if isinstance(a, ast.Constant)]
                offenders += [f"{path.relative_to(PACKAGE)}:{node.lineno} imports {n}" for n in names
                              if n in UNSAFE_MODULES]
        elif path.is_file() and path.suffix in (".lua", ".toml", ".cfg", ".txt"):
            if re.search(r"\bpickle\b", path.read_text(encoding="utf-8", errors="replace")):
                offenders.append(f"{path.relative_to(PACKAGE)} mentions pickle")
    # every use of a serializer in the package is json (a textual check backs up the import check)
    for path in PACKAGE.rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"(?<![\w.])(pickle|dill|cloudpickle|marshal)\.(loads?|dumps?|Unpickler|Pickler)\b", line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}")
    assert offenders == []


# ---- credentials ---------------------------------------------------------------------------------------------

SECRET = "s3cret-Pa55w0rd-XYZ"


def assert_no_secret(where: str, text: str) -> None:
    assert SECRET not in text, f"the password appears in {where}: {text[:300]}"


def everything_about(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) + repr(exc) + str(exc)


def test_credentials_of_an_unreachable_server_never_appear(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    port = closed_port()
    for url in (f"redis://user:{SECRET}@127.0.0.1:{port}/0", f"redis://:{SECRET}@127.0.0.1:{port}",
                f"redis+cluster://user:{SECRET}@127.0.0.1:{port}"):
        for attempt in (lambda: connect(url), lambda: Queue("creds", url=url)):
            started = time.monotonic()
            with pytest.raises(ConnectionFailed) as info:
                attempt()
            assert time.monotonic() - started < 15
            assert f"127.0.0.1:{port}" in str(info.value)
            assert_no_secret("the error", everything_about(info.value))
    env = python_env()
    cli = subprocess.run([sys.executable, "-m", "queuekit.cli", "--url", f"redis://u:{SECRET}@127.0.0.1:{port}/0",
                          "info"], capture_output=True, text=True, env=env, timeout=60)
    assert cli.returncode != 0 and "127.0.0.1" in cli.stderr
    assert_no_secret("the CLI's output", cli.stdout + cli.stderr)
    assert_no_secret("the logs", caplog.text + "".join(repr(r.args) for r in caplog.records))


def test_credentials_of_a_real_acl_user_never_appear(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = RedisProcess(tmp_path / "redis", ["--save", "", "--appendonly", "no"]).start()
    admin = server.client()
    admin.execute_command("ACL", "SETUSER", "qk-user", "on", f">{SECRET}", "~qk:*", "&qk:*", "+@all")
    url = f"redis://qk-user:{SECRET}@127.0.0.1:{server.port}/0"
    worker = None
    texts: list[tuple[str, str]] = []
    try:
        queue = Queue("creds", url=url)
        job = queue.add("work", {"n": 2})
        failing = queue.add("work", {"n": "x"})
        worker = Worker(queue, {"work": lambda j: j.data["n"] * 2 + 0}, concurrency=2).start()
        assert job.wait(10) == 4
        queue.on("job complete", lambda *a: None)
        for obj in (queue, queue.client, queue.sync_client(), queue.async_client(), worker, job,
                    queue.get_job(job.id), queue.client.connection_pool, queue.events):
            texts.append((f"repr of {type(obj).__name__}", repr(obj)))
        texts.append(("queue html", queue._repr_html_()))
        texts.append(("worker html", worker._repr_html_()))
        texts.append(("queue.workers()", json.dumps(queue.workers())))
        time.sleep(0.3)
        texts.append(("failed job", repr(queue.get_job(failing.id).__dict__)))
        # the server goes away while the worker runs: its reconnect warnings must not show the password either
        server.stop()
        time.sleep(1.0)
        with pytest.raises(redis.ConnectionError) as info:
            queue.counts()
        texts.append(("error while down", everything_about(info.value)))
        server.start()
        admin.execute_command("ACL", "SETUSER", "qk-user", "on", f">{SECRET}", "~qk:*", "&qk:*", "+@all")
        later = queue.add("work", {"n": 5})
        assert later.wait(15) == 10
        # wrong password: a clear error, without the password tried
        with pytest.raises(ConnectionFailed) as wrong:
            connect(f"redis://qk-user:{SECRET}-wrong@127.0.0.1:{server.port}/0")
        texts.append(("wrong password error", everything_about(wrong.value)))
        # the worker CLI with the URL on its command line, at DEBUG
        module = tmp_path / "creds_handlers.py"
        module.write_text("handlers = {'work': lambda job: job.data['n']}\n")
        cli = subprocess.run([sys.executable, "-m", "queuekit.cli", "--url", url, "worker", "creds_handlers",
                              "--queue", "creds", "--burst", "-v"], capture_output=True, text=True,
                             env=python_env(), cwd=tmp_path, timeout=60)
        texts.append(("worker CLI output", cli.stdout + cli.stderr))
        assert cli.returncode == 0, cli.stderr[-500:]
    finally:
        if worker is not None:
            worker.stop(5)
        with queuekit.queue._hubs_lock:
            hubs = [queuekit.queue._hubs.pop(k) for k in list(queuekit.queue._hubs) if k[1] == "creds"]
        for hub in hubs:
            hub.close()
        admin.close()
        server.stop()
    texts.append(("logs", caplog.text + "".join(repr(r.args) for r in caplog.records)))
    assert any("Redis unreachable" in r.getMessage() or "reconnect" in r.getMessage() for r in caplog.records), \
        "the outage was not logged (the test would prove nothing)"
    for where, text in texts:
        assert_no_secret(where, text)
