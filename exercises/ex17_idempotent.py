"""Beyond the course (d) — A payment handler that is safe to run twice.

queuekit delivers every job at least once: when a worker dies (or freezes past its lease) in the middle of a job,
the lease runs out and another worker runs the same job again from the start. A handler that credits an account
would then credit it twice. Here you make the handler *idempotent*: running it twice has the effect of running it
once (lesson 14).

A "credit" job carries `{"payment": "p-17", "account": "alice", "amount": 30}`. The balance of an account is the
Redis key `balance:<account>` (an integer); a payment that has been applied is marked by the key `paid:<payment>`.

Write:

1. `APPLY_ONCE`: the text of a Lua script that does, in one atomic step, what `apply_once` needs: set the marker
   `KEYS[1]` only if it does not exist yet (`SET ... NX`) and, only when it was set, add `ARGV[1]` to the balance
   `KEYS[2]` (`INCRBY`); return 1 when it credited, 0 when the marker was already there.
2. `apply_once(client, payment, account, amount)`: run that script on `client` (`client.eval(script, 2, key1,
   key2, arg)`) with the marker of *this payment* and the balance of *this account*, and return True when it
   credited now, False when that payment had already been applied. Two separate commands would not do: a worker
   killed between them would either lose the credit or credit twice when the job runs again.
3. `credit(job)`: the handler of "credit" jobs: apply the payment once (on `connect()`, the server of
   `REDIS_URL`), *then* send the receipt with `send_receipt(job)` (given). Return `"credited"`, or
   `"already credited"` when the payment had been applied before. Let an error of `send_receipt` out: the attempt
   then fails and queuekit runs it again, and your marker keeps the account from being credited twice.
4. `run_worker()`: a `Worker` of the queue "payments" that runs "credit" jobs with `lease=LEASE`, until stopped
   (`.run()`; it stops gracefully on SIGTERM or Ctrl-C).

Try it (first start a server in another terminal: `queuekit server --port 6390`):

    REDIS_URL=redis://127.0.0.1:6390 RECEIPT_SECONDS=30 python exercises/ex17_idempotent.py

queue a payment from a Python shell (`REDIS_URL=redis://127.0.0.1:6390 python`, then `from queuekit import Queue;
Queue("payments").add("credit", {"payment": "p-1", "account": "alice", "amount": 30})`), stop the worker with
Ctrl-C twice while it "sends the receipt" (the second Ctrl-C gives the unfinished job back to the queue; a worker
killed outright, as the grader does with SIGKILL, leaves it to its lease), and start it again without
`RECEIPT_SECONDS=30`: the job runs again, its result is "already credited", and `connect().get("balance:alice")`
is still "30".
"""

from __future__ import annotations

import os
import time

from queuekit import Queue, Worker, connect

#: seconds a job stays claimed without a heartbeat: after a worker dies, its job runs again this much later
LEASE = 1.0
#: seconds sending a receipt takes (the grader makes it long, to kill the worker while it waits)
RECEIPT_SECONDS = float(os.environ.get("RECEIPT_SECONDS", "0.1"))

# TODO: the Lua script: SET the marker KEYS[1] with NX; only if that set it, INCRBY KEYS[2] by ARGV[1]; return 1 or 0
APPLY_ONCE = """
return 0
"""


def send_receipt(job) -> None:
    """Given: pretend to e-mail a receipt (it takes RECEIPT_SECONDS)."""
    time.sleep(RECEIPT_SECONDS)


def apply_once(client, payment: str, account: str, amount: int) -> bool:
    """Credit ``amount`` to the account's balance once per ``payment``; True when it credited now, False when
    that payment had already been applied."""
    # TODO: run APPLY_ONCE with the keys paid:<payment> and balance:<account>, and the amount
    raise NotImplementedError("apply_once")


def credit(job) -> str:
    """Handler of "credit" jobs: apply the payment once, then send the receipt."""
    # TODO: apply_once on connect() with the job's payment, account and amount; then send_receipt(job)
    raise NotImplementedError("credit")


def run_worker() -> None:
    """One worker process: run "credit" jobs until stopped."""
    # TODO: a Worker of the queue "payments" with the handler of "credit" and lease=LEASE; run it
    raise NotImplementedError("run_worker")


if __name__ == "__main__":
    run_worker()
