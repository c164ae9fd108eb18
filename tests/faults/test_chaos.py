"""Chaos run: many jobs with retries, delays and ttl timeouts through several worker processes while a driver
kill -9s workers and starts new ones, restarts Redis once, and freezes one worker past its lease.

Size: ``QK_CHAOS_JOBS`` (default 50,000). The run fails if it takes longer than ``QK_CHAOS_BUDGET`` seconds
(default 240).

Redis runs privately on a free loopback port with ``--appendonly yes --appendfsync always --save ""``: the restart
in this test is about connections breaking and a server coming back, not about losing data. With no persistence a
restart would wipe every job (that is a deployment error, not a queue fault), and with ``--save`` only, the writes
after the last snapshot would be lost. AOF with fsync on every write makes the restarted server hold exactly what
the workers were told had been written. The clean stop is SIGTERM (as ``redis-cli shutdown``), which flushes the
AOF; ``SHUTDOWN NOSAVE`` would be wrong here.

What is checked at the end, from Redis (zsets and each job hash) and the workers' journals (see chaos_worker.py):

* every job is in exactly one final state: its hash says complete or failed, it is in exactly that zset and in no
  other line (wait, delayed, active); none is lost;
* a complete job's result names the lease token of the run that produced it, and that run is the job's last claim
  (same worker and start time as the hash): the accepted completion is the current owner's, exactly one;
* no job has two accepted completions (the servers' answers logged by the workers);
* a job whose handler completed more than once had a lease really expire (a stall or an interruption is in its
  attempt history for each extra run);
* the frozen worker's late outcome was refused;
* no job failed without ever running (a handler start in the journals), and none sat active with no handler
  running it: every job a worker that was never killed or frozen received was started or given back, and no such
  worker's lease ran out on a job it never received (a claim whose reply it lost).
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import redis

from queuekit import Queue
from faults_support import RedisProcess, env_int, proc_state, spawn, stop_process

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

QUEUE = "chaos"
WORKERS = 4


def job_specs(n: int, seed: int = 20261122) -> list[dict[str, Any]]:
    """The job mix: plain, flaky with 3 attempts, delayed, ttl timeouts; one job is the freeze target."""
    rng = random.Random(seed)
    specs: list[dict[str, Any]] = []
    for i in range(n):
        r = rng.random()
        spec: dict[str, Any] = {"type": "work", "data": {"i": i}}
        if r < 0.15:  # flaky: each run fails with probability 0.4, 3 attempts, fixed backoff
            spec["data"]["fail"] = 0.4
            spec.update(attempts=3, backoff={"type": "fixed", "delay": 20})
        elif r < 0.25:  # delayed up to 5 s
            spec["delay"] = rng.randint(1, 5000)
        elif r < 0.29:  # first run overruns its ttl; with 2 attempts the retry succeeds
            spec["data"]["slow_first"] = 300
            spec.update(ttl=100, attempts=2)
        elif r < 0.30:  # overruns its ttl with one attempt: fails for good with "TTL exceeded"
            spec["data"]["sleep"] = 300
            spec["ttl"] = 100
        else:
            spec["data"]["sleep"] = rng.choice([0, 0, 0, 1, 2, 5])
        specs.append(spec)
    freeze_at = min(n - 1, max(0, n // 20))
    # critical priority: once the sweep puts it back in line it is taken again at once, not after the whole backlog
    specs[freeze_at] = {"type": "work", "data": {"i": freeze_at, "sleep": 1500, "freeze": True},
                        "priority": "critical"}
    return specs


class Journals:
    """What the workers' journals say (see chaos_worker.py), read once."""

    def __init__(self, pids: dict[Path, int]) -> None:
        self.runs: list[tuple[str, str, str]] = []
        self.acks: list[tuple[str, str, str, int]] = []
        self.claims: dict[int, set[tuple[str, str]]] = defaultdict(set)  # pid -> (job id, token) received
        self.starts: set[tuple[str, str]] = set()
        self.given_back: set[tuple[str, str]] = set()
        for path, pid in pids.items():
            if path.exists():
                for line in path.read_text().splitlines():
                    self._read(line.split(), pid)

    def _read(self, parts: list[str], pid: int) -> None:
        if len(parts) == 4 and parts[0] == "R":
            self.runs.append((parts[1], parts[2], parts[3]))
        elif len(parts) == 5 and parts[0] == "A":
            self.acks.append((parts[1], parts[2], parts[3], int(parts[4])))
        elif len(parts) == 3 and parts[0] == "C":
            self.claims[pid].add((parts[1], parts[2]))
        elif len(parts) == 3 and parts[0] == "S":
            self.starts.add((parts[1], parts[2]))
        elif len(parts) == 3 and parts[0] == "X":
            self.given_back.add((parts[1], parts[2]))

    def unattended(self, spared: set[int]) -> list[str]:
        """Jobs a worker that was never killed nor frozen received and neither started nor gave back."""
        return [f"job {job_id} (token {token}) received by worker pid {pid}, never started nor given back"
                for pid in spared for job_id, token in sorted(self.claims[pid] - self.starts - self.given_back)]


def test_chaos(tmp_path: Path) -> None:
    n = env_int("QK_CHAOS_JOBS", 50_000)
    budget = env_int("QK_CHAOS_BUDGET", 240)
    kill_every = float(os.environ.get("QK_CHAOS_KILL_EVERY", "3.0"))
    lease = float(os.environ.get("QK_CHAOS_LEASE", "2.0"))
    server = RedisProcess(tmp_path / "redis", ["--save", "", "--appendonly", "yes", "--appendfsync", "always"])
    server.start()
    procs: dict[int, Any] = {}
    journals: list[Path] = []
    pids: dict[Path, int] = {}
    killed: set[int] = set()
    freeze_mark = tmp_path / "freeze.json"
    rng = random.Random(7)
    started = time.monotonic()

    def start_worker() -> None:
        k = len(journals)
        journal = tmp_path / f"journal-{k}.txt"
        journals.append(journal)
        proc = spawn("chaos_worker.py", server.url, QUEUE, str(journal), str(freeze_mark),
                     log=tmp_path / f"worker-{k}.log")
        procs[proc.pid] = proc
        pids[journal] = proc.pid

    client = server.client(socket_timeout=5, socket_connect_timeout=1)
    try:
        queue = Queue(QUEUE, client=client, events=True)
        specs = job_specs(n)
        ids: list[str] = []
        for at in range(0, n, 2000):
            ids += [job.id for job in queue.add_bulk(specs[at:at + 2000])]  # type: ignore[misc]
        enqueued = time.monotonic() - started
        assert len(set(ids)) == n
        for _ in range(WORKERS):
            start_worker()

        kills = restarts = 0
        down = 0.0
        freeze: dict[str, Any] | None = None
        resumed_at: float | None = None
        next_kill = time.monotonic() + kill_every
        next_kill_at = 0.08  # and at every 8% of progress, so even a small run sees several kills
        finished = 0
        while True:
            now = time.monotonic()
            if now - started > budget:
                pytest.fail(f"chaos run over its {budget}s budget: {finished}/{n} jobs finished; "
                            f"counts {safe_counts(queue)}")
            try:
                finished = client.zcard(queue.keys.complete) + client.zcard(queue.keys.failed)
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                finished = finished
            if finished >= n and (freeze is None or resumed_at is not None or not freeze_mark.exists()):
                break
            # freeze: the worker stopped itself holding an outcome; resume it once another worker owns the job
            if freeze is None and freeze_mark.exists():
                try:
                    freeze = json.loads(freeze_mark.read_text())
                    freeze["seen"] = now
                except ValueError:
                    freeze = None  # being written; read it on the next turn
            if freeze is not None and resumed_at is None:
                frozen_pid = freeze["pid"]
                owner = client.hmget(queue.keys.job(freeze["id"]), "state", "worker")
                if proc_state(frozen_pid) == "T" and owner[1] not in (None, freeze["worker"]):
                    os.kill(frozen_pid, signal.SIGCONT)
                    resumed_at = now
                    freeze["taken_by"], freeze["state_at_resume"] = owner[1], owner[0]
                elif now - freeze["seen"] > 60:
                    pytest.fail(f"frozen worker's job {freeze['id']} was not taken over within 60 s: {owner}")
            # kill -9 a random worker (never the frozen one while the freeze scenario runs), start a new one
            if now >= next_kill or finished >= next_kill_at * n:
                in_freeze = freeze is not None and (resumed_at is None or now - resumed_at < 3)
                victims = [pid for pid, p in procs.items() if p.poll() is None
                           and not (in_freeze and pid == freeze["pid"])]
                if victims:
                    victim = rng.choice(victims)
                    os.kill(victim, signal.SIGKILL)
                    killed.add(victim)
                    procs.pop(victim).wait(10)
                    kills += 1
                    start_worker()
                next_kill = now + kill_every
                next_kill_at += 0.08
            # restart Redis once, when about 40% of the jobs are done
            if restarts == 0 and finished >= 0.4 * n:
                client.connection_pool.disconnect()
                down = server.restart()
                restarts += 1
            for pid, p in list(procs.items()):  # a worker that died on its own is a failure of the queue
                if p.poll() is not None:
                    pytest.fail(f"worker {pid} exited by itself with status {p.returncode}; see {tmp_path}")
            time.sleep(0.05)
        drained = time.monotonic() - started

        for p in list(procs.values()):
            stop_process(p)
        exits = {pid: p.returncode for pid, p in procs.items()}
        assert all(code == 0 for code in exits.values()), f"workers did not stop cleanly: {exits}"
        procs.clear()

        spared = set(pids.values()) - killed - {freeze["pid"] if freeze else -1}
        report = verify(client, queue, ids, Journals(pids), spared)
        checked = time.monotonic() - started
        summary = (f"chaos: jobs={n} complete={report['complete']} failed={report['failed']} kills={kills} "
                   f"restarts={restarts} (down {down:.1f}s) freezes={1 if freeze else 0} "
                   f"handler_runs={report['runs']} reruns_after_expired_lease={report['reruns']} "
                   f"duplicate_completions={report['duplicates']} lost={report['lost']} "
                   f"failed_without_ever_running={report['never_ran']} "
                   f"active_without_a_running_handler={report['unattended']} "
                   f"stale_refused={report['stale_refused']} enqueue={enqueued:.1f}s drained={drained:.1f}s "
                   f"checked={checked:.1f}s")
        print("\n" + summary)
        assert freeze is not None and resumed_at is not None, "the freeze scenario did not happen"
        frozen_acks = [a for a in report["acks"] if a[0] == freeze["id"] and a[1] == freeze["token"]]
        assert frozen_acks == [(freeze["id"], freeze["token"], "ok", 0)], (
            f"the frozen worker's late completion of job {freeze['id']} was not refused: {frozen_acks}; {freeze}")
        assert kills >= 5 and restarts == 1
        assert checked < budget, f"the chaos run took {checked:.0f}s, over its {budget}s budget"
        assert report["problems"] == [], "\n".join(report["problems"][:30])
        assert report["lost"] == 0 and report["duplicates"] == 0
        assert report["never_ran"] == 0 and report["unattended"] == 0
    finally:
        for p in procs.values():
            stop_process(p, timeout=5)
        client.close()
        server.stop()


def safe_counts(queue: Queue) -> Any:
    try:
        return queue.counts()
    except redis.RedisError as exc:
        return f"unavailable ({exc})"


def verify(client: redis.Redis, queue: Queue, ids: list[str], journals: Journals, spared: set[int]) -> dict[str, Any]:
    keys = queue.keys
    complete = set(client.zrange(keys.complete, 0, -1))
    failed = set(client.zrange(keys.failed, 0, -1))
    finished = complete | failed
    elsewhere = set(client.zrange(keys.active, 0, -1))
    for t in queue.types():
        elsewhere |= set(client.zrange(keys.wait(t), 0, -1)) | set(client.zrange(keys.delayed(t), 0, -1))
    runs, acks = journals.runs, journals.acks
    started_ids = {job_id for job_id, _token in journals.starts}
    received = {pid: {job_id for job_id, _token in claims} for pid, claims in journals.claims.items()}
    ok_runs: dict[str, Counter[str]] = defaultdict(Counter)
    for job_id, token, kind in runs:
        if kind == "ok":
            ok_runs[job_id][token] += 1
    accepted_ok: dict[str, list[str]] = defaultdict(list)
    stale_refused = 0
    for job_id, token, kind, applied in acks:
        if kind == "ok" and applied:
            accepted_ok[job_id].append(token)
        elif not applied:
            stale_refused += 1

    problems: list[str] = journals.unattended(spared)
    unattended = len(problems)
    lost = duplicates = reruns = never_ran = 0
    done = {"complete": 0, "failed": 0}
    for at in range(0, len(ids), 1000):
        chunk = ids[at:at + 1000]
        pipe = client.pipeline(transaction=False)
        for job_id in chunk:
            pipe.hmget(keys.job(job_id), "state", "result", "worker", "started", "error")
            pipe.lrange(keys.errs(job_id), 0, -1)
        replies = pipe.execute()
        for k, job_id in enumerate(chunk):
            (state, result, worker, started, error), errs = replies[2 * k], replies[2 * k + 1]
            places = (job_id in complete) + (job_id in failed) + (job_id in elsewhere)
            if state not in ("complete", "failed") or places != 1 or job_id not in finished or (
                    state == "complete") != (job_id in complete):
                lost += 1
                problems.append(f"job {job_id}: state {state!r}, in complete={job_id in complete} "
                                f"failed={job_id in failed} other line={job_id in elsewhere}")
                continue
            done[state] += 1
            history = [json.loads(e) for e in errs]
            expired = sum(1 for e in history if e.get("kind") in ("stalled", "interrupted"))
            if state == "failed" and job_id not in started_ids:
                never_ran += 1
                problems.append(f"job {job_id}: failed ({error}) without a handler ever starting")
            for pid in stalled_by_spared(history, spared):
                if job_id not in received.get(pid, set()):
                    unattended += 1
                    problems.append(f"job {job_id}: its lease ran out at worker pid {pid}, which never received "
                                    "it (a claim whose reply was lost)")
            n_ok = sum(ok_runs[job_id].values())
            if state == "complete":
                res = json.loads(result)
                if res["worker"] != worker or str(res["started"]) != started:
                    duplicates += 1
                    problems.append(f"job {job_id}: its result comes from run {res} but its last claim is "
                                    f"worker {worker} at {started}: a stale completion overwrote the owner's")
                if ok_runs[job_id][res["token"]] != 1:
                    problems.append(f"job {job_id}: result token {res['token']} matches "
                                    f"{ok_runs[job_id][res['token']]} handler runs, expected exactly one")
                if any(t != res["token"] for t in accepted_ok[job_id]) or len(accepted_ok[job_id]) > 1:
                    duplicates += 1
                    problems.append(f"job {job_id}: accepted completions {accepted_ok[job_id]}, final "
                                    f"{res['token']}")
            elif accepted_ok[job_id]:
                duplicates += 1
                problems.append(f"job {job_id}: failed ({error}) but a completion was accepted: "
                                f"{accepted_ok[job_id]}")
            if n_ok > 1:
                reruns += 1
                if n_ok - 1 > expired:
                    duplicates += 1
                    problems.append(f"job {job_id}: handler completed {n_ok} times with only {expired} expired "
                                    f"leases or interruptions in its history")
    return {"complete": done["complete"], "failed": done["failed"], "lost": lost, "duplicates": duplicates,
            "never_ran": never_ran, "unattended": unattended,
            "runs": len(runs), "reruns": reruns, "problems": problems, "acks": acks, "stale_refused": stale_refused}


def stalled_by_spared(history: list[dict[str, Any]], spared: set[int]) -> list[int]:
    """The pids of workers never killed nor frozen that a job's stalls name ("worker host:pid:x lost the job")."""
    pids = []
    for entry in history:
        words = str(entry.get("error", "")).split()
        if entry.get("kind") == "stalled" and len(words) > 1 and words[0] == "worker":
            parts = words[1].rsplit(":", 2)
            if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) in spared:
                pids.append(int(parts[1]))
    return pids
