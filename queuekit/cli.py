"""The ``queuekit`` command: its parser, its one-line errors, and the verbs that run things (demo, worker, server).

The operator's verbs (info, jobs, job show, pause, resume, clean, empty, obliterate, remove, retry) live in
:mod:`queuekit.cli_admin`; the logging set-up in :mod:`queuekit.cli_logs`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``queuekit`` command; returns the exit status.

    Every error ends in one line on stderr and a non-zero status, never a traceback: a refused request or an
    unreachable server (1), a port already taken (1), Ctrl-C (130), a closed output such as ``| head`` (141).
    """
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
        if args.command not in ("demo", "server", "worker"):  # the worker says it in its log
            private, line = _the_server(args.url)
            print(f"queuekit: {'warning: ' if private else ''}{line}", file=sys.stderr)
            if args.verbose:
                from .cli_logs import configure

                configure(verbose=True, level=logging.WARNING)
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # here, not at exit: a reader gone by now is reported like any other closed pipe
        return status
    except KeyboardInterrupt:
        print("queuekit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _output_closed()
    except Exception as exc:  # the CLI reports errors in one line, never a traceback
        return _one_line(exc)


def _one_line(exc: Exception) -> int:
    from .errors import QueuekitError

    if isinstance(exc, (QueuekitError, ImportError, ValueError, OSError)):
        print(f"queuekit: error: {exc}", file=sys.stderr)
        return 1
    raise exc


def _output_closed() -> int:
    """stdout's reader went away (``queuekit jobs | head -1``): say so on stderr and stop writing, so that Python's
    own flush at exit finds nothing to write into the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no real file (a test's capture): nothing to redirect
        pass
    print("queuekit: output closed early (broken pipe)", file=sys.stderr)
    return 141


def _the_server(url: str | None) -> tuple[bool, str]:
    """Which server a command works on (host:port/db, never a password), as a line to show; True when it is a
    private in-process one that nobody else sees (then the line is a warning)."""
    from .connection import resolve_url

    target = resolve_url(url)
    if target is None:
        return True, ("no REDIS_URL and no --url: this is a private in-process server; it sees nothing of other "
                      "processes (start `queuekit server` and set REDIS_URL, or pass --url)")
    return False, f"on {_server_of(target)}"


def _server_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    db = parts.path.strip("/") or "0"
    try:
        port = parts.port or 6379
    except ValueError:
        port = 6379
    return f"Redis at {parts.hostname or '127.0.0.1'}:{port}/{db}"


def _globals(*, in_verb: bool) -> argparse.ArgumentParser:
    """The options every verb takes, before or after its name (after it, an option absent leaves the one given
    before it in place)."""
    def default(value: Any) -> Any:
        return argparse.SUPPRESS if in_verb else value

    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("global options (before or after the verb)")
    g.add_argument("--url", default=default(None), help="Redis URL (default: $REDIS_URL, else a private in-process "
                                                        "server no other process sees)")
    g.add_argument("--queue", "-q", action="append", default=default(None), metavar="NAME",
                   help="queue name (default: default; info: every queue; repeatable for info)")
    g.add_argument("--json", action="store_true", default=default(False), help="print JSON instead of text")
    g.add_argument("--verbose", "-v", action="store_true", default=default(False),
                   help="queuekit's own DEBUG log (not redis-py's or asyncio's)")
    return p


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="queuekit", description="Job queues on Redis: learn them, then use them.",
                                     parents=[_globals(in_verb=False)])
    sub = parser.add_subparsers(dest="command", metavar="VERB")
    common = [_globals(in_verb=True)]

    def verb(name: str, func: Any, help: str, **kw: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, parents=common, **kw)
        p.set_defaults(func=func)
        return p

    demo = verb("demo", cmd_demo, "run a short demonstration on the embedded server")
    demo.add_argument("--dashboard", action="store_true", help="then serve the dashboard on the demo's server")
    from .cli_web import dashboard_options

    dashboard_options(demo)
    _worker_parser(verb("worker", cmd_worker, "run a worker process"))
    p = verb("server", cmd_server, "run an embedded Redis-compatible server for several processes")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=6390, help="TCP port (default 6390; 0 picks a free one)")
    _admin_parsers(verb)
    from .cli_web import add_parsers

    add_parsers(verb)
    sub.add_parser("learn", help="the course: exercises, hints and grading (see 'queuekit learn --help')")
    return parser


def _worker_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", help="MODULE[:ATTR]; ATTR (default 'handlers') is a dict {type: handler}, a Worker, "
                                  "a patterns.Registry or a patterns.ScriptQueue")
    p.add_argument("--concurrency", "-c", type=int, default=1)
    p.add_argument("--lease", type=float, default=30.0, help="lease in seconds (default 30)")
    p.add_argument("--max-stalls", type=int, default=1)
    p.add_argument("--shutdown-timeout", type=float, default=30.0,
                   help="seconds to finish running jobs on SIGTERM/SIGINT (default 30)")
    p.add_argument("--burst", action="store_true", help="process what is ready, then exit")
    p.add_argument("--log-format", choices=("text", "json"), default="text",
                   help="text lines (default) or one JSON object per line: time, level, logger, message, and the "
                        "job's job_id, job_type, queue, attempt, duration_ms, error")


def _admin_parsers(verb: Any) -> None:
    from . import cli_admin as admin

    p = verb("info", admin.cmd_info, "counts per state of each queue, live workers, job types no live worker serves")
    p.add_argument("--interval", type=float, metavar="N", help="refresh every N seconds until Ctrl-C")
    p = verb("jobs", admin.cmd_jobs, "list the jobs of a queue in a state")
    p.add_argument("queue_arg", nargs="?", metavar="QUEUE", help="the queue (or --queue; default: default)")
    p.add_argument("--state", default="failed", choices=admin.STATES,
                   help=f"one of {', '.join(admin.STATES)} (default: failed)")
    p.add_argument("--type", help="only jobs of this type")
    p.add_argument("--start", type=int, default=0, help="skip this many (default 0)")
    p.add_argument("--count", type=int, default=20, help="at most this many (default 20)")
    p = verb("job", None, "one job: 'job show ID'")
    shows = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = shows.add_parser("show", help="data, options, state, progress, result, attempts with tracebacks, log lines",
                         parents=[_globals(in_verb=True)])
    s.add_argument("id")
    s.set_defaults(func=admin.cmd_job_show)
    verb("pause", admin.cmd_pause, "stop workers from starting new jobs of the queue (running ones finish)")
    verb("resume", admin.cmd_resume, "let workers start jobs of the queue again")
    p = verb("clean", admin.cmd_clean, "remove finished jobs of one state (all of them unless --keep or --older-than)")
    p.add_argument("state", choices=("complete", "failed"))
    p.add_argument("--keep", type=int, metavar="N", help="keep the newest N")
    p.add_argument("--older-than", type=int, metavar="MS", help="only those finished more than MS ms ago")
    verb("empty", admin.cmd_empty, "remove the waiting and delayed jobs of the queue (running and finished ones stay)")
    p = verb("obliterate", admin.cmd_obliterate, "delete every job and key of the queue (asks for confirmation)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask (required without a terminal)")
    p = verb("remove", admin.cmd_remove, "delete jobs in any state, with their logs and history")
    p.add_argument("ids", nargs="+", metavar="ID")
    p = verb("retry", admin.cmd_retry, "put failed jobs back in line: the IDs given, or --all")
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--all", action="store_true", help="every failed job")


# ---- commands --------------------------------------------------------------------------------------------------

def cmd_server(args: argparse.Namespace) -> int:
    """Serve the embedded store over TCP until Ctrl-C or SIGTERM."""
    from .cli_admin import CliError
    from .server import EmbeddedServer

    try:
        server = EmbeddedServer(args.host, args.port).start()
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; choose another port with "
                       "--port (0 picks a free one)") from None
    print(f"queuekit embedded server listening; use it with:\n  export REDIS_URL={server.url}", flush=True)
    try:
        server.serve_forever()  # Ctrl-C: main() says so in one line
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
    from .cli_admin import queue_name
    from .cli_logs import configure
    from .patterns import Registry, ScriptQueue
    from .worker import Worker

    configure(verbose=args.verbose, fmt=args.log_format)
    private, line = _the_server(args.url)
    logging.getLogger("queuekit.cli").log(logging.WARNING if private else logging.INFO, "%s", line)
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
        worker = Worker(_queue_when_reachable(queue_name(args), args.url), target, **options)
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


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo (queuekit.demo) on ``--url``'s server, else the embedded one; the demo tells its own story, so
    the worker's log shows only errors (all of it with ``-v``)."""
    from .cli_logs import configure
    from .demo import run

    configure(verbose=args.verbose, level=logging.DEBUG if args.verbose else logging.ERROR)

    status = run(args.url)
    if not args.dashboard:
        return status
    from .cli_web import serve_dashboard

    return serve_dashboard(args, "demo")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
