"""The web verbs: ``queuekit dashboard`` (the dashboard and its JSON API) and ``queuekit metrics`` (Prometheus's
``/metrics`` for every queue of a server, without the dashboard)."""

from __future__ import annotations

import argparse
import threading
from typing import Any

__all__ = ["add_parsers", "cmd_dashboard", "cmd_metrics", "dashboard_options", "serve_dashboard"]


def add_parsers(verb: Any) -> None:
    """Add this module's verbs with ``verb(name, func, help)`` (see queuekit.cli)."""
    dashboard_options(verb("dashboard", cmd_dashboard, "serve the web dashboard and its JSON API until Ctrl-C"))
    p = verb("metrics", cmd_metrics, "serve Prometheus metrics of every queue at /metrics until Ctrl-C")
    p.add_argument("--port", type=int, default=9790, help="TCP port (default 9790)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")


def dashboard_options(p: argparse.ArgumentParser, port_flag: str = "--port") -> None:
    """The dashboard's options (``queuekit demo --dashboard`` takes them too)."""
    p.add_argument(port_flag, dest="dashboard_port", type=int, default=8790, metavar="PORT",
                   help="TCP port (default 8790)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--read-only", action="store_true", help="show no action and refuse every one (403)")
    p.add_argument("--token", help="require this token on every request (Authorization: Bearer, or ?token= once)")


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the dashboard for ``--url``'s server (with ``--queue``: that queue's routes at the root too, as Kue's)."""
    names = getattr(args, "queue", None) or []
    return serve_dashboard(args, names[-1] if names else None)


def serve_dashboard(args: argparse.Namespace, queue: str | None) -> int:
    """Serve the dashboard with ``args``' options until Ctrl-C; a taken port ends in one line."""
    from .cli_admin import CliError
    from .errors import QueuekitError
    from .web import create_app, listen, serve

    app = create_app(args.url, queue=queue, read_only=args.read_only, token=args.token)
    try:
        sock = listen(args.host, args.dashboard_port)  # listening before the address is printed
    except QueuekitError as exc:
        raise CliError(f"{exc}; choose another port with --port") from None
    where = f"http://{args.host}:{sock.getsockname()[1]}/"
    print(f"queuekit dashboard at {where}{'?token=…' if args.token else ''}"
          f"{' (read-only)' if args.read_only else ''}; Ctrl-C to stop", flush=True)
    serve(app, sock=sock)
    return 0


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
