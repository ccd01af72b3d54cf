"""The HTTP server of ``hookfit monitor``.

A `ThreadingHTTPServer` (standard library) serves RemoteMonitor's endpoint in
both of its formats, the page at ``/`` (uPlot, vendored in ``static/``) and
its live stream of epochs at ``/events`` (Server-Sent Events). This module
binds the address, reads the page's files and bounds the connections;
`._handler` answers each request.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import resource
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hookfit import ConfigError

from ._handler import Handler
from ._store import MAX_STORED, Store, log

MAX_CONNECTIONS = 64  # a few RemoteMonitors and pages; each connection is a thread
SPARE_FILES = 32  # file descriptors kept for the runs' files, the page's, the listener
STATIC = {  # what the page needs, and nothing else: no file path comes from a request
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/monitor.js": ("monitor.js", "text/javascript; charset=utf-8"),
    "/static/monitor.css": ("monitor.css", "text/css; charset=utf-8"),
    "/static/uPlot.iife.min.js": ("uplot/uPlot.iife.min.js", "text/javascript; charset=utf-8"),
    "/static/uPlot.min.css": ("uplot/uPlot.min.css", "text/css; charset=utf-8"),
}


class MonitorServer(ThreadingHTTPServer):
    """The monitor's HTTP server: a thread per connection, at most
    ``max_connections`` of them.

    A connection past the cap takes the place of one that waits idle for its
    next request (a kept-alive RemoteMonitor reconnects at its next epoch);
    when none is idle, it is answered 503 at once and closed.

    Attributes:
        store: The runs, their files and the live streams.
        pages: The page's files, read once, by URL path.
        host: The address or name given to ``--host``.
        loopback: Whether the server listens on this machine only.
        max_connections: Connections served at once.
    """

    daemon_threads = True  # a page's open stream never keeps the process alive
    block_on_close = False
    request_queue_size = 128  # the listen backlog: a burst of connects waits for no retry

    def __init__(
        self, address: tuple[str, int], store: Store, max_connections: int = MAX_CONNECTIONS
    ) -> None:
        self.store = store
        self.host = address[0]
        self.max_connections = max_connections
        static = Path(__file__).with_name("static")
        self.pages = {
            url: ((static / name).read_bytes(), kind) for url, (name, kind) in STATIC.items()
        }
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        bound = ipaddress.ip_address(str(self.server_address[0]).partition("%")[0])
        self.loopback = bound.is_loopback
        self._own_names = {socket.gethostname().lower()} if bound.is_unspecified else set()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._idle: dict[socket.socket, None] = {}  # in the order they became idle
        self._freed = threading.Event()
        self._turned_away = 0
        self._last_warning = -float("inf")

    def names_this_machine(self, name: str) -> bool:
        """Whether a request's ``Host`` name leads here and not through DNS
        rebinding, which always names the attacker's domain.

        Accepted: any IP address (only a user types one), ``localhost``, the
        name given to ``--host``, and this machine's host name when listening
        on every address.
        """
        name = name.lower().rstrip(".")
        if name in ("localhost", self.host.lower()) or name in self._own_names:
            return True
        try:
            ipaddress.ip_address(name.partition("%")[0])
        except ValueError:
            return False
        return True

    # --- the connection cap -------------------------------------------------

    def process_request(self, request: Any, client_address: Any) -> None:
        if self._admit(request):
            super().process_request(request, client_address)
        else:
            self._turn_away(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._open.discard(request)
                self._idle.pop(request, None)
            self._freed.set()

    def _admit(self, request: socket.socket) -> bool:
        with self._lock:
            if len(self._open) >= self.max_connections and self._idle:
                victim = next(iter(self._idle))
                del self._idle[victim]
                self._open.discard(victim)
                with contextlib.suppress(OSError):  # its thread sees the end, and exits
                    victim.shutdown(socket.SHUT_RDWR)
            if len(self._open) >= self.max_connections:
                return False
            self._open.add(request)
            return True

    def idle(self, connection: socket.socket) -> None:
        """The connection waits for its next request: it may be closed to
        make room for a new one."""
        with self._lock:
            if connection in self._open:
                self._idle[connection] = None

    def busy(self, connection: socket.socket) -> bool:
        """The connection has a request coming; False when it was closed to
        make room (its request is then not read)."""
        with self._lock:
            self._idle.pop(connection, None)
            return connection in self._open

    def _turn_away(self, request: socket.socket, client_address: Any) -> None:
        body = (
            f"hookfit monitor serves {self.max_connections} connections at once "
            "(--max-connections), all busy; try again shortly\n"
        ).encode()
        answer = (
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
        ) % (len(body), body)
        with contextlib.suppress(OSError):
            request.setblocking(False)  # the accept loop never waits on a client
            request.send(answer)
        self._turned_away += 1
        now = time.monotonic()
        if now - self._last_warning >= 60:  # one line a minute, however many come
            log.warning(
                "turned away %d connection(s) with 503, the last from %s: %d are open, the "
                "most it serves (--max-connections)",
                self._turned_away,
                client_address[0],
                self.max_connections,
            )
            self._turned_away, self._last_warning = 0, now
        self.shutdown_request(request)

    def get_request(self) -> tuple[socket.socket, Any]:
        try:
            return super().get_request()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                # Out of file descriptors: the pending connection stays
                # readable, so retrying at once would spin. Wait for a
                # connection to close first.
                self._freed.clear()
                self._freed.wait(1.0)
            raise

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return  # a client that went away: nothing to report
        log.exception("error while answering %s", client_address[0])


def serve(
    host: str,
    port: int,
    data: Path,
    max_connections: int = MAX_CONNECTIONS,
    max_stored: int = MAX_STORED,
) -> MonitorServer:
    """A bound monitor server (not yet serving), its store read from ``data``.

    ``max_connections`` is lowered, with a warning, to what the process's
    limit of open files leaves room for.

    Raises:
        ConfigError: ``data`` cannot be used as a folder, or the address
            cannot be listened on.
    """
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if files != resource.RLIM_INFINITY and max_connections > files - SPARE_FILES:
        fitting = max(1, files - SPARE_FILES)
        log.warning(
            "--max-connections %d lowered to %d: the process may open %d files (ulimit -n)",
            max_connections,
            fitting,
            files,
        )
        max_connections = fitting
    try:
        store = Store(data, max_stored)
    except OSError as exc:
        raise ConfigError(
            f"monitor --data {data}: cannot use it as the runs' folder: "
            f"{exc.strerror or exc}. Pass a folder you can write."
        ) from None
    try:
        return MonitorServer((host, port), store, max_connections)
    except OSError as exc:
        raise ConfigError(
            f"monitor: cannot listen on {host}:{port}: {exc.strerror or exc}. "
            "Stop what uses that port, or pass another --port (0 picks a free "
            "one)."
        ) from None
