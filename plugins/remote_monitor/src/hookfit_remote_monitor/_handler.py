"""How ``hookfit monitor`` answers a request.

RemoteMonitor's posts to `ENDPOINT` (JSON or form body, checked before it is
kept), the page's files, ``/runs`` and the live stream at ``/events``
(Server-Sent Events). A request naming another host is refused, so that a
web page elsewhere cannot reach a monitor on 127.0.0.1. Every request must
arrive whole within `REQUEST_TIME`, so that a client sending a byte now and
then cannot hold a connection for ever.
"""

from __future__ import annotations

import io
import math
import queue
import select
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hookfit.hooks.redaction import masked_text

from ._store import Full, Malformed, log, parse

if TYPE_CHECKING:
    from ._server import MonitorServer

ENDPOINT = "/publish/epoch/end/"  # RemoteMonitor's default path
MAX_BODY = 1 << 20  # one epoch's logs are a few hundred bytes; 1 MiB is plenty
PING = 15.0  # seconds between keep-alive comments on an idle live stream
IDLE = 30.0  # seconds a kept-alive connection may wait for its next request
REQUEST_TIME = 20.0  # seconds to send one whole request, its body included
WRITE_TIME = 30.0  # seconds a page may take to read what its stream sends
# The page runs its own scripts only: even markup that slipped into the DOM
# could not run a script or load anything from elsewhere.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class Handler(BaseHTTPRequestHandler):
    """Answers RemoteMonitor's posts, the page and its live stream."""

    protocol_version = "HTTP/1.1"  # RemoteMonitor keeps one connection for a run
    server_version = "hookfit-monitor"
    # Headers and body go out in two writes: without this, Nagle's algorithm
    # and the client's delayed ACK hold every answer for 40 ms.
    disable_nagle_algorithm = True
    server: MonitorServer

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the standard one: an open one would keep the socket open
        self._reads = _Deadline(self.connection)
        self._buffered = io.BufferedReader(self._reads)
        self.rfile = self._buffered

    def handle_one_request(self) -> None:
        # Waiting for a request, the connection is idle: the server may close
        # it to make room for a new one. From its first byte, the request must
        # arrive whole within REQUEST_TIME.
        self._reads.until = time.monotonic() + IDLE
        if not select.select([self.connection], [], [], 0)[0]:  # nothing sent yet
            self.server.idle(self.connection)
        try:
            waiting = self._buffered.peek(1)
        except OSError:  # timed out, reset, or closed by the server
            waiting = b""
        if not self.server.busy(self.connection) or not waiting:
            self.close_connection = True
            return
        self._reads.until = time.monotonic() + REQUEST_TIME
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no line per request: a run posts thousands; refusals are logged below

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        foreign = self._foreign()
        if foreign:
            self._refuse(403, foreign)
        elif path == "/events":
            self._stream()
        elif path == "/runs":
            pieces = self.server.store.snapshot()
            self._send_head(200, "application/json", sum(map(len, pieces)))  # ASCII only
            self._write(pieces)
        elif path in self.server.pages:
            self._send(200, *self.server.pages[path])
        elif path == "/favicon.ico":
            self._send(204, b"", "image/x-icon")  # none: saves the browser a 404
        else:
            self._send(404, b"not found\n", "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        origin = self.headers.get("Origin")
        foreign = self._foreign() or (
            f"a post from a web page (Origin: {origin}); only RemoteMonitor posts here"
            if origin is not None
            else None
        )
        if foreign:
            self._refuse(403, foreign, close=True)
            return
        body = self._body()
        if body is None:
            return
        if urlsplit(self.path).path != ENDPOINT:
            self._refuse(404, f"{self.path!r} is not {ENDPOINT!r}, where RemoteMonitor posts")
            return
        try:
            event = parse(body, self.headers.get("Content-Type", ""))
        except Malformed as exc:
            self._refuse(400, str(exc))
            return
        try:
            self.server.store.add(event)
        except Full as exc:
            self._send(507, f"{exc}\n".encode(), "text/plain; charset=utf-8")
            return
        except OSError as exc:  # the disk is full, the folder has gone, ...
            reason = f"could not keep the epoch in {self.server.store.folder}: {exc}"
            log.error("answered a post from %s with 500: %s", self.client_address[0], reason)
            self._send(500, f"{reason}\n".encode(), "text/plain; charset=utf-8")
            return
        self._send(200, b"ok\n", "text/plain; charset=utf-8")

    def _foreign(self) -> str | None:
        """Why a request must come from a web page elsewhere, or None.

        A page on any site can make its visitor's browser send requests to
        127.0.0.1, and through DNS rebinding even read the answers: the
        browser then names that site in ``Host``, where RemoteMonitor and
        this monitor's own page name this machine.
        """
        host = self.headers.get("Host", "")
        try:
            name = urlsplit(f"//{host}").hostname
        except ValueError:
            name = None
        if name is not None and self.server.names_this_machine(name):
            return None
        return (
            f"the Host header {host!r} does not name this machine; use its address, "
            f"localhost, or the name given to --host ({self.server.host})"
        )

    def _body(self) -> bytes | None:
        """The request's body; None when the request was refused instead."""
        length = self.headers.get("Content-Length")
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower() or length is None:
            self._refuse(411, "a post needs a Content-Length header", close=True)
            return None
        if not length.strip().isdigit():
            self._refuse(400, f"Content-Length is {length!r}, not a number", close=True)
            return None
        if int(length) > MAX_BODY:
            # Refused before a byte of it is read: a huge body costs nothing.
            self._refuse(
                413,
                f"the body has {int(length)} bytes; at most {MAX_BODY} are accepted",
                close=True,
            )
            return None
        return self.rfile.read(int(length))

    def _refuse(self, status: int, reason: str, close: bool = False) -> None:
        what = "a post" if self.command == "POST" else f"{self.command} {self.path[:100]!r}"
        what, reason = masked_text(what), masked_text(reason)
        log.warning("refused %s from %s (%d): %s", what, self.client_address[0], status, reason)
        if close:
            # The unread body must not be taken for the next request.
            self.close_connection = True
        self._send(status, f"{reason}\n".encode(), "text/plain; charset=utf-8")
        if close:
            self._drain()

    def _drain(self) -> None:
        # Read (and drop) what the client is still sending, for 2 s at most,
        # so that it reads our answer instead of a connection reset.
        deadline = time.monotonic() + 2.0
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)  # the answer is complete
            while (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(1 << 16):
                    break
        except OSError:
            pass

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self._send_head(status, kind, len(body))
        self.wfile.write(body)

    def _send_head(self, status: int, kind: str, length: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self._security_headers()
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _write(self, pieces: list[str]) -> None:
        """Send text pieces in writes of about 64 KiB: one write per piece
        would be a system call per epoch, one for all a copy of every run."""
        chunk: list[str] = []
        size = 0
        for piece in pieces:
            chunk.append(piece)
            size += len(piece)
            if size >= 1 << 16:
                self.wfile.write("".join(chunk).encode())
                chunk, size = [], 0
        self.wfile.write("".join(chunk).encode())

    def _security_headers(self) -> None:
        self.send_header("Content-Security-Policy", POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")

    def _stream(self) -> None:
        """The page's live stream: every run now, then each epoch as it comes."""
        store = self.server.store
        subscriber, runs = store.subscribe()
        self.close_connection = True  # the stream ends with the connection
        self.connection.settimeout(WRITE_TIME)  # a page that stops reading is let go
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self._security_headers()
            self.end_headers()
            self._event("snapshot", runs)
            while not subscriber.dropped:
                try:
                    event = subscriber.events.get(timeout=PING)
                except queue.Empty:  # nothing for a while
                    self.wfile.write(b": ping\n\n")  # finds a page that has gone
                    self.wfile.flush()
                    continue
                if event is None:
                    break
                self._event("epoch", event)
        except (ConnectionError, TimeoutError):
            pass  # the page was closed or reloaded, or stopped reading
        finally:
            store.unsubscribe(subscriber)

    def _event(self, name: str, payload: str | list[str]) -> None:
        pieces = payload if isinstance(payload, list) else [payload]
        self._write([f"event: {name}\ndata: ", *pieces, "\n\n"])
        self.wfile.flush()


class _Deadline(io.RawIOBase):
    """A connection's reads, each given only the time left until ``until``:
    a timeout per read alone would let a byte every few seconds go on for
    ever."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.until = math.inf

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.until - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self.connection.settimeout(left)
        return self.connection.recv_into(buffer)
