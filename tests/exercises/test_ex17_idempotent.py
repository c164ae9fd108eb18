"""Grader of exercise ex17_idempotent (beyond the course): a payment handler that is safe to run twice, checked
in one step, through a failed attempt and through a worker process killed in the middle of the job."""

from __future__ import annotations

import os
import signal

import fakeredis
import pytest
import redis
from exercise_support import Script, call, load, transcripts, wait_until

from queuekit import JobState, Queue, Worker

ex = load("ex17_idempotent.py", "APPLY_ONCE", "apply_once", "credit", "run_worker", "send_receipt", "LEASE")

#: commands that change data: the crash in test_apply_once_is_one_step happens right after the first of them
WRITES = {"SET", "SETNX", "SETEX", "PSETEX", "GETSET", "MSET", "INCR", "INCRBY", "INCRBYFLOAT", "DECR", "DECRBY",
          "HSET", "HSETNX", "HINCRBY", "SADD", "DEL", "EXPIRE", "PEXPIRE", "EVAL", "EVALSHA", "FCALL", "EXEC"}


def _balance(client, account: str) -> int:
    value = client.get(f"balance:{account}")
    return int(value) if value is not None else 0


def test_apply_once(client) -> None:
    first = call(ex.apply_once, client, "p-1", "alice", 30)
    assert first is True and _balance(client, "alice") == 30, (
        "apply_once(client, 'p-1', 'alice', 30) on an empty server should credit 30 to balance:alice and return "
        f"True; it returned {first!r} and balance:alice is {client.get('balance:alice')!r}")
    again = call(ex.apply_once, client, "p-1", "alice", 30)
    assert again is False and _balance(client, "alice") == 30, (
        "apply_once(client, 'p-1', 'alice', 30) a second time (the same payment) should credit nothing and return "
        f"False; it returned {again!r} and balance:alice is now {client.get('balance:alice')!r} (expected '30')")
    other = call(ex.apply_once, client, "p-2", "alice", 12)
    assert other is True and _balance(client, "alice") == 42, (
        "after p-1, apply_once(client, 'p-2', 'alice', 12) is another payment to the same account: it should "
        f"credit 12 (balance 42) and return True; it returned {other!r} and balance:alice is "
        f"{client.get('balance:alice')!r}. The marker must name the payment, not the account")
    bob = call(ex.apply_once, client, "p-3", "bob", 5)
    assert bob is True and _balance(client, "bob") == 5 and _balance(client, "alice") == 42, (
        "apply_once(client, 'p-3', 'bob', 5) should credit 5 to balance:bob only; balance:bob is "
        f"{client.get('balance:bob')!r}, balance:alice {client.get('balance:alice')!r} (expected '5' and '42')")


class _Crashing(fakeredis.FakeRedis):
    """A client whose worker 'dies' right after the first command that changes data: every later command fails."""

    crashed = False

    def execute_command(self, *args, **options):
        if self.crashed:
            raise redis.ConnectionError("the worker died here")
        reply = super().execute_command(*args, **options)
        if str(args[0]).upper() in WRITES:
            self.crashed = True
        return reply


def test_apply_once_is_one_step(store, client) -> None:
    crashing = _Crashing(server=store, decode_responses=True)
    try:
        ex.apply_once(crashing, "p-9", "carol", 20)
    except NotImplementedError:
        call(ex.apply_once, client, "p-9", "carol", 20)
    except redis.ConnectionError:
        pass  # the crash reached it
    marked = client.exists("paid:p-9") == 1
    after_crash = _balance(client, "carol")
    call(ex.apply_once, client, "p-9", "carol", 20)  # the job runs again on a fresh worker
    final = _balance(client, "carol")
    assert final == 20, (
        "a worker died right after the first command of apply_once(client, 'p-9', 'carol', 20) that changed data "
        f"(after it: marker paid:p-9 {'set' if marked else 'not set'}, balance:carol {after_crash}); the job then "
        f"ran again and balance:carol ended at {final}, expected 20. "
        + ("The credit was lost: the marker was set but the credit never happened. " if final == 0 else
           "The payment was credited twice. " if final > 20 else "")
        + "Setting the marker and crediting must be one atomic step: do both in the Lua script APPLY_ONCE, run "
        "with a single client.eval(...)")


def _receipts(monkeypatch: pytest.MonkeyPatch, client, fail_first: bool = False) -> list[int]:
    """Replace send_receipt: it records the balance of alice each time a receipt is sent."""
    sent: list[int] = []
    tries = []

    def send_receipt(job) -> None:
        tries.append(job)
        if fail_first and len(tries) == 1:
            raise RuntimeError("mail server down")
        sent.append(_balance(client, job.data["account"]))
    monkeypatch.setattr(ex, "send_receipt", send_receipt)
    return sent


def test_credit_handler(store, client, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = _receipts(monkeypatch, client)
    queue = Queue("payments")
    first = queue.add("credit", {"payment": "p-1", "account": "alice", "amount": 30})
    worker = Worker(queue, {"credit": ex.credit}, lease=5)
    try:
        worker.drain(timeout=20)
    except NotImplementedError:
        pass
    first.refresh()
    if first.state == JobState.FAILED and "NotImplementedError" in (first.error or ""):
        call(ex.credit, first)
    assert first.state == JobState.COMPLETE and first.result == "credited", (
        "the 'credit' job {'payment': 'p-1', 'account': 'alice', 'amount': 30} should complete with the result "
        f"'credited'; it is {first.state.value} with result {first.result!r} and error {first.error!r}")
    assert _balance(client, "alice") == 30, (
        f"after job p-1, balance:alice should be 30; it is {_balance(client, 'alice')}")
    assert sent == [30], (
        f"credit(job) should send one receipt after crediting the account (send_receipt saw balance:alice = 30); "
        f"the receipts sent saw balances {sent}. Apply the payment first, then send the receipt")
    duplicate = queue.add("credit", {"payment": "p-1", "account": "alice", "amount": 30})
    worker.drain(timeout=20)
    duplicate.refresh()
    assert duplicate.result == "already credited" and _balance(client, "alice") == 30, (
        f"a second job (id {duplicate.id}) for the same payment p-1 should credit nothing and return 'already "
        f"credited'; it returned {duplicate.result!r} and balance:alice is {_balance(client, 'alice')} (expected 30). "
        "The marker names the payment (job.data['payment']), not the job")
    other = queue.add("credit", {"payment": "p-2", "account": "bob", "amount": 7})
    worker.drain(timeout=20)
    other.refresh()
    assert other.result == "credited" and _balance(client, "bob") == 7, (
        "the job {'payment': 'p-2', 'account': 'bob', 'amount': 7} should credit 7 to balance:bob and return "
        f"'credited'; it returned {other.result!r} and balance:bob is {_balance(client, 'bob')}")


def test_failed_receipt_is_retried(store, client, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = _receipts(monkeypatch, client, fail_first=True)
    queue = Queue("payments")
    job = queue.add("credit", {"payment": "p-5", "account": "alice", "amount": 25}, attempts=2)
    Worker(queue, {"credit": ex.credit}, lease=5).drain(run_delayed=True, timeout=20)
    job.refresh()
    assert job.failures == 1 and sent, (
        "send_receipt failed the first time ('mail server down'): credit(job) should let that error out, so that "
        f"the attempt fails and queuekit runs the job again. The job has {job.failures} failed attempt(s), "
        f"{len(sent)} receipt(s) sent, result {job.result!r}")
    assert job.state == JobState.COMPLETE and job.result == "already credited" and _balance(client, "alice") == 25, (
        "the second attempt of the job (after the receipt failed) should credit nothing more and return 'already "
        f"credited'; the job is {job.state.value}, result {job.result!r}, balance:alice {_balance(client, 'alice')} "
        "(expected 25)")


def _stop(script: Script) -> int | None:
    """SIGTERM the learner's worker process (by its pid) and wait for it; SIGKILL if it does not stop."""
    if script.proc.poll() is None:
        os.kill(script.proc.pid, signal.SIGTERM)
    code = script.wait_exit(15)
    script.stop(signal.SIGKILL)
    return code


def test_killed_worker_credits_once(server_url, record_property) -> None:
    queue = Queue("payments", url=server_url)
    client = redis.Redis.from_url(server_url, decode_responses=True)
    first = Script("ex17_idempotent.py", server_url, env={"RECEIPT_SECONDS": "60"})
    second: Script | None = None
    try:
        job = queue.add("credit", {"payment": "p-7", "account": "dave", "amount": 30})
        wait_until(lambda: job.refresh().state == JobState.ACTIVE or not first.running, timeout=20, interval=0.1)
        record_property("learner_output", transcripts(first))
        ended = "" if first.running else f" (the process ended with status {first.proc.returncode})"
        assert job.state == JobState.ACTIVE, (
            "waited 20 s for `python ex17_idempotent.py` (a worker of the queue 'payments') to take a 'credit' "
            f"job; the job is still {job.state.value}{ended}. Does run_worker serve 'credit' jobs of the queue "
            f"'payments' and run until stopped?\nstderr:\n{first.error_tail()}")
        credited = wait_until(lambda: _balance(client, "dave") == 30, timeout=10, interval=0.1)
        assert credited, ("the worker took the job {'payment': 'p-7', 'account': 'dave', 'amount': 30} but within "
                          f"10 s balance:dave did not become 30 (it is {_balance(client, 'dave')}): credit(job) "
                          "should apply the payment first, then send the receipt (here the receipt takes 60 s)")
        os.kill(first.proc.pid, signal.SIGKILL)  # mid-job: credited, receipt not sent
        first.wait_exit(10)
        second = Script("ex17_idempotent.py", server_url, env={"RECEIPT_SECONDS": "0"})
        done = wait_until(lambda: job.refresh().state == JobState.COMPLETE, timeout=15, interval=0.1)
        record_property("learner_output", transcripts(first, second))
        assert done, ("the first worker was killed in the middle of the job; once its lease (LEASE = 1 s) ran out "
                      "a second worker process should have run the job again, but within 15 s the job did not "
                      f"complete (it is {job.state.value}). Did run_worker pass lease=LEASE?\n"
                      f"stderr of the second worker:\n{second.error_tail()}")
        assert job.stalls == 1 and job.result == "already credited", (
            "the job ran again after the killed worker's lease: it should find the payment applied and return "
            f"'already credited'; its result is {job.result!r} (stalls recorded: {job.stalls})")
        assert _balance(client, "dave") == 30, (
            "the payment p-7 of 30 was credited by the killed worker, then the job ran again: balance:dave should "
            f"still be 30, it is {_balance(client, 'dave')}")
        code = _stop(second)
        assert code == 0, (f"on SIGTERM the worker should stop gracefully and exit with status 0; it ended with "
                           f"{code}. run_worker should block in Worker(...).run(), which handles SIGTERM")
    finally:
        for script in (first, second):
            if script is not None:
                script.stop(signal.SIGKILL)
        record_property("learner_output", transcripts(*(s for s in (first, second) if s is not None)))
        client.close()
        queue.close()
