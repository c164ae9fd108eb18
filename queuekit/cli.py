"""The ``queuekit`` command: demo, worker, info, jobs, retry, server, learn."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .queue import Queue

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``queuekit`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "learn":
        from .learn.cli import main as learn_main

        return int(learn_main(argv[1:]) or 0)
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the CLI reports errors in one line, never a traceback
        from .errors import QueuekitError

        if isinstance(exc, (QueuekitError, ImportError, ValueError)):
            print(f"queuekit: error: {exc}", file=sys.stderr)
            return 1
        raise


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="queuekit", description="Job queues on Redis: learn them, then use them.")
    parser.add_argument("--url", help="Redis URL (default: $REDIS_URL, else the embedded server)")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("demo", help="run a short demonstration on the embedded server")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("worker", help="run a worker process")
    p.add_argument("target", help="MODULE[:ATTR]; ATTR (default 'handlers') is a dict {type: handler}, a Worker, "
                                  "a patterns.Registry or a patterns.ScriptQueue")
    p.add_argument("--queue", default="default", help="queue name (default: default)")
    p.add_argument("--concurrency", "-c", type=int, default=1)
    p.add_argument("--lease", type=float, default=30.0, help="lease in seconds (default 30)")
    p.add_argument("--max-stalls", type=int, default=1)
    p.add_argument("--shutdown-timeout", type=float, default=30.0,
                   help="seconds to finish running jobs on SIGTERM/SIGINT (default 30)")
    p.add_argument("--burst", action="store_true", help="process what is ready, then exit")
    p.add_argument("--verbose", "-v", action="store_true")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("info", help="counts per state of each queue, live workers, job types no live worker serves")
    p.add_argument("--queue", action="append", help="only this queue (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON object: queue name -> paused, counts, workers, "
                                                       "unserved ({type: jobs waiting})")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("jobs", help="list the jobs of a queue in a state")
    p.add_argument("queue")
    p.add_argument("--state", default="failed")
    p.add_argument("--type")
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--count", type=int, default=20)
    p.set_defaults(func=cmd_jobs)

    p = sub.add_parser("retry", help="put failed jobs back in line")
    p.add_argument("queue")
    p.add_argument("ids", nargs="*")
    p.add_argument("--all", action="store_true", help="every failed job")
    p.set_defaults(func=cmd_retry)

    p = sub.add_parser("server", help="run an embedded Redis-compatible server for several processes")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=6390, help="TCP port (default 6390; 0 picks a free one)")
    p.set_defaults(func=cmd_server)

    sub.add_parser("learn", help="the course: exercises, hints and grading (see 'queuekit learn --help')")
    return parser


# ---- commands --------------------------------------------------------------------------------------------------

def cmd_server(args: argparse.Namespace) -> int:
    from .server import EmbeddedServer

    server = EmbeddedServer(args.host, args.port).start()
    print(f"queuekit embedded server listening; use it with:\n  export REDIS_URL={server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _load_target(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    name = attr or "handlers"
    if not hasattr(module, name):
        raise ImportError(f"{module_name} has no attribute {name!r} (expected a dict of handlers, a Worker, "
                          "a Registry or a ScriptQueue)")
    return getattr(module, name)


def cmd_worker(args: argparse.Namespace) -> int:
    from .patterns import Registry, ScriptQueue
    from .worker import Worker

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    target = _load_target(args.target)
    options = {"concurrency": args.concurrency, "lease": args.lease, "max_stalls": args.max_stalls,
               "shutdown_timeout": args.shutdown_timeout}
    if isinstance(target, Worker):
        worker = target
    elif isinstance(target, Registry):
        worker = Worker(target.queue, {n: target._runner(n) for n in target.handlers}, **options)
    elif isinstance(target, ScriptQueue):
        options["concurrency"] = 1
        worker = target.worker(**{k: v for k, v in options.items() if k != "concurrency"})
    elif isinstance(target, dict):
        worker = Worker(_queue_when_reachable(args.queue, args.url), target, **options)
    else:
        raise ValueError(  # noqa: TRY004 - a bad --target value, reported as such by main()
            f"{args.target} is a {type(target).__name__}; expected a dict of handlers, a Worker, a Registry or a "
            "ScriptQueue")
    if args.burst:
        done = worker.drain()
        print(f"processed {done} jobs")
        return 0
    worker.run()
    return 0


def _queue_when_reachable(name: str, url: str | None) -> Any:
    """The queue, once its Redis answers: a worker started while Redis is down waits for it, as it would if Redis
    went down later (Ctrl-C or SIGTERM ends the wait)."""
    from .errors import ConnectionFailed
    from .queue import Queue

    pause = 0.5
    while True:
        try:
            return Queue(name, url=url)
        except ConnectionFailed as exc:
            logging.getLogger("queuekit.cli").warning("%s; retrying in %.1f s", exc, pause)
            time.sleep(pause)
            pause = min(5.0, pause * 2)


def cmd_info(args: argparse.Namespace) -> int:
    from .connection import connect
    from .keys import QUEUES
    from .queue import Queue

    client = connect(args.url)
    names = args.queue or sorted(client.smembers(QUEUES))
    reports = {name: _report(Queue(name, client=client)) for name in names}
    if args.json:
        print(json.dumps(reports, indent=2))
        return 0
    if not reports:
        print("no queues yet")
    for name, report in reports.items():
        _print_report(name, report)
    return 0


def _report(queue: Queue) -> dict[str, Any]:
    """What ``queuekit info`` says about one queue."""
    return {"paused": queue.paused, "counts": queue.counts(), "workers": queue.workers(),
            "unserved": queue.unserved()}


def _print_report(name: str, report: dict[str, Any]) -> None:
    paused = " (paused)" if report["paused"] else ""
    print(f"{name}{paused}: " + "  ".join(f"{state} {n}" for state, n in report["counts"].items()))
    for w in report["workers"]:
        age = (time.time() * 1000 - w["last_seen"]) / 1000
        print(f"  worker {w['id']}  types {','.join(w['types'])}  concurrency {w['concurrency']}  "
              f"running {w['running']}  completed {w['completed']}  failed {w['failed']}  "
              f"seen {age:.1f}s ago")
    if not report["workers"]:
        print("  no live workers")
    if report["unserved"]:
        print("  no live worker serves: " + ", ".join(f"{t} ({n} waiting)" for t, n in report["unserved"].items()))


def cmd_jobs(args: argparse.Namespace) -> int:
    from .queue import Queue

    queue = Queue(args.queue, url=args.url)
    for job in queue.jobs(args.state, type=args.type, start=args.start, count=args.count):
        error = f"  error: {job.error}" if job.error else ""
        print(f"#{job.id}  {job.type}  {job.state}  attempts {job.attempts_made}{error}")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    from .queue import Queue

    queue = Queue(args.queue, url=args.url)
    if args.all:
        ids = queue.retry_failed()
    else:
        ids = [i for i in args.ids if queue.retry(i)]
    print(f"{len(ids)} job(s) back in line" + (f": {', '.join(ids)}" if ids else ""))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo (queuekit.demo) on ``--url``'s server, else the embedded one."""
    from .demo import run

    return run(args.url)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
