"""``hookfit monitor``: the receiving end of RemoteMonitor, and a live page of
every run's curves.

This module is what the ``hookfit.commands`` entry point names: it adds the
command and imports the server (`._server`) only when the command runs, so
``hookfit --help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from hookfit import hookimpl


@hookimpl
def register_commands(commands: Any) -> None:
    """Add ``hookfit monitor`` (the ``register_commands`` hook)."""
    parser = commands.add(
        "monitor",
        "Receive RemoteMonitor's posts and show every run's curves live in the browser.",
        run,
        epilog='Train with [callbacks.remote_monitor] root = "http://127.0.0.1:9000" (or\n'
        "-p remote_monitor) and open http://127.0.0.1:9000/ in a browser.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=_port, default=9000, help="port (default: 9000; 0 picks a free one)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("hookfit-monitor"),
        metavar="DIR",
        help="folder of the runs' JSON Lines files (default: ./hookfit-monitor)",
    )


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; print where, and where the events go."""
    from ._server import serve

    logging.basicConfig(format="hookfit monitor: %(message)s", level=logging.INFO)
    server = serve(args.host, args.port, args.data)
    host, port = str(args.host), int(server.server_address[1])  # port 0: the one picked
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    try:  # from here on: Ctrl-C may come as soon as the address is printed
        print(
            f"hookfit monitor: {url}/ (RemoteMonitor root {url}); {server.store.count()} "
            f"epochs read from {args.data.resolve()}",
            flush=True,
        )
        if host not in ("127.0.0.1", "::1", "localhost"):
            logging.getLogger("hookfit.monitor").warning(
                "listening on %s: anyone who reaches it can post and read every run", host
            )
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("hookfit monitor: stopped", file=sys.stderr)
    finally:
        server.store.close()
        server.server_close()
    return 0
