"""Faults for the tests of plugins that write in the background.

`HostileServer`: a real HTTP server on 127.0.0.1 that misbehaves in one way
(for RemoteMonitor), and stops at once when closed, whatever it is doing:

    with HostileServer("trickle") as server:
        fit(..., callbacks=[RemoteMonitor(server.root)])

`StuckDiskHost`: a `MinimalHost` whose background saves wait until released,
as behind a disk that has stopped, and that counts the copies of its state
waiting for it.

`announce_writes`: in a child process, a line on stdout from inside every
write, for a parent that kills it there.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from .host import MinimalHost

# What each kind does after reading the request.
KINDS = {
    "ok": "answers 200 at once",
    "trickle": "sends its answer one byte every 2 s",
    "sleep": "waits 30 s, then answers 200",
    "huge": "answers 200 with a 3 GB body (Content-Length), streamed",
    "huge-chunked": "answers 200 with an endless chunked body",
    "redirect": "answers 307 to `target`, and 200 to a request for the target's path",
    "error": "answers 500",
}
GIGABYTES = 3


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that left mid-answer: what these servers expect


class HostileServer:
    """A threaded HTTP server on 127.0.0.1 that answers every POST as
    ``kind`` says (see `KINDS`), and records the requests.

    Args:
        kind: One of `KINDS`.
        target: Where ``redirect`` sends the client.

    Attributes:
        root: ``http://127.0.0.1:PORT``.
        requests: ``(method, path, headers, body)`` of each request.
        sent: Bytes of answer bodies sent, in all.
    """

    def __init__(self, kind: str, target: str = "") -> None:
        if kind not in KINDS:
            raise ValueError(f"HostileServer: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        self.kind, self.target = kind, target
        self.requests: list[tuple[str, str, Any, bytes]] = []
        self.sent = 0
        self.stop = threading.Event()
        self._connections: list[Any] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                server._connections.append(self.connection)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.requests.append((self.command, self.path, self.headers, body))
                server._answer(self)

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        # handler threads are joined by close(): none outlives the test
        self.httpd.daemon_threads = False
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        kind = self.kind
        if kind == "redirect" and h.path == urlsplit(self.target).path:
            kind = "ok"  # redirected here: accepted
        if kind == "sleep" and self.stop.wait(30):
            return
        if kind == "trickle":
            head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
            for i in range(len(head)):
                h.wfile.write(head[i : i + 1])
                h.wfile.flush()
                if self.stop.wait(2):
                    return
            return
        status = {"redirect": 307, "error": 500}.get(kind, 200)
        h.send_response(status)
        if kind == "redirect":
            h.send_header("Location", self.target)
        if kind == "huge":
            h.send_header("Content-Length", str(GIGABYTES * 2**30))
        elif kind == "huge-chunked":
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", "0")
        h.end_headers()
        chunk = bytes(2**16)
        while kind.startswith("huge") and not self.stop.is_set():
            if kind == "huge" and self.sent >= GIGABYTES * 2**30:
                break
            # never held in memory: 64 KiB at a time, until the client leaves
            h.wfile.write(chunk if kind == "huge" else b"10000\r\n" + chunk + b"\r\n")
            self.sent += len(chunk)

    def close(self) -> None:
        """Stop serving, end every handler at once, and join the threads."""
        self.stop.set()
        self.httpd.shutdown()
        for connection in self._connections:  # kept alive by a client: end it
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.httpd.server_close()
        self._thread.join()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StuckDiskHost(MinimalHost):
    """A `MinimalHost` whose saves with ``jobs`` copy the state at once and
    then wait, on the lane's thread, until `release` is set.

    Attributes:
        release: Set it to let the waiting saves write.
        copies: Copies of the state alive now (taken, not yet written or
            dropped by the lane).
        most_copies: The most that were alive at once.
        saves: Saves asked for.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.release = threading.Event()
        self.copies = self.most_copies = self.saves = 0
        self._lock = threading.Lock()

    def save(
        self,
        filepath: Any,
        overwrite: bool = True,
        include_optimizer: bool = True,
        *,
        metadata: Any = None,
        jobs: Any = None,
    ) -> None:
        if jobs is None:
            super().save(filepath, overwrite, include_optimizer, metadata=metadata)
            return
        self.saves += 1
        copy = _Copy(self.get_weights())
        with self._lock:
            self.copies += 1
            self.most_copies = max(self.most_copies, self.copies)
        weakref.finalize(copy, self._gone)
        jobs.submit(self._write_later, copy, filepath, overwrite, include_optimizer, metadata)

    def save_weights(self, filepath: Any, overwrite: bool = True, *, jobs: Any = None) -> None:
        self.save(filepath, overwrite, False, jobs=jobs)

    def _write_later(
        self, copy: _Copy, filepath: Any, overwrite: bool, include_optimizer: bool, metadata: Any
    ) -> None:
        self.release.wait()
        super().save(filepath, overwrite, include_optimizer, metadata=metadata)

    def _gone(self) -> None:
        with self._lock:
            self.copies -= 1


class _Copy:
    """One copy of a host's weights (weakly referenceable, to count it)."""

    def __init__(self, weights: list[np.ndarray]) -> None:
        self.weights = weights


def announce_writes() -> None:
    """Print ``writing`` as a model file's bytes start to go to its
    temporary file (`hookfit.saving.atomic.write_bytes`) and ``fsync``
    before every ``os.fsync`` (a file's comes before its rename, the
    folder's after), so that a parent reading this process's stdout can
    kill it inside a write. For child processes only: it patches
    ``write_bytes`` and ``os.fsync`` for good."""
    import os

    from ..saving import atomic

    write = atomic.write_bytes

    def write_bytes(path: Any, chunks: Any) -> None:
        print("writing", flush=True)
        write(path, chunks)

    sync = os.fsync

    def fsync(fd: Any) -> None:
        print("fsync", flush=True)
        sync(fd)

    atomic.write_bytes, os.fsync = write_bytes, fsync
