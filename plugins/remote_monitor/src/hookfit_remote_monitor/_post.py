"""RemoteMonitor's HTTP posts: one deadline for the whole exchange, a small
answer, no redirect to another origin, no ``.netrc``.

requests (through urllib3) applies its timeout to each socket operation, so
a server that trickles one byte at a time holds a post for ever. Here a
timer shuts the post's sockets down when its deadline passes: every socket a
post opens or reuses is registered with the post's deadline (`_watched`),
whatever phase it is in (connecting, sending, reading the head or the body).

A redirect is judged by the parser the connection is made with (urllib3's,
after requests prepares the URL), and refused when Python's own parser
reads another host in it: ``http://a\\@b/`` is ``b`` to `urllib.parse` and
``a`` to urllib3, and only the second is where the body, the headers and
the password would go.
Imported when training begins (it imports requests).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_auth_from_url
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import parse_url

from hookfit.hooks.redaction import masked_text

MAX_ANSWER = 64 * 1024  # bytes of an answer read at most: a monitoring server says little
MAX_HOPS = 3  # redirects followed within the origin
PORTS = {"http": 80, "https": 443}
UNREADABLE = "a URL that urllib3 or urllib.parse cannot read"


class Poster:
    """Posts to one server, each post within ``timeout`` seconds in all.

    Args:
        timeout: Seconds for a whole post: connecting, sending, and the
            whole answer (redirects within the origin included).
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        adapter = _Adapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def post(self, url: str, data: Any, headers: dict[str, str]) -> str:
        """Post ``data``; return "" on success, else the cause of the
        failure (without the URL's password).

        Keras posts with ``requests.post``, so its tests (and its users')
        replace that (``unittest.mock.patch("requests.post")``) to keep the
        posts off the network: a replaced ``requests.post`` gets every post.
        """
        if requests.post is not requests.api.post:
            try:
                requests.post(url, data, headers=headers)
            except requests.RequestException as exc:
                return _reason(exc, urlsplit(url).password)
            return ""
        with _Deadline(self.timeout) as deadline:
            try:
                return self._post(url, data, headers, deadline)
            except (requests.RequestException, ValueError) as exc:  # ValueError: a bad Location
                if deadline.expired or isinstance(exc, requests.Timeout):
                    return f"timed out after {self.timeout:g} s"
                return _reason(exc, urlsplit(url).password)

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()

    def _post(self, url: str, data: Any, headers: dict[str, str], deadline: _Deadline) -> str:
        origin = _origin(url)
        user, password = get_auth_from_url(url)
        # An explicit auth: requests then never reads ~/.netrc (or $NETRC).
        auth: Any = (user, password) if user or password else _no_auth
        answers: list[requests.Response] = []  # of this hop, in requests' response hook
        hooks = {"response": lambda r, **_: answers.append(r)}
        for _ in range(MAX_HOPS + 1):
            left = deadline.left()
            answers.clear()
            try:
                r = self.session.post(
                    url,
                    data=data,
                    headers=headers,
                    auth=auth,
                    timeout=(left, left),
                    allow_redirects=False,
                    stream=True,
                    hooks=hooks,
                )
            except ValueError:
                # requests reads the Location itself (for Response.next) and
                # raises on one Python's parser refuses: still a redirect refused.
                if not answers or not answers[-1].is_redirect:
                    raise
                answers[-1].close()
                return _refused(answers[-1], origin, UNREADABLE)
            with r:
                if r.is_redirect:
                    location = r.headers["location"]
                    target = urljoin(url, location)
                    why = _unsafe(location, target, origin)
                    if r.status_code in (307, 308) and not why:
                        _read_small(r)
                        url = target
                        continue
                    return _refused(r, origin, why)
                small = _read_small(r)
                if r.status_code >= 400:
                    return _status(r)
                if not small:
                    return f"an answer over {MAX_ANSWER} bytes, not read"
                return ""
        return f"more than {MAX_HOPS} redirects"


def _status(r: requests.Response) -> str:
    return f"HTTP {r.status_code} {r.reason or ''}".strip()


def _refused(r: requests.Response, origin: str, why: str) -> str:
    """The cause for a redirect not followed: the Location as the server sent
    it (password masked, control characters escaped), and why."""
    location = "".join(
        c if c.isprintable() else repr(c)[1:-1] for c in masked_text(r.headers["location"])
    )
    why = why or f"only 307 and 308 within {origin} are"
    return f"{_status(r)} to {location}, not followed ({why})"


def _unsafe(location: str, target: str, origin: str) -> str:
    """Why a redirect from ``origin`` to ``location`` (``target`` once
    joined) must not be followed; "" when it may be (a 307 or 308)."""
    try:
        ours = _origin(target)  # where the post would connect
        theirs = _stdlib_origin(target)
        names_user = parse_url(location).auth is not None or "@" in urlsplit(location).netloc
    except ValueError:  # urllib3's LocationParseError is one
        return UNREADABLE
    if ours != theirs:
        return f"URL parsers disagree on its host: urllib3 reads {ours}, urllib.parse {theirs}"
    if ours != origin:
        return f"only 307 and 308 within {origin} are"
    if names_user:
        return "it names a user: the credentials of root go to root only"
    return ""


def _origin(url: str) -> str:
    """``scheme://host:port`` of ``url`` as the post would connect to it:
    the URL as requests prepares it, read by urllib3."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    parts = parse_url(prepared.url or "")
    return _origin_text(parts.scheme, parts.host, parts.port)


def _stdlib_origin(url: str) -> str:
    """``scheme://host:port`` of ``url`` as `urllib.parse` reads it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host.isascii():
        host = host.encode("idna").decode("ascii")  # as requests sends it
    return _origin_text(parts.scheme, host, parts.port)


def _origin_text(scheme: str | None, host: str | None, port: int | None) -> str:
    scheme, host = (scheme or "").lower(), (host or "").lower().strip("[]")
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port or PORTS.get(scheme)}"


def _no_auth(request: Any) -> Any:
    return request


def _read_small(r: requests.Response) -> bool:
    """Read an answer of at most MAX_ANSWER bytes (so the connection can be
    reused); False, without reading it, for a longer one."""
    length = r.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_ANSWER:
        return False
    return len(r.raw.read(MAX_ANSWER + 1, decode_content=False)) <= MAX_ANSWER


def _reason(exc: BaseException, password: str | None) -> str:
    # The socket error ("connection refused") sits a few wrappers deep.
    todo: list[Any] = [exc]
    for error in todo:  # grows while it is walked; capped in case of a cycle
        if isinstance(error, OSError) and isinstance(error.strerror, str):
            return error.strerror.lower()
        if isinstance(error, BaseException) and len(todo) < 100:
            todo += [error.__cause__, getattr(error, "reason", None), *error.args]
    text = masked_text(f"{type(exc).__name__}: {exc}")
    return text.replace(password, "***") if password else text


# -- the deadline ------------------------------------------------------------------------

_current = threading.local()  # the deadline of the post running on this thread


class _Deadline:
    """Shuts down the sockets of one post when ``seconds`` have passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._start = time.monotonic()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def left(self) -> float:
        return max(0.001, self.seconds - (time.monotonic() - self._start))

    def __enter__(self) -> _Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _current.deadline = None

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The reading thread gets an end of file at once; the socket is closed
    # by its owner as usual.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _watch(sock: socket.socket | None) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(sock)


class _WatchedHTTP(HTTPConnection):
    def _new_conn(self) -> socket.socket:  # a new connection, before TLS
        sock = super()._new_conn()
        _watch(sock)
        return sock

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self.sock)  # a connection kept alive from an earlier post
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPS(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)
        return sock

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self.sock)
        return super().getresponse(*args, **kwargs)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTP


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPS


class _Adapter(HTTPAdapter):
    """requests' adapter, with connections whose sockets a deadline watches."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        return manager
