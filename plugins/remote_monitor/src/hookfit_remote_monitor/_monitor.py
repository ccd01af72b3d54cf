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
    parser.add_argument(
        "--max-stored",
        type=_size,
        metavar="SIZE",
        help="bytes of epochs kept in memory and written to --data, such as 500M or 2G; "
        "epochs past it are answered 507 (default: 256M)",
    )
    parser.add_argument(
        "--max-connections",
        type=_count,
        metavar="N",
        help="connections served at once; one past it is answered 503 (default: 64)",
    )


def _size(text: str) -> int:
    number, unit = text[:-1], text[-1:].upper()
    if unit.isdigit():
        number, unit = text, ""
    factor = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(unit)
    if factor is None or not number.isdigit() or int(number) == 0:
        raise argparse.ArgumentTypeError(
            f"expected a size in bytes such as 500M, 2G or 100000 (K, M, G are powers of "
            f"1024), got {text!r}"
        )
    return int(number) * factor


def _count(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1, got {text!r}")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; print where, and where the events go."""
    from ._server import serve

    logging.basicConfig(format="hookfit monitor: %(message)s", level=logging.INFO)
    limits = {"max_connections": args.max_connections, "max_stored": args.max_stored}
    server = serve(args.host, args.port, args.data, **{k: v for k, v in limits.items() if v})
    host, port = str(args.host), int(server.server_address[1])  # port 0: the one picked
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    try:  # from here on: Ctrl-C may come as soon as the address is printed
        print(
            f"hookfit monitor: {url}/ (RemoteMonitor root {url}); {server.store.count()} "
            f"epochs read from {args.data.resolve()}",
            flush=True,
        )
        if not server.loopback:
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
