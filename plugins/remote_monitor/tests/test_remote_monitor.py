"""RemoteMonitor, installed alone with the core, against real HTTP servers on 127.0.0.1."""

import json
import math
import re
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import PurePosixPath
from unittest.mock import patch
from urllib.parse import parse_qs

import numpy as np
import pytest
import requests

from hookfit import Callback, ConfigError, HookfitWarning, MissingDependencyError
from hookfit.testing import Recorder
from hookfit_remote_monitor import RemoteMonitor

# Nothing on by default, so the epoch logs hold exactly the trainer's keys
# whichever plugins are installed.
BARE = {"hookfit": {"autoload": False}}
PATH = "/publish/epoch/end/"
ROOT = 'root: expected an http(s) URL such as "http://localhost:9000", got '
HEADERS = (
    "headers: expected a table of HTTP headers (names such as X-Api-Key; values of Latin-1 "
    "text on one line, not starting with a space) or None (in a config file: leave the key "
    "out), got "
)
RUN_ID = "run_id: expected printable text of 1 to 200 characters or None (in a config file: "
RUN_ID += "leave the key out), got "


class Server:
    """A real HTTP server in a thread; records every request it gets.

    ``status`` is the answer's status code; with ``block`` set, the handler
    waits for ``release`` before answering (a server slower than any timeout).
    """

    def __init__(self):
        self.requests = []
        self.status = 200
        self.statuses: list[int] = []  # answers for the next requests, in order
        self.block = False
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real server

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": self.headers,
                        "body": body,
                        "client": self.client_address,
                    }
                )
                if server.block:
                    server.release.wait()
                status = server.statuses.pop(0) if server.statuses else server.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A blocked handler answers a client that has gone: not an error here.
        self.httpd.handle_error = lambda request, address: None
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.release.set()
    s.httpd.shutdown()
    s.httpd.server_close()
    s.thread.join()


@pytest.fixture(autouse=True)
def no_run_id_from_the_shell(monkeypatch):
    """The run ids made here are RemoteMonitor's own, whatever the shell sets."""
    monkeypatch.delenv("HOOKFIT_RUN_ID", raising=False)


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fit(model, data, callbacks, epochs=3, config=BARE):
    x, y = data
    model.fit(
        x[:48],
        y[:48],
        epochs=epochs,
        verbose=0,
        callbacks=callbacks,
        validation_data=(x[48:], y[48:]),
        config=config,
    )


def epoch_logs(recorder):
    return [(args[0], args[1]) for hook, args in recorder.calls if hook == "on_epoch_end"]


class AnyRunId:
    """Equal to a run id as RemoteMonitor makes them: YYYYMMDD-HHMMSS-xxxxxx.
    (test_every_run_posts_its_own_run_id checks that one run keeps one.)"""

    def __eq__(self, other):
        return isinstance(other, str) and re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", other)

    def __repr__(self):
        return "<any run id>"


def expected(recorder):
    """The payloads the epochs' logs should give, as plain Python values."""
    return [
        {"epoch": e, **{k: float(v) for k, v in logs.items()}, "run_id": AnyRunId()}
        for e, logs in epoch_logs(recorder)
    ]


def hookfit_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, HookfitWarning)]


def decode_form(request):
    fields = parse_qs(request["body"].decode("ascii"), strict_parsing=True)
    assert list(fields) == ["data"] and len(fields["data"]) == 1
    return json.loads(fields["data"][0])


def test_form_mode_posts_the_field_with_the_logs_json(
    hookfit_model, hookfit_data, server, hookfit_host
):
    recorder = Recorder()
    headers = {"X-Run": "exp-1", "Authorization": "Bearer token"}
    fit(hookfit_model(), hookfit_data, [RemoteMonitor(server.root, headers=headers), recorder])
    assert [(r["method"], r["path"]) for r in server.requests] == [("POST", PATH)] * 3
    for request in server.requests:
        assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
        assert request["headers"]["X-Run"] == "exp-1"
        assert request["headers"]["Authorization"] == "Bearer token"
    assert [decode_form(r) for r in server.requests] == expected(recorder)
    keys = ["loss", "acc", "val_loss", "val_acc"]
    if hookfit_host == "keras":
        keys.sort()  # Keras hands every callback its logs sorted
    assert [list(logs) for _, logs in epoch_logs(recorder)] == [keys] * 3
    # One session for the run: every epoch reuses the first connection.
    assert len({r["client"] for r in server.requests}) == 1


def test_json_mode_posts_the_logs_as_the_body(hookfit_model, hookfit_data, server):
    recorder = Recorder()
    monitor = RemoteMonitor(
        server.root, path="/runs/7", field="ignored", headers={"X-Run": "b"}, send_as_json=True
    )
    fit(hookfit_model(), hookfit_data, [monitor, recorder], epochs=2)
    assert [(r["method"], r["path"]) for r in server.requests] == [("POST", "/runs/7")] * 2
    for request in server.requests:
        assert request["headers"]["Content-Type"] == "application/json"
        assert request["headers"]["X-Run"] == "b"
    assert [json.loads(r["body"]) for r in server.requests] == expected(recorder)
    assert (monitor.posts, monitor.failures) == (2, 0)


def test_a_content_type_header_replaces_the_json_one(server):
    monitor = RemoteMonitor(server.root, headers={"Content-Type": "text/plain"}, send_as_json=True)
    monitor.on_epoch_end(0, {"val_loss": 0.5})
    monitor.on_train_end({})
    assert server.requests[0]["headers"].get_all("Content-Type") == ["text/plain"]
    assert json.loads(server.requests[0]["body"]) == {
        "epoch": 0,
        "val_loss": 0.5,
        "run_id": monitor.run_id,
    }


@pytest.mark.parametrize("send_as_json", [False, True], ids=["form", "json"])
def test_numpy_values_arrive_as_plain_numbers(server, send_as_json):
    monitor = RemoteMonitor(server.root, send_as_json=send_as_json)
    logs = {
        "val_loss": np.float32(0.5),
        "count": np.int64(3),
        "zero_d": np.array(2.25),
        "vector": np.array([1, 2]),
        "nested": [np.float64(0.25)],
        "flag": np.bool_(True),
        "lr": 0.125,
    }
    monitor.on_train_begin({})
    monitor.on_epoch_end(4, logs)
    monitor.on_train_end({})
    request = server.requests[0]
    got = json.loads(request["body"]) if send_as_json else decode_form(request)
    assert got == {
        "epoch": 4,
        "val_loss": 0.5,
        "count": 3,
        "zero_d": 2.25,
        "vector": [1, 2],
        "nested": [0.25],
        "flag": True,
        "lr": 0.125,
        "run_id": monitor.run_id,
    }
    assert {k: type(v).__name__ for k, v in got.items()} == {
        "epoch": "int",
        "val_loss": "float",
        "count": "int",
        "zero_d": "float",
        "vector": "list",
        "nested": "list",
        "flag": "bool",
        "lr": "float",
        "run_id": "str",
    }


def test_a_nan_loss_is_sent_as_python_json_nan(server):
    monitor = RemoteMonitor(server.root, send_as_json=True)
    monitor.on_epoch_end(0, {"val_loss": np.float32("nan")})
    monitor.on_train_end({})
    run_id = monitor.run_id.encode()
    assert server.requests[0]["body"] == b'{"epoch": 0, "val_loss": NaN, "run_id": "%s"}' % run_id
    assert math.isnan(json.loads(server.requests[0]["body"])["val_loss"])


def test_every_run_posts_its_own_run_id(hookfit_model, hookfit_data, server):
    monitor = RemoteMonitor(server.root, send_as_json=True)
    model = hookfit_model()
    fit(model, hookfit_data, [monitor], epochs=2)
    first = monitor.run_id
    fit(model, hookfit_data, [monitor], epochs=2)
    sent = [json.loads(r["body"])["run_id"] for r in server.requests]
    assert sent == [first, first, monitor.run_id, monitor.run_id]
    assert monitor.run_id != first
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", first)


def test_server_not_listening(hookfit_model, hookfit_data, closed_port):
    root = f"http://127.0.0.1:{closed_port}"
    monitor = RemoteMonitor(root)
    recorder = Recorder()
    with pytest.warns(HookfitWarning) as record:
        fit(hookfit_model(), hookfit_data, [monitor, recorder], epochs=3)
    assert recorder.count("on_epoch_end") == 3
    assert recorder.count("on_train_end") == 1
    url = root + PATH
    assert hookfit_warnings(record) == [
        f"RemoteMonitor: could not post to {url}: connection refused. Training goes on; "
        "further failures are counted and reported when training ends.",
        f"RemoteMonitor: 3 of 3 posts to {url} failed.",
    ]
    assert (monitor.posts, monitor.failures) == (3, 3)


def test_server_slower_than_the_timeout(hookfit_model, hookfit_data, server):
    server.block = True
    monitor = RemoteMonitor(server.root, timeout=0.2)
    recorder = Recorder()
    with pytest.warns(HookfitWarning) as record:
        fit(hookfit_model(), hookfit_data, [monitor, recorder], epochs=3)
    server.release.set()  # only now may the server answer
    assert recorder.count("on_epoch_end") == 3
    assert recorder.count("on_train_end") == 1
    assert len(server.requests) == 3
    url = server.root + PATH
    assert hookfit_warnings(record) == [
        f"RemoteMonitor: could not post to {url}: timed out after 0.2 s. Training goes on; "
        "further failures are counted and reported when training ends.",
        f"RemoteMonitor: 3 of 3 posts to {url} failed.",
    ]


def test_server_answering_500(hookfit_model, hookfit_data, server):
    server.status = 500
    monitor = RemoteMonitor(server.root, send_as_json=True)
    recorder = Recorder()
    with pytest.warns(HookfitWarning) as record:
        fit(hookfit_model(), hookfit_data, [monitor, recorder], epochs=3)
    assert recorder.count("on_epoch_end") == 3
    assert len(server.requests) == 3
    url = server.root + PATH
    assert hookfit_warnings(record) == [
        f"RemoteMonitor: could not post to {url}: HTTP 500 Internal Server Error. Training goes "
        "on; further failures are counted and reported when training ends.",
        f"RemoteMonitor: 3 of 3 posts to {url} failed.",
    ]


def test_one_warning_per_cause_and_a_count_of_the_failed_posts(server, recwarn):
    monitor = RemoteMonitor(server.root)
    monitor.on_train_begin({})
    # posts leave from a background thread: the answers are queued up front
    server.statuses = [500, 200, 404, 500, 404]
    for epoch in range(5):
        monitor.on_epoch_end(epoch, {})
    monitor.on_train_end({})
    url = server.root + PATH
    assert [m.split(". Training")[0] for m in hookfit_warnings(recwarn)] == [
        f"RemoteMonitor: could not post to {url}: HTTP 500 Internal Server Error",
        f"RemoteMonitor: could not post to {url}: HTTP 404 Not Found",
        f"RemoteMonitor: 4 of 5 posts to {url} failed.",
    ]


def test_a_patched_requests_post_gets_every_post_and_none_reaches_the_server(server, recwarn):
    # Keras posts with requests.post; its tests patch it to stay off the network.
    monitor = RemoteMonitor(server.root, headers={"X-Run": "a"})
    with patch("requests.post") as post:
        monitor.on_train_begin({})
        monitor.on_epoch_end(0, {"loss": 0.5})
        monitor.on_train_end({})
    payload = json.dumps({"epoch": 0, "loss": 0.5, "run_id": monitor.run_id})
    post.assert_called_once_with(server.root + PATH, {"data": payload}, headers={"X-Run": "a"})
    assert server.requests == []
    assert (monitor.posts, monitor.failures) == (1, 0)
    assert hookfit_warnings(recwarn) == []


def test_a_patched_requests_post_that_raises_is_a_failed_post(server, recwarn):
    monitor = RemoteMonitor(server.root)
    refused = requests.ConnectionError("connection refused")
    with patch("requests.post", side_effect=refused):
        monitor.on_train_begin({})
        monitor.on_epoch_end(0, {})
        monitor.on_train_end({})
    assert server.requests == []
    assert (monitor.posts, monitor.failures) == (1, 1)
    url = server.root + PATH
    assert hookfit_warnings(recwarn)[-1] == f"RemoteMonitor: 1 of 1 posts to {url} failed."


def test_no_failures_no_warning_and_a_new_run_starts_counting_again(server, recwarn):
    server.status = 500
    monitor = RemoteMonitor(server.root)
    monitor.on_train_begin({})
    monitor.on_epoch_end(0, {})
    monitor.on_train_end({})
    assert len(hookfit_warnings(recwarn)) == 2
    recwarn.clear()
    server.status = 200
    monitor.on_train_begin({})
    monitor.on_epoch_end(0, {})
    monitor.on_train_end({})
    assert hookfit_warnings(recwarn) == []
    assert (monitor.posts, monitor.failures) == (1, 0)


def test_enabled_from_a_config_dict(hookfit_model, hookfit_data, server):
    config = {"callbacks": {"remote_monitor": {"root": server.root, "send_as_json": True}}}
    recorder = Recorder()
    fit(hookfit_model(), hookfit_data, [recorder], epochs=2, config=config)
    assert [(r["method"], r["path"]) for r in server.requests] == [("POST", PATH)] * 2
    assert [r["headers"]["Content-Type"] for r in server.requests] == ["application/json"] * 2
    assert [json.loads(r["body"]) for r in server.requests] == expected(recorder)


def test_config_sets_every_argument(hookfit_model, hookfit_data, server):
    section = {
        "root": server.root,
        "path": "/p",
        "field": "payload",
        "headers": {"X-Run": "cfg"},
        "timeout": 2,
    }
    recorder = Recorder()
    config = {"callbacks": {"remote_monitor": section}}
    fit(hookfit_model(), hookfit_data, [recorder], epochs=1, config=config)
    [request] = server.requests
    assert (request["path"], request["headers"]["X-Run"]) == ("/p", "cfg")
    fields = parse_qs(request["body"].decode("ascii"))
    assert [json.loads(v) for v in fields["payload"]] == expected(recorder)


def test_a_bad_config_value_is_refused_before_training(hookfit_model, hookfit_data, server):
    config = {"callbacks": {"remote_monitor": {"root": server.root, "timeout": 0}}}
    message = "expected a number > 0, got 0 (RemoteMonitor's argument timeout)."
    with pytest.raises(ConfigError, match=f"{re.escape(message)}$"):
        fit(hookfit_model(), hookfit_data, [], config=config)
    assert server.requests == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"root": "localhost:9000"}, ROOT + '"localhost:9000".'),
        ({"root": "ftp://host"}, ROOT + '"ftp://host".'),
        ({"root": "http://"}, ROOT + '"http://".'),
        ({"root": "http://[::1"}, ROOT + '"http://[::1".'),
        ({"root": 9000}, ROOT + "9000."),
        ({"root": "http://127.0.0.1:99999"}, ROOT + '"http://127.0.0.1:99999".'),
        ({"root": "http://127.0.0.1:0"}, ROOT + '"http://127.0.0.1:0".'),
        ({"root": "http://127.0.0.1:nine"}, ROOT + '"http://127.0.0.1:nine".'),
        ({"root": "http://127.0.0.2\\@127.0.0.1"}, ROOT + '"http://127.0.0.2\\\\@127.0.0.1".'),
        ({"root": "http://127.0.0.1 /x"}, ROOT + '"http://127.0.0.1 /x".'),
        ({"path": None}, "path: expected a string, got None."),
        ({"field": ""}, 'field: expected a non-empty string, got "".'),
        ({"field": 3}, "field: expected a non-empty string, got 3."),
        ({"headers": ["X-A"]}, HEADERS + '["X-A"].'),
        ({"headers": {"X-A": 1}}, HEADERS + "{X-A = 1}."),
        ({"headers": {"X-A": "a\r\nX-B: b"}}, HEADERS + '{X-A = "a\\r\\nX-B: b"}.'),
        ({"headers": {"X-A": "a\nb"}}, HEADERS + '{X-A = "a\\nb"}.'),
        ({"headers": {"X-A": "caf\u00e9 \u20ac"}}, HEADERS + '{X-A = "caf\u00e9 \u20ac"}.'),
        ({"headers": {"X-A": " a"}}, HEADERS + '{X-A = " a"}.'),
        ({"headers": {"X A": "a"}}, HEADERS + '{X A = "a"}.'),
        ({"headers": {"": "a"}}, HEADERS + '{ = "a"}.'),
        ({"send_as_json": "yes"}, 'send_as_json: expected true or false, got "yes".'),
        ({"send_as_json": 1}, "send_as_json: expected true or false, got 1."),
        ({"timeout": 0}, "timeout: expected a number > 0, got 0."),
        ({"timeout": -1.5}, "timeout: expected a number > 0, got -1.5."),
        ({"timeout": float("inf")}, "timeout: expected a number > 0, got inf."),
        ({"timeout": float("nan")}, "timeout: expected a number > 0, got nan."),
        ({"timeout": True}, "timeout: expected a number > 0, got true."),
        ({"timeout": "5"}, 'timeout: expected a number > 0, got "5".'),
        ({"run_id": ""}, RUN_ID + '"".'),
        ({"run_id": "a\nb"}, RUN_ID + '"a\\nb".'),
        ({"run_id": "r" * 201}, RUN_ID + '"' + "r" * 201 + '".'),
        ({"run_id": 7}, RUN_ID + "7."),
    ],
    ids=[
        "root-no-scheme",
        "root-ftp",
        "root-no-host",
        "root-unparsable",
        "root-int",
        "root-port-too-high",
        "root-port-zero",
        "root-port-not-a-number",
        "root-backslash",
        "root-space",
        "path-none",
        "field-empty",
        "field-int",
        "headers-list",
        "headers-int-value",
        "headers-crlf",
        "headers-lf",
        "headers-not-latin-1",
        "headers-leading-space",
        "headers-name-space",
        "headers-name-empty",
        "json-str",
        "json-int",
        "timeout-zero",
        "timeout-negative",
        "timeout-inf",
        "timeout-nan",
        "timeout-bool",
        "timeout-str",
        "run-id-empty",
        "run-id-newline",
        "run-id-too-long",
        "run-id-int",
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=f"^{re.escape('RemoteMonitor: ' + message)}$"):
        RemoteMonitor(**kwargs)


def test_missing_requests_is_refused_when_training_begins(monkeypatch):
    monitor = RemoteMonitor()
    monkeypatch.setitem(sys.modules, "requests", None)
    message = (
        "RemoteMonitor requires the `requests` library: pip install hookfit-remote-monitor "
        "(which depends on it), or pip install requests."
    )
    with pytest.raises(MissingDependencyError, match=f"^{re.escape(message)}$") as info:
        monitor.on_train_begin({})
    assert isinstance(info.value, ImportError)


def test_importing_and_building_it_does_not_import_requests():
    code = (
        "import sys, hookfit_remote_monitor as m; m.RemoteMonitor(); "
        "print('requests' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False\n"


@pytest.mark.parametrize(
    ("kwargs", "secret"),
    [
        ({"headers": {"Authorization": "Bearer TOKEN-42\r\nX-B: b"}}, "TOKEN-42"),
        ({"headers": {"X-Api-Key": "KEY-42\u20ac", "X-Run": "a\nb"}}, "KEY-42"),
        ({"root": "http://alice:hunter2@127.0.0.1:99999"}, "hunter2"),
    ],
    ids=["authorization-crlf", "api-key-not-latin-1", "root-password-bad-port"],
)
def test_a_refused_argument_never_shows_a_secret(kwargs, secret):
    with pytest.raises(ConfigError, match=r"^RemoteMonitor: (headers|root): expected ") as info:
        RemoteMonitor(**kwargs)
    assert secret not in str(info.value)
    assert "***" in str(info.value)


class Adds(Callback):
    """Puts ``values`` into the logs at every epoch end, before RemoteMonitor."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs.update(self.values)


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (object(), "object"),
        ({"a", "b"}, "set"),
        (b"raw", "bytes"),
        ([1, object()], "list"),
        ({"inner": {1, 2}}, "dict"),
        (np.array([object()], dtype=object), "ndarray"),
    ],
    ids=["object", "set", "bytes", "list-holding-an-object", "dict-holding-a-set", "object-array"],
)
def test_a_log_value_json_cannot_encode_is_left_out_with_one_warning(
    hookfit_model, hookfit_data, server, value, type_name
):
    monitor = RemoteMonitor(server.root, send_as_json=True)
    recorder = Recorder()
    with pytest.warns(HookfitWarning) as record:
        fit(hookfit_model(), hookfit_data, [Adds({"extra": value}), monitor, recorder])
    assert hookfit_warnings(record) == [
        f"RemoteMonitor: logs['extra'] ({type_name}) is left out of every post: JSON cannot "
        "encode it. Training goes on; put numbers, strings, lists or tables in the logs to "
        "have them posted."
    ]
    sent = [json.loads(r["body"]) for r in server.requests]
    assert sent == [
        {"epoch": e, **{k: float(v) for k, v in logs.items() if k != "extra"}, "run_id": AnyRunId()}
        for e, logs in epoch_logs(recorder)
    ]
    assert recorder.count("on_epoch_end") == 3
    assert (monitor.posts, monitor.failures) == (3, 0)


def test_keys_json_cannot_encode_are_named_in_one_warning_and_nan_still_goes(server, recwarn):
    monitor = RemoteMonitor(server.root, send_as_json=True)
    monitor.on_train_begin({})
    logs = {"loss": np.float32("nan"), "tags": {"a"}, (1, 2): 0.5, "acc": np.float32(0.25)}
    for epoch in range(3):
        monitor.on_epoch_end(epoch, dict(logs))
    monitor.on_epoch_end(3, {**logs, "blob": b"x"})  # a new one warns once more
    monitor.on_train_end({})
    assert hookfit_warnings(recwarn) == [
        "RemoteMonitor: logs['tags'] (set) and logs[(1, 2)] (tuple key) are left out of every "
        "post: JSON cannot encode them. Training goes on; put numbers, strings, lists or tables "
        "in the logs to have them posted.",
        "RemoteMonitor: logs['blob'] (bytes) is left out of every post: JSON cannot encode it. "
        "Training goes on; put numbers, strings, lists or tables in the logs to have them posted.",
    ]
    run_id = monitor.run_id.encode()
    assert [r["body"] for r in server.requests] == [
        b'{"epoch": %d, "loss": NaN, "acc": 0.25, "run_id": "%s"}' % (epoch, run_id)
        for epoch in range(4)
    ]


def test_a_given_run_id_is_sent_by_every_run(hookfit_model, hookfit_data, server, monkeypatch):
    monkeypatch.setenv("HOOKFIT_RUN_ID", "from-the-environment")
    monitor = RemoteMonitor(server.root, send_as_json=True, run_id="exp-7 (lr 0.1)")
    model = hookfit_model()
    fit(model, hookfit_data, [monitor], epochs=1)
    fit(model, hookfit_data, [monitor], epochs=1)
    assert [json.loads(r["body"])["run_id"] for r in server.requests] == ["exp-7 (lr 0.1)"] * 2
    assert monitor.run_id == "exp-7 (lr 0.1)"


def test_the_run_id_comes_from_hookfit_run_id_when_not_given(server, monkeypatch):
    monkeypatch.setenv("HOOKFIT_RUN_ID", "20261207-101500-3fa9c1")
    monitor = RemoteMonitor(server.root, send_as_json=True)
    monitor.on_epoch_end(0, {"loss": 0.5})
    monitor.on_train_end({})
    assert json.loads(server.requests[0]["body"])["run_id"] == "20261207-101500-3fa9c1"


@pytest.mark.parametrize("value", ["", "a\tb", "x" * 201], ids=["empty", "tab", "too-long"])
def test_a_bad_hookfit_run_id_warns_and_a_new_id_is_made(server, monkeypatch, value):
    monkeypatch.setenv("HOOKFIT_RUN_ID", value)
    monitor = RemoteMonitor(server.root, send_as_json=True)
    with pytest.warns(HookfitWarning) as record:
        monitor.on_train_begin({})
    assert AnyRunId() == monitor.run_id
    assert hookfit_warnings(record) == [
        "RemoteMonitor: HOOKFIT_RUN_ID is not printable text of 1 to 200 characters, got "
        f"{value!r}; this run's id is {monitor.run_id}. Set it to a short name, or unset it."
    ]


def test_hookfit_train_posts_the_run_folder_name_as_run_id(hookfit_cli, tmp_path, server):
    # {run_dir} in a header is the folder hookfit train gives the run.
    (tmp_path / "hookfit.toml").write_text(
        f"[fit]\nepochs = 2\n\n[callbacks.remote_monitor]\nroot = {json.dumps(server.root)}\n"
        'send_as_json = true\nheaders = { X-Run-Dir = "{run_dir}" }\n'
    )
    done = hookfit_cli("train", "-p", "no:progbar_logger", timeout=240)
    assert done.returncode == 0, done.stderr
    [folder] = re.findall(r"run directory (runs/\S+)", done.stdout)
    assert [r["headers"]["X-Run-Dir"] for r in server.requests] == [folder] * 2
    name = PurePosixPath(folder).name
    assert [json.loads(r["body"])["run_id"] for r in server.requests] == [name] * 2
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", name)
