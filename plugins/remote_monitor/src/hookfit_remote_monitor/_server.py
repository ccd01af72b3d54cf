"""The HTTP server of ``hookfit monitor``.

A `ThreadingHTTPServer` (standard library) serves RemoteMonitor's endpoint in
both of its formats, the page at ``/`` (uPlot, vendored in ``static/``) and
its live stream of epochs at ``/events`` (Server-Sent Events). This module
binds the address and reads the page's files; `._handler` answers each
request.
"""

from __future__ import annotations

import socket
import sys
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hookfit import ConfigError

from ._handler import LOOPBACK, Handler
from ._store import Store, log

STATIC = {  # what the page needs, and nothing else: no file path comes from a request
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/monitor.js": ("monitor.js", "text/javascript; charset=utf-8"),
    "/static/monitor.css": ("monitor.css", "text/css; charset=utf-8"),
    "/static/uPlot.iife.min.js": ("uplot/uPlot.iife.min.js", "text/javascript; charset=utf-8"),
    "/static/uPlot.min.css": ("uplot/uPlot.min.css", "text/css; charset=utf-8"),
}


class MonitorServer(ThreadingHTTPServer):
    """The monitor's HTTP server: one thread per connection, so many
    RemoteMonitors and pages are served at once.

    Attributes:
        store: The runs, their files and the live streams.
        pages: The page's files, read once, by URL path.
    """

    daemon_threads = True  # a page's open stream never keeps the process alive
    block_on_close = False

    def __init__(self, address: tuple[str, int], store: Store) -> None:
        self.store = store
        self.loopback = address[0] in LOOPBACK
        static = Path(__file__).with_name("static")
        self.pages = {
            url: ((static / name).read_bytes(), kind) for url, (name, kind) in STATIC.items()
        }
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return  # a client that went away: nothing to report
        log.exception("error while answering %s", client_address[0])


def serve(host: str, port: int, data: Path) -> MonitorServer:
    """A bound monitor server (not yet serving), its store read from ``data``.

    Raises:
        ConfigError: ``data`` cannot be used as a folder, or the address
            cannot be listened on.
    """
    try:
        store = Store(data)
    except OSError as exc:
        raise ConfigError(
            f"monitor --data {data}: cannot use it as the runs' folder: "
            f"{exc.strerror or exc}. Pass a folder you can write."
        ) from None
    try:
        return MonitorServer((host, port), store)
    except OSError as exc:
        raise ConfigError(
            f"monitor: cannot listen on {host}:{port}: {exc.strerror or exc}. "
            "Stop what uses that port, or pass another --port (0 picks a free "
            "one)."
        ) from None
