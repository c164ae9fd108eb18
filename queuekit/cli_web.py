"""The ``queuekit metrics`` verb: Prometheus's ``/metrics`` for every queue of a server, without the dashboard."""

from __future__ import annotations

import argparse
import threading
from typing import Any

__all__ = ["add_parsers", "cmd_metrics"]


def add_parsers(verb: Any) -> None:
    """Add this module's verbs with ``verb(name, func, help)`` (see queuekit.cli)."""
    p = verb("metrics", cmd_metrics, "serve Prometheus metrics of every queue at /metrics until Ctrl-C")
    p.add_argument("--port", type=int, default=9790, help="TCP port (default 9790)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")


def cmd_metrics(args: argparse.Namespace) -> int:
    """Serve ``/metrics`` (queuekit.metrics) until Ctrl-C; a taken port ends in one line."""
    from .cli_admin import CliError
    from .connection import connect
    from .metrics import serve

    client = connect(args.url)
    try:
        server = serve(client, port=args.port, host=args.host)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; choose another port with "
                       "--port") from None
    print(f"queuekit metrics at http://{args.host}:{server.server_port}/metrics", flush=True)
    try:
        threading.Event().wait()  # Ctrl-C: main() says so in one line
    finally:
        server.shutdown()
    return 0
