"""A `queuekit worker`-style process for the chaos run: ``python chaos_worker.py URL QUEUE JOURNAL FREEZE_MARK``.

It runs a queuekit Worker (run(): foreground, SIGTERM graceful) with one async handler, ``work``, whose behaviour
comes from the job's data:

    {"sleep": ms, "fail": p, "slow_first": ms, "freeze": true}

and keeps a journal (one append-only file per process, one ``os.write`` per line, so a ``kill -9`` loses at most
the line being written) of what really happened:

    C <job id> <lease token>                    this process received the job from a claim (or a hand-off)
    S <job id> <lease token>                    a handler run started
    X <job id> <lease token>                    the job was given back unstarted (shutdown, or its lease lost)
    R <job id> <lease token> ok|fail|cancel     a handler run ended (cancel = ttl timeout cancelled it)
    A <job id> <lease token> <kind> 0|1         the server's answer to the outcome report (1 = accepted)
    F <job id> <lease token> <pid>              this process froze itself (SIGSTOP) holding an unreported outcome

The freeze: the first process that finishes the run of the job marked ``freeze`` stops itself with SIGSTOP right
after the handler returned and before its outcome reaches Redis (the worst moment: a GC pause or a frozen VM).
The test's driver waits until the lease ran out and another worker took the job, then SIGCONTs it: the stale
outcome must be refused by the lease-token check in finish.lua.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import signal
import sys
import time
from typing import Any

from queuekit import Queue
from queuekit.errors import ConnectionFailed
from queuekit.worker import Kind, Outcome, Worker


def main() -> None:
    url, queue_name, journal_path, freeze_mark = sys.argv[1:5]
    concurrency = int(os.environ.get("QK_CHAOS_CONCURRENCY", "32"))
    lease = float(os.environ.get("QK_CHAOS_LEASE", "2.0"))
    logging.basicConfig(level=logging.WARNING, format=f"%(asctime)s {os.getpid()} %(levelname)s %(message)s")
    fd = os.open(journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def note(*parts: Any) -> None:
        os.write(fd, (" ".join(str(p) for p in parts) + "\n").encode())

    async def work(job: Any) -> dict[str, Any]:
        note("S", job.id, job._token)
        data = job.data
        try:
            if data.get("slow_first") and job.attempts_made <= 1:
                await asyncio.sleep(data["slow_first"] / 1000)
            if data.get("sleep"):
                await asyncio.sleep(data["sleep"] / 1000)
        except asyncio.CancelledError:
            note("R", job.id, job._token, "cancel")
            raise
        if random.random() < data.get("fail", 0):
            note("R", job.id, job._token, "fail")
            raise RuntimeError("flaky handler failed")
        note("R", job.id, job._token, "ok")
        # the result names the run that produced it: the final state must match exactly one accepted completion
        return {"token": job._token, "worker": job.worker, "started": job.started_at}

    class ChaosWorker(Worker):  # journals through the worker's public hooks
        def on_claim(self, job_id: str, token: str) -> None:
            note("C", job_id, token)

        def on_outcome(self, job: Any, token: str, outcome: Outcome, lost: bool) -> None:
            if outcome.kind is Kind.RELEASE:
                note("X", job.id, token)
            if job.data.get("freeze") and outcome.kind is Kind.OK and not lost:
                try:
                    mark = os.open(freeze_mark, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    return
                os.write(mark, json.dumps({"pid": os.getpid(), "id": job.id, "token": token,
                                           "worker": self.id}).encode())
                os.close(mark)
                note("F", job.id, token, os.getpid())
                os.kill(os.getpid(), signal.SIGSTOP)  # frozen here, its outcome queued but not yet reported

        def on_report(self, job_id: str, token: str, outcome: Outcome, accepted: bool) -> None:
            note("A", job_id, token, outcome.kind.value, int(accepted))

    # retention off: the test counts every job's final state from the zsets and job hashes. A worker started while
    # Redis restarts gets ConnectionFailed from the constructor's ping; retry as a process supervisor would.
    for attempt in range(100):
        try:
            queue = Queue(queue_name, url=url, keep_complete=None, keep_complete_age=None, keep_failed=None,
                          keep_failed_age=None)
            break
        except ConnectionFailed:
            if attempt == 99:
                raise
            time.sleep(0.2)
    worker = ChaosWorker(queue, {"work": work}, concurrency=concurrency, lease=lease, max_stalls=20,
                         shutdown_timeout=5.0)
    worker.run()


if __name__ == "__main__":
    main()
