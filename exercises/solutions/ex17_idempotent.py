"""Beyond the course (d) — A payment handler that is safe to run twice. (Reference solution.)"""

from __future__ import annotations

import os
import time

from queuekit import Queue, Worker, connect

#: seconds a job stays claimed without a heartbeat: after a worker dies, its job runs again this much later
LEASE = 1.0
#: seconds sending a receipt takes (the grader makes it long, to kill the worker while it waits)
RECEIPT_SECONDS = float(os.environ.get("RECEIPT_SECONDS", "0.1"))

#: one atomic step: set the payment's marker if it is not there yet and, only then, credit the account
APPLY_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX') then
  redis.call('INCRBY', KEYS[2], ARGV[1])
  return 1
end
return 0
"""


def send_receipt(job) -> None:
    """Given: pretend to e-mail a receipt (it takes RECEIPT_SECONDS)."""
    time.sleep(RECEIPT_SECONDS)


def apply_once(client, payment: str, account: str, amount: int) -> bool:
    """Credit ``amount`` to the account's balance once per ``payment``; True when it credited now, False when
    that payment had already been applied."""
    return client.eval(APPLY_ONCE, 2, f"paid:{payment}", f"balance:{account}", amount) == 1


def credit(job) -> str:
    """Handler of "credit" jobs: apply the payment once, then send the receipt."""
    data = job.data
    done_now = apply_once(connect(), data["payment"], data["account"], data["amount"])
    send_receipt(job)
    return "credited" if done_now else "already credited"


def run_worker() -> None:
    """One worker process: run "credit" jobs until stopped."""
    Worker(Queue("payments"), {"credit": credit}, lease=LEASE).run()


if __name__ == "__main__":
    run_worker()
