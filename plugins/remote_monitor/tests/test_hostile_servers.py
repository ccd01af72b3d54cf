"""RemoteMonitor against servers that misbehave, real ones on 127.0.0.1
(`hookfit.testing.faults`): one deadline per post, a small answer, no
redirect to another origin, no .netrc, no password in messages."""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from hookfit import ConfigError, HookfitWarning, background
from hookfit.testing.faults import HostileServer
from hookfit_remote_monitor import RemoteMonitor

BARE = {"hookfit": {"autoload": False}}
PATH = "/publish/epoch/end/"


@pytest.fixture
def serve():
    """Start `HostileServer`s; each is closed (its threads joined) at the end."""
    started = []

    def start(kind, target=""):
        started.append(HostileServer(kind, target))
        return started[-1]

    yield start
    for server in started:
        server.close()


def fit(model, data, monitor, epochs=2):
    x, y = data
    start = time.monotonic()
    model.fit(x, y, epochs=epochs, verbose=0, callbacks=[monitor], config=BARE)
    return time.monotonic() - start


def messages(record):
    return [str(w.message) for w in record if issubclass(w.category, HookfitWarning)]


def post_once(monitor):
    """One post, driven by hand; the warnings it gives."""
    with pytest.warns(HookfitWarning) as record:
        monitor.on_train_begin({})
        monitor.on_epoch_end(0, {"loss": 0.5})
        monitor.on_train_end({})
    return messages(record)


@pytest.mark.parametrize("kind", ["trickle", "sleep"])
def test_a_post_has_one_deadline_for_the_whole_answer(serve, kind):
    # The trickle sends a byte every 2 s, which a per-read timeout never ends.
    server = serve(kind)
    monitor = RemoteMonitor(server.root, timeout=0.3, end_timeout=5)
    start = time.monotonic()
    warned = post_once(monitor)
    assert time.monotonic() - start < 2  # the answer's second byte never came
    assert warned[0].startswith(
        f"RemoteMonitor: could not post to {server.root}{PATH}: timed out after 0.3 s."
    )
    assert (monitor.posts, monitor.failures) == (1, 1)


@pytest.mark.parametrize("kind", ["huge", "huge-chunked"])
def test_a_long_answer_is_not_read_and_counts_as_a_failure(serve, kind):
    server = serve(kind)
    monitor = RemoteMonitor(server.root, timeout=5)
    warned = post_once(monitor)
    assert warned[0].startswith(
        f"RemoteMonitor: could not post to {server.root}{PATH}: an answer over 65536 "
        "bytes, not read."
    )
    assert server.sent < 2**30  # what the socket buffers took, not 3 GB


def test_a_redirect_to_another_origin_is_not_followed(serve):
    elsewhere = serve("ok")
    server = serve("redirect", target=f"{elsewhere.root}/collect")
    monitor = RemoteMonitor(server.root, headers={"X-Api-Key": "k"}, send_as_json=True)
    warned = post_once(monitor)
    assert warned[0].startswith(
        f"RemoteMonitor: could not post to {server.root}{PATH}: HTTP 307 Temporary Redirect "
        f"to {elsewhere.root}/collect, not followed (only 307 and 308 within "
    )
    assert len(server.requests) == 1 and elsewhere.requests == []


def test_a_redirect_within_the_origin_is_followed_with_the_body(serve):
    server = serve("redirect")
    server.target = f"{server.root}/moved"
    monitor = RemoteMonitor(server.root, send_as_json=True)
    monitor.on_train_begin({})
    monitor.on_epoch_end(0, {"loss": 0.5})
    monitor.on_train_end({})
    assert [(m, p) for m, p, _, _ in server.requests] == [("POST", PATH), ("POST", "/moved")]
    assert json.loads(server.requests[1][3]) == {"epoch": 0, "loss": 0.5, "run_id": monitor.run_id}
    assert (monitor.posts, monitor.failures) == (1, 0)


def test_netrc_credentials_are_never_sent(serve, tmp_path, monkeypatch):
    server = serve("ok")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1\nlogin alice\npassword s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".netrc").write_text(netrc.read_text())
    (tmp_path / ".netrc").chmod(0o600)
    monitor = RemoteMonitor(server.root)
    monitor.on_train_begin({})
    monitor.on_epoch_end(0, {})
    monitor.on_train_end({})
    requests.post(server.root + "/control", timeout=5).close()  # plain requests reads it
    [(_, _, mine, _), (_, _, control, _)] = server.requests
    assert mine.get("Authorization") is None
    assert control["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cret").decode()


def test_a_password_in_root_is_sent_but_never_shown(serve):
    server = serve("error")
    root = server.root.replace("http://", "http://alice:s3cret@")
    monitor = RemoteMonitor(root)
    warned = post_once(monitor)
    shown = server.root.replace("http://", "http://alice:***@")
    assert warned == [
        f"RemoteMonitor: could not post to {shown}{PATH}: HTTP 500 Internal Server Error. "
        "Training goes on; further failures are counted and reported when training ends.",
        f"RemoteMonitor: 1 of 1 posts to {shown}{PATH} failed.",
    ]
    assert not any("s3cret" in m for m in warned)
    [(_, _, headers, _)] = server.requests
    assert headers["Authorization"].startswith("Basic ")  # sent, as requests does


def test_fit_waits_at_most_end_timeout_for_posts_still_out(serve, hookfit_model, hookfit_data):
    server = serve("sleep")
    monitor = RemoteMonitor(server.root, timeout=20, end_timeout=0.2)
    with pytest.warns(HookfitWarning) as record:
        wall = fit(hookfit_model(), hookfit_data, monitor, epochs=3)
    assert wall < 20  # the first post alone would take 20 s
    # The first post was still in flight, the two others queued: all given up.
    assert messages(record)[-1] == (
        f"RemoteMonitor: 3 of 3 posts to {server.root}{PATH} were given up: the server was "
        "slower than training (end_timeout=0.2 s)."
    )
    assert (monitor.posts, monitor.failures, monitor.given_up) == (0, 0, 3)


def test_a_post_that_ends_after_training_is_not_counted(serve, hookfit_model, hookfit_data):
    server = serve("sleep")
    monitor = RemoteMonitor(server.root, timeout=20, end_timeout=0)
    with pytest.warns(HookfitWarning, match="1 of 1 posts .* were given up"):
        fit(hookfit_model(), hookfit_data, monitor, epochs=1)
    server.close()  # the sleeping answer ends: the post in flight fails now
    background.drain()
    assert (monitor.posts, monitor.failures, monitor.given_up) == (0, 0, 1)
    # nor in the next run, whose counts start from nothing
    other = serve("ok")
    monitor.root, monitor.end_timeout = other.root, 5
    fit(hookfit_model(), hookfit_data, monitor, epochs=2)
    assert (monitor.posts, monitor.failures, monitor.given_up) == (2, 0, 0)


def test_failed_and_given_up_posts_are_told_apart(serve):
    server = serve("error")
    monitor = RemoteMonitor(server.root, end_timeout=0)
    with pytest.warns(HookfitWarning) as record:
        monitor.on_train_begin({})
        monitor.on_epoch_end(0, {})
        background.drain()  # the first post fails (500) ...
        server.kind = "sleep"
        monitor.on_epoch_end(1, {})  # ... and the second sleeps
        monitor.on_train_end({})
    assert messages(record)[-1] == (
        f"RemoteMonitor: 1 of 2 posts to {server.root}{PATH} were given up: the server was "
        "slower than training (end_timeout=0 s). 1 of the 1 others failed."
    )


@pytest.mark.parametrize("value", [-1, float("nan"), "3"], ids=["negative", "nan", "str"])
def test_a_bad_end_timeout_is_refused(value):
    with pytest.raises(ConfigError, match=r"^RemoteMonitor: end_timeout: expected a number >= 0, "):
        RemoteMonitor(end_timeout=value)


class Listener:
    """A real HTTP server on ``host`` (any 127.0.0.0/8 address) that answers
    every request with the bytes of ``answer`` and records what it gets:
    ``connections`` accepted, ``requests`` as raw head and body."""

    def __init__(self, host):
        self.answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        self.connections = 0
        self.requests = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                listener.connections += 1

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                listener.requests.append((self.requestline, str(self.headers), body))
                self.wfile.write(listener.answer)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def ours_and_theirs():
    """Two servers on two loopback addresses: ours (127.0.0.1, the root)
    and theirs (127.0.0.2, where a hostile redirect wants the post to go)."""
    ours, theirs = Listener("127.0.0.1"), Listener("127.0.0.2")
    yield ours, theirs
    ours.close()
    theirs.close()


# Locations that hide 127.0.0.2 (E, theirs) behind 127.0.0.1 (O, ours), or
# dress our origin up with a user: none may be followed.
HOSTILE_LOCATIONS = {
    "backslash": "http://127.0.0.2:{E}\\@127.0.0.1:{O}/x",
    "backslash-in-user": "http://u\\@127.0.0.2:{E}\\@127.0.0.1:{O}/x",
    "space": "http://127.0.0.2:{E} @127.0.0.1:{O}/x",
    "tab": "http://127.0.0.2:{E}\t@127.0.0.1:{O}/x",
    "folded-newline": "http://127.0.0.2:{E}\r\n @127.0.0.1:{O}/x",
    "our-origin-as-user": "http://127.0.0.1:{O}@127.0.0.2:{E}/x",
    "two-ats": "http://a@127.0.0.2:{E}@127.0.0.1:{O}/x",
    "percent-backslash": "http://127.0.0.2:{E}%5C@127.0.0.1:{O}/x",
    "percent-colon": "http://127.0.0.2%3A{E}@127.0.0.1:{O}/x",
    "scheme-relative": "//127.0.0.2:{E}/x",
    "fullwidth-at": "http://127.0.0.2:{E}\uff20127.0.0.1:{O}/x",
}


@pytest.mark.parametrize("location", list(HOSTILE_LOCATIONS.values()), ids=list(HOSTILE_LOCATIONS))
def test_a_redirect_that_parsers_read_differently_sends_nothing_elsewhere(
    ours_and_theirs, location
):
    ours, theirs = ours_and_theirs
    location = location.format(E=theirs.port, O=ours.port)
    ours.answer = (
        b"HTTP/1.1 307 Temporary Redirect\r\nLocation: "
        + location.encode()
        + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    root = f"http://alice:s3cret@127.0.0.1:{ours.port}"
    monitor = RemoteMonitor(root, headers={"X-Api-Key": "SECRET-KEY"}, send_as_json=True)
    warned = post_once(monitor)
    assert (theirs.connections, theirs.requests) == (0, [])
    assert len(ours.requests) == 1
    assert (monitor.posts, monitor.failures) == (1, 1)
    shown = f"http://alice:***@127.0.0.1:{ours.port}{PATH}"
    assert warned[0].startswith(
        f"RemoteMonitor: could not post to {shown}: HTTP 307 Temporary Redirect to "
    )
    assert "not followed" in warned[0]
    assert warned[1] == f"RemoteMonitor: 1 of 1 posts to {shown} failed."
    assert not any("s3cret" in m or "SECRET-KEY" in m for m in warned)
