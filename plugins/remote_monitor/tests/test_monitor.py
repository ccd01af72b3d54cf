"""``hookfit monitor``, run for real: the command in a subprocess on a free
port, RemoteMonitor posting to it from ``hookfit train``, and the page in
headless Chromium driven by Selenium."""

import hashlib
import json
import math
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from hookfit import ConfigError
from hookfit_remote_monitor import _handler, _server
from hookfit_remote_monitor._server import serve
from hookfit_remote_monitor._store import Full, Malformed, Store, parse

PATH = "/publish/epoch/end/"
RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")
WAIT = 30  # seconds: a bound on every wait for the browser or the server, never a sleep
TRAINED = ["acc", "loss", "val_acc", "val_loss"]


class Monitor:
    """``python -m hookfit monitor --port 0`` in a subprocess; ``url`` is where
    it listens, ``log()`` what it wrote to stderr."""

    def __init__(self, data: Path, log: Path, *extra: str):
        self.data, self.log_path = data, log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-X",
                "faulthandler",  # a hang at Ctrl-C dumps every thread's stack (see stop)
                "-m",
                "hookfit",
                "monitor",
                "--port",
                "0",
                "--data",
                str(data),
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
            # a shell's background job (`tox &`) ignores SIGINT and children keep
            # that: the monitor must meet Ctrl-C as a user's terminal delivers it
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        ready, _, _ = select.select([self.process.stdout], [], [], WAIT)
        line = self.process.stdout.readline() if ready else ""
        match = re.match(r"hookfit monitor: (http://[^/]+:\d+)/ ", line)
        if not match:
            self.process.kill()
            pytest.fail(f"hookfit monitor did not start: {line!r} {self.log()}")
        self.url = match[1]
        self.first_line = line

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Ctrl-C: how a user stops it
            try:
                self.process.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGABRT)  # faulthandler writes the stacks
                try:
                    self.process.wait(WAIT)
                finally:
                    self.process.kill()
                pytest.fail(f"hookfit monitor ignored Ctrl-C for {WAIT} s:\n{self.log()}")
        return self.process.returncode

    def runs(self) -> dict:
        return requests.get(f"{self.url}/runs", timeout=WAIT).json()

    def lines(self) -> list[dict]:
        return [json.loads(line) for p in self.data.glob("*.jsonl") for line in p.open()]


@pytest.fixture
def start_monitor(tmp_path):
    started = []

    def start(data=None, *extra):
        log = tmp_path / f"monitor-{len(started)}.log"
        monitor = Monitor(data or tmp_path / "data", log, *extra)
        started.append(monitor)
        return monitor

    yield start
    for monitor in started:
        monitor.stop()


@pytest.fixture
def monitor(start_monitor):
    return start_monitor()


@pytest.fixture(scope="session")
def chromium():
    """Chromium and its driver from Debian's packages, installed when missing."""
    needed = {"chromium": "chromium", "chromedriver": "chromium-driver"}
    missing = [package for program, package in needed.items() if not shutil.which(program)]
    if missing:
        if not shutil.which("apt-get") or os.geteuid() != 0:
            pytest.fail(
                f"The browser tests need Debian's {' and '.join(missing)}, and cannot install "
                f"them (not root, or no apt-get): run `apt-get install -y {' '.join(missing)}`."
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        # Another pytest worker may be installing at the same time: wait for
        # dpkg's lock, and judge by the install alone (an update that lost
        # the race for the lists' lock is harmless).
        wait = ["-o", "DPkg::Lock::Timeout=600"]
        subprocess.run(["apt-get", *wait, "update"], capture_output=True, env=env, check=False)
        command = ["apt-get", *wait, "install", "-y", *missing]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode or not all(shutil.which(program) for program in needed):
            pytest.fail(f"`{' '.join(command)}` failed, so no browser test can run:\n"
                        f"{done.stdout[-2000:]}{done.stderr[-2000:]}")  # fmt: skip
    return shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="session")
def browser(chromium):
    binary, driver = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1280,900"):  # fmt: skip
        options.add_argument(argument)
    browser = webdriver.Chrome(options=options, service=Service(driver))
    yield browser
    browser.quit()


def wait_for(browser, condition, what):
    try:
        return WebDriverWait(browser, WAIT, poll_frequency=0.05).until(lambda _: condition())
    except TimeoutException:
        pytest.fail(f"the page never showed {what} within {WAIT} s")


def table(browser, run_id):
    """The run's table of latest values: metric name -> (value text, epoch).

    Read in one script: the page rebuilds the table on every event, so
    elements found in one call can be gone by the next.
    """
    cells = browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map("
        "row => [...row.querySelectorAll('td')].map(cell => cell.innerText.trim()))",
        f'.run[data-run="{run_id}"] table.latest tbody tr',
    )
    return {key: (value, int(epoch)) for key, value, epoch in cells}


def legends(browser, run_id):
    """Each chart of the run, by metric, with its series' labels (read in one script)."""
    return browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll(arguments[0])].map("
        "chart => [chart.dataset.metric, [...chart.querySelectorAll('.u-series .u-label')]"
        ".map(label => label.innerText.trim())]))",
        f'.run[data-run="{run_id}"] .chart',
    )


def train(hookfit_cli, monitor, *extra, epochs=3):
    result = hookfit_cli(
        "train", "-p", "remote_monitor", "--set", f"callbacks.remote_monitor.root={monitor.url}",
        "--set", f"fit.epochs={epochs}", "--set", "fit.verbose=0", *extra, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "RemoteMonitor" not in result.stderr  # no failed post
    [run_id] = {line["run_id"] for line in monitor.lines()} - {"unnamed"}
    return run_id


def post(url, payload, form=True):
    if form:
        return requests.post(url + PATH, data={"data": json.dumps(payload)}, timeout=WAIT)
    return requests.post(url + PATH, json=payload, timeout=WAIT)


def assert_shows_the_run(browser, monitor, run_id):
    events = monitor.runs()[run_id]
    last = events[-1]
    assert [e["epoch"] for e in events] == [0, 1, 2] and sorted(last["logs"]) == TRAINED
    wait_for(browser, lambda: table(browser, run_id).get("loss", ("", -1))[1] == 2, "epoch 2")
    shown = table(browser, run_id)
    assert sorted(shown) == TRAINED
    for key, value in last["logs"].items():
        assert float(shown[key][0]) == pytest.approx(value, rel=1e-5), key
        assert shown[key][1] == 2
    assert legends(browser, run_id) == {"loss": ["loss", "val_loss"], "acc": ["acc", "val_acc"]}


def test_a_hookfit_train_run_shows_every_metric_and_its_last_values(
    monitor, hookfit_cli, browser, start_monitor
):
    run_id = train(hookfit_cli, monitor, "--set", "callbacks.remote_monitor.send_as_json=true")
    assert RUN_ID.fullmatch(run_id)
    browser.get_log("browser")  # forget what earlier pages logged
    browser.get(monitor.url + "/")
    assert_shows_the_run(browser, monitor, run_id)
    assert browser.get_log("browser") == []  # no script error, nothing the policy blocked
    page = browser.find_element(By.CSS_SELECTOR, f'.run[data-run="{run_id}"]')
    assert page.find_element(By.CSS_SELECTOR, "h2").text == run_id
    assert [line["run_id"] for line in monitor.lines()] == [run_id] * 3

    # A restarted monitor reads the run back from its files.
    assert monitor.stop() == 0
    again = start_monitor(monitor.data)
    assert "3 epochs read from" in again.first_line
    browser.get(again.url + "/")
    assert_shows_the_run(browser, again, run_id)


def test_a_page_opened_before_training_shows_each_epoch_without_a_reload(
    monitor, hookfit_cli, browser
):
    browser.get(monitor.url + "/")
    wait_for(browser, lambda: browser.find_element(By.ID, "status").text == "live", "live")
    assert browser.find_element(By.ID, "empty").is_displayed()
    browser.execute_script("window.notReloaded = true")
    run_id = train(hookfit_cli, monitor)  # RemoteMonitor's default: the form field
    assert_shows_the_run(browser, monitor, run_id)
    assert browser.execute_script("return window.notReloaded") is True
    assert not browser.find_element(By.ID, "empty").is_displayed()
    assert browser.get_screenshot_as_png().startswith(b"\x89PNG")  # as docs/screenshot.py does


MARKUP = '<img src=x onerror="window.pwned = 1">'


def test_markup_in_a_payload_shows_as_text_and_never_runs(monitor, browser):
    payload = {
        "epoch": 0,
        "run_id": "<script>window.pwned = 2</script>",
        MARKUP: 0.5,
        "lr": 0.01,
        "note": "<b>bold</b>",
        "val_" + MARKUP: 0.25,
    }
    assert post(monitor.url, payload).status_code == 200
    browser.get(monitor.url + "/")
    run_id = payload["run_id"]
    wait_for(
        browser,
        lambda: len(browser.find_elements(By.CSS_SELECTOR, "table.latest tbody tr")) == 4,
        "rows",
    )
    assert browser.find_element(By.CSS_SELECTOR, ".run h2").text == run_id
    assert table(browser, run_id) == {
        MARKUP: ("0.5", 0),
        "lr": ("0.01", 0),
        "note": ("<b>bold</b>", 0),
        "val_" + MARKUP: ("0.25", 0),
    }
    assert legends(browser, run_id) == {MARKUP: [MARKUP, "val_" + MARKUP], "lr": ["lr"]}
    assert browser.find_elements(By.CSS_SELECTOR, "img, b, .run script") == []
    assert browser.execute_script("return window.pwned") is None


def test_nan_and_infinities_show_in_the_table_and_leave_gaps_in_the_chart(monitor, browser):
    body = b'{"epoch": 0, "run_id": "r", "loss": NaN, "acc": Infinity, "val_acc": -Infinity}'
    answer = requests.post(monitor.url + PATH, data=body, timeout=WAIT)
    assert answer.status_code == 200
    assert post(monitor.url, {"epoch": 1, "run_id": "r", "loss": 0.5, "acc": 1}).status_code == 200
    browser.get(monitor.url + "/")
    wait_for(browser, lambda: table(browser, "r").get("loss", ("", -1))[1] == 1, "epoch 1")
    assert table(browser, "r") == {"loss": ("0.5", 1), "acc": ("1", 1), "val_acc": ("-Infinity", 0)}
    assert legends(browser, "r") == {"loss": ["loss"], "acc": ["acc", "val_acc"]}
    first = json.loads((monitor.data / "r.jsonl").read_text().splitlines()[0])
    assert math.isnan(first["logs"]["loss"])  # kept as Python's json writes it


def test_a_run_id_never_leaves_the_data_folder(tmp_path):
    store = Store(tmp_path / "data")
    for run_id in ("../../escaped", "/etc/passwd", ".hidden", "a b", "plain-id_1.0"):
        store.add(parse(json.dumps({"epoch": 0, "run_id": run_id}).encode(), "application/json"))
    names = sorted(path.name for path in (tmp_path / "data").iterdir())
    assert [path for path in tmp_path.rglob("*") if path.parent != tmp_path / "data"] == [
        tmp_path / "data"
    ]
    assert "plain-id_1.0.jsonl" in names and len(names) == 5
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+\.jsonl", name) for name in names)
    assert not any(name.startswith(".") for name in names)
    assert sorted(Store(tmp_path / "data").runs) == sorted(store.runs)


def test_a_line_cut_short_by_a_crash_loses_that_line_only(tmp_path, caplog):
    data = tmp_path / "data"
    data.mkdir()
    good = json.dumps({"run_id": "r", "epoch": 0, "logs": {"loss": 1.0}, "received": 1.0})
    (data / "r.jsonl").write_text(good + "\n" + good[:20])
    assert json.loads("".join(Store(data).snapshot())) == {"r": [json.loads(good)]}
    assert re.search(r"skipped line 2 of .*r\.jsonl: Unterminated string", caplog.text)


def test_an_epoch_that_cannot_be_written_gets_500_and_is_not_kept(monitor):
    shutil.rmtree(monitor.data)
    monitor.data.write_text("")  # the folder is now a file
    answer = post(monitor.url, {"epoch": 0, "run_id": "r", "loss": 1.0})
    assert answer.status_code == 500
    assert answer.text.startswith(f"could not keep the epoch in {monitor.data}: [Errno 20]")
    assert "answered a post from 127.0.0.1 with 500: could not keep the epoch" in monitor.log()
    monitor.data.unlink()
    monitor.data.mkdir()
    assert post(monitor.url, {"epoch": 1, "run_id": "r", "loss": 0.5}).status_code == 200
    assert [event["epoch"] for event in monitor.runs()["r"]] == [1]


def test_a_20_mb_body_gets_413_unread_and_the_server_goes_on(monitor):
    answer = requests.post(monitor.url + PATH, data=b"x" * (20 << 20), timeout=WAIT)
    assert answer.status_code == 413
    assert answer.text == "the body has 20971520 bytes; at most 1048576 are accepted\n"
    assert "refused a post from 127.0.0.1 (413): the body has 20971520 bytes" in monitor.log()
    assert post(monitor.url, {"epoch": 0, "loss": 1.0}).status_code == 200
    assert monitor.runs()["unnamed"][0]["logs"] == {"loss": 1.0}


MALFORMED = [
    (b"{bad", "application/json", "the payload is not JSON (Expecting property name"),
    (b"[1, 2]", "application/json", "the payload is a JSON list, expected an object"),
    (b'{"loss": 1}', "application/json", "'epoch' must be an integer from 0, got None"),
    (b'{"epoch": -1}', "application/json", "'epoch' must be an integer from 0, got -1"),
    (b'{"epoch": true}', "application/json", "'epoch' must be an integer from 0, got True"),
    (b'{"epoch": 0, "run_id": 7}', "application/json",
     "'run_id' must be printable text of 1-200 characters, got 7"),
    (b'{"epoch": 0, "": 1}', "application/json",
     "a metric name must have 1-200 characters, got ''"),
    (b'{"epoch": 0, ' + b", ".join(b'"k%d": 0' % i for i in range(501)) + b"}",
     "application/json", "501 metrics in one epoch; at most 500 are kept"),
    (b"payload=%7B%7D", "application/x-www-form-urlencoded",
     "a form post needs exactly one field 'data' holding the JSON (RemoteMonitor's default "
     "field), got fields ['payload']"),
    (b"\xff\xfe", "application/json", "the body is not UTF-8 text (invalid start byte at byte 0)"),
    (b"&".join(b"f%d=1" % i for i in range(51)), "application/x-www-form-urlencoded",
     "the form is not RemoteMonitor's (Max number of fields exceeded)"),
    (b"[" * 100_000, "application/json",
     "the payload is not JSON (maximum recursion depth exceeded"),
    (b'{"epoch": 0, "w": ' + b"[" * 9 + b"1" + b"]" * 9 + b"}", "application/json",
     "the value of 'w' is nested more than 8 deep"),
]  # fmt: skip
MALFORMED_IDS = [
    "not JSON", "a list", "no epoch", "negative epoch", "boolean epoch", "run id not text",
    "empty name", "too many metrics", "no data field", "not UTF-8", "too many form fields",
    "JSON too deep", "value too deep",
]  # fmt: skip


@pytest.mark.parametrize(("body", "kind", "reason"), MALFORMED, ids=MALFORMED_IDS)
def test_a_malformed_post_is_refused_with_its_reason(body, kind, reason):
    with pytest.raises(Malformed, match=re.escape(reason)):
        parse(body, kind)


def test_malformed_posts_get_400_a_logged_reason_and_the_server_goes_on(monitor):
    connection = HTTPConnection("127.0.0.1", int(monitor.url.rpartition(":")[2]), timeout=WAIT)
    for body, kind, reason in MALFORMED:
        connection.request("POST", PATH, body, {"Content-Type": kind})
        answer = connection.getresponse()
        assert (answer.status, answer.read().decode()[: len(reason)]) == (400, reason)
        assert f"(400): {reason}" in monitor.log()
    for method, path, headers, status, reason in [
        ("POST", "/elsewhere", {"Content-Length": "0"}, 404, "'/elsewhere' is not"),
        ("POST", PATH, {"Content-Length": "many"}, 400, "Content-Length is 'many', not a number"),
        ("POST", PATH, {"Transfer-Encoding": "chunked"}, 411, "a post needs a Content-Length"),
        ("GET", "/etc/passwd", {}, 404, "not found"),
    ]:
        connection = HTTPConnection("127.0.0.1", int(monitor.url.rpartition(":")[2]), timeout=WAIT)
        connection.putrequest(method, path)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(b"0\r\n\r\n" if "Transfer-Encoding" in headers else None)
        answer = connection.getresponse()
        assert (answer.status, answer.read().decode()[: len(reason)]) == (status, reason)
    assert post(monitor.url, {"epoch": 0, "loss": 1.0}, form=False).status_code == 200
    assert monitor.runs() == {"unnamed": [monitor.runs()["unnamed"][0]]}
    assert monitor.process.poll() is None


def test_a_web_page_elsewhere_can_neither_post_nor_read(monitor, browser):
    # A page on another site submits a form to the monitor: the browser adds Origin.
    action = monitor.url + PATH
    page = (
        f"<form method=post action='{action}'><input name=data value='{{\"epoch\": 0}}'></form>"
        "<script>document.forms[0].submit()</script>"
    )
    browser.get("data:text/html," + page)
    wait_for(browser, lambda: "only RemoteMonitor posts here" in browser.page_source, "403")
    assert "(403): a post from a web page (Origin: null)" in monitor.log()
    # DNS rebinding: the browser reaches 127.0.0.1 under that site's name.
    connection = HTTPConnection("127.0.0.1", int(monitor.url.rpartition(":")[2]), timeout=WAIT)
    connection.putrequest("GET", "/runs", skip_host=True)
    connection.putheader("Host", "evil.example:9000")
    connection.endheaders()
    answer = connection.getresponse()
    assert answer.status == 403
    assert answer.read().startswith(b"the Host header 'evil.example:9000' does not name this")
    assert "refused GET '/runs' from 127.0.0.1 (403): the Host header" in monitor.log()
    assert monitor.runs() == {}


def test_load_four_posters_of_1000_epochs_all_arrive_and_the_page_loads(monitor, browser):
    browser.get(monitor.url + "/")  # a page watching the whole load
    wait_for(browser, lambda: browser.find_element(By.ID, "status").text == "live", "live")
    port = int(monitor.url.rpartition(":")[2])
    errors = []

    def poster(number):
        # RemoteMonitor's two formats over one kept-alive connection, as its Session does.
        connection = HTTPConnection("127.0.0.1", port, timeout=WAIT)
        for epoch in range(1000):
            payload = json.dumps({"epoch": epoch, "loss": 1 / (epoch + 1), "val_loss": 0.5,
                                  "acc": epoch / 1000, "run_id": f"load-{number}"})  # fmt: skip
            if number % 2:
                body, kind = payload.encode(), "application/json"
            else:
                body, kind = (
                    urlencode({"data": payload}).encode(),
                    ("application/x-www-form-urlencoded"),
                )
            connection.request("POST", PATH, body, {"Content-Type": kind})
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                errors.append((number, epoch, answer.status))

    threads = [threading.Thread(target=poster, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 4)
    assert errors == [] and not any(t.is_alive() for t in threads)
    lines = monitor.lines()
    assert len(lines) == 4000
    runs = monitor.runs()
    assert {run: [e["epoch"] for e in events] for run, events in runs.items()} == {
        f"load-{n}": list(range(1000)) for n in range(4)
    }
    summary = "4 runs, 4000 epochs received"
    wait_for(browser, lambda: browser.find_element(By.ID, "summary").text == summary, summary)
    browser.get(monitor.url + "/")  # and a page loaded afterwards
    wait_for(browser, lambda: browser.find_element(By.ID, "summary").text == summary, summary)
    assert table(browser, "load-3")["loss"] == ("0.001", 999)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".run")) == 4


def test_the_page_loads_only_its_own_files_under_a_strict_policy(monitor):
    page = requests.get(monitor.url + "/", timeout=WAIT)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert requests.get(monitor.url + src, timeout=WAIT).status_code == 200, src
    connection = HTTPConnection("127.0.0.1", int(monitor.url.rpartition(":")[2]), timeout=WAIT)
    connection.request("GET", "/events")
    stream = connection.getresponse()
    assert stream.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert stream.readline() == b"event: snapshot\n"
    assert stream.readline().startswith(b"data: {")
    connection.close()


def test_uplot_is_vendored_with_its_licence_version_and_hashes():
    uplot = files("hookfit_remote_monitor") / "static" / "uplot"
    notes = (uplot / "VERSION.md").read_text()
    assert "`uplot` 1.6.32 from the npm registry" in notes
    assert "MIT License" in (uplot / "LICENSE").read_text()
    for name in ("uPlot.iife.min.js", "uPlot.min.css"):
        digest = hashlib.sha256((uplot / name).read_bytes()).hexdigest()
        assert f"`{name}` (sha256 `{digest}`)" in notes


def test_serve_refuses_a_taken_port_and_an_unusable_folder(tmp_path):
    server = serve("127.0.0.1", 0, tmp_path / "a")
    try:
        port = server.server_address[1]
        with pytest.raises(ConfigError, match=rf"monitor: cannot listen on 127\.0\.0\.1:{port}: "
                           r"Address already in use\. Stop what uses that port, or pass another "
                           r"--port \(0 picks a free one\)\.$"):  # fmt: skip
            serve("127.0.0.1", port, tmp_path / "b")
    finally:
        server.server_close()
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"monitor --data .*file: cannot use it as the runs' "
                       r"folder: File exists\. Pass a folder you can write\.$"):  # fmt: skip
        serve("127.0.0.1", 0, tmp_path / "file")


def test_a_taken_port_is_one_message_and_exit_2(monitor, hookfit_cli):
    port = monitor.url.rpartition(":")[2]
    result = hookfit_cli("monitor", "--port", port)
    assert result.returncode == 2
    assert result.stderr.startswith(f"hookfit: error: monitor: cannot listen on 127.0.0.1:{port}")


def test_a_port_out_of_range_is_refused_by_the_command_line(hookfit_cli):
    result = hookfit_cli("monitor", "--port", "70000")
    assert result.returncode == 2
    assert "argument --port: expected a port number from 0 to 65535, got '70000'" in result.stderr


def test_ctrl_c_stops_the_monitor_with_status_0(monitor):
    assert monitor.stop() == 0
    assert "hookfit monitor: stopped" in monitor.log()


# --- bounded connections, requests and storage (a hostile or broken client) ---


@pytest.fixture
def start_server(tmp_path):
    """``serve`` in this process, serving from a thread: its threads and its
    store can be looked at directly."""
    started = []

    def start(host="127.0.0.1", **limits):
        server = serve(host, 0, tmp_path / f"data-{len(started)}", **limits)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        started.append((server, thread))
        return server

    yield start
    for server, thread in started:
        server.shutdown()
        server.store.close()
        server.server_close()
        thread.join(WAIT)


def address(server):
    return server.server_address[0], server.server_address[1]


def connect(server, first=b""):
    sock = socket.create_connection(address(server), timeout=WAIT)
    if first:
        sock.sendall(first)
    return sock


def answer_of(server, payload, host=None):
    """Status and text of one post over a new connection."""
    connection = HTTPConnection(*address(server), timeout=WAIT)
    headers = {"Content-Type": "application/json"} | ({"Host": host} if host else {})
    connection.request("POST", PATH, json.dumps(payload).encode(), headers)
    answer = connection.getresponse()
    result = answer.status, answer.read().decode()
    connection.close()
    return result


def closed_within(sock, seconds):
    """Whether the server closes ``sock`` within ``seconds``, reading (and
    dropping) what it answers meanwhile."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if select.select([sock], [], [], left)[0]:
            try:
                if not sock.recv(1 << 16):
                    return True
            except ConnectionError:
                return True
    return False


def test_idle_connections_make_room_for_a_post_and_threads_stay_capped(start_server):
    server = start_server(max_connections=8)
    before = threading.active_count()
    idle = [connect(server) for _ in range(40)]  # connected, never sending a byte
    deadline = time.monotonic() + WAIT
    while len(server._idle) < 8 and time.monotonic() < deadline:
        select.select([], [], [], 0.01)  # poll the server's own count, bounded
    started = time.monotonic()
    assert answer_of(server, {"epoch": 0, "loss": 1.0}) == (200, "ok\n")
    assert time.monotonic() - started < 2  # no wait for an idle one to time out
    assert threading.active_count() <= before + 8 + 1
    # The idle ones let go to make room (or turned away) see their connection end.
    closed = set()
    while len(closed) < 33 and time.monotonic() < deadline:
        for sock in select.select([s for s in idle if s not in closed], [], [], 1)[0]:
            sock.recv(1 << 16)  # what a turned-away one was answered, or the end
            closed.add(sock)
    assert len(closed) == 33  # 32 to let the others in, and one for the post
    for sock in idle:
        sock.close()


def test_slow_requests_fill_the_cap_a_new_connection_gets_503_at_once(start_server, caplog):
    server = start_server(max_connections=4)
    slow = [connect(server, b"POST / HTTP/1.1\r\nX-Slow: ") for _ in range(4)]
    # Each slow connection has its request started: the server now holds 4.
    deadline = time.monotonic() + WAIT
    while len(server._open) - len(server._idle) < 4 and time.monotonic() < deadline:
        select.select([], [], [], 0.01)  # poll the server's own count, bounded
    started = time.monotonic()
    turned_away = connect(server)
    answer = turned_away.makefile("rb").read()
    assert time.monotonic() - started < 2
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert answer.endswith(
        b"hookfit monitor serves 4 connections at once (--max-connections), all busy; "
        b"try again shortly\n"
    )
    assert "turned away 1 connection(s) with 503, the last from 127.0.0.1" in caplog.text
    for sock in [turned_away, *slow]:
        sock.close()


def test_a_request_sent_a_byte_at_a_time_is_cut_off_at_its_deadline(start_server, monkeypatch):
    monkeypatch.setattr(_handler, "REQUEST_TIME", 1.0)
    server = start_server()
    sock = connect(server, b"POST / HTTP/1.1\r\n")
    started = time.monotonic()
    # A byte every 50 ms: no single read waits long, yet the request never ends.
    while time.monotonic() - started < WAIT:
        try:
            sock.sendall(b"X")
        except OSError:
            break  # closed by the server
        if closed_within(sock, 0.05):
            break
    took = time.monotonic() - started
    assert 0.9 < took < 5, took
    assert answer_of(server, {"epoch": 0}) == (200, "ok\n")
    sock.close()


def test_a_burst_of_connects_is_queued_while_the_server_is_busy(tmp_path):
    # Not yet serving: every connect waits in the listen backlog. With the
    # standard backlog of 5, the 7th would wait a second for a SYN retry.
    server = serve("127.0.0.1", 0, tmp_path / "data")
    try:
        socks = [socket.create_connection(address(server), timeout=0.5) for _ in range(100)]
        for sock in socks:
            sock.close()
    finally:
        server.server_close()


def test_the_store_keeps_at_most_max_stored_bytes_then_answers_507(start_server, caplog):
    server = start_server(max_stored=5000)
    statuses = [
        answer_of(server, {"epoch": n, "note": "x" * 400, "run_id": "r"}) for n in range(20)
    ]
    kept = [s for s, _ in statuses].count(200)
    assert 5 < kept < 12 and [s for s, _ in statuses] == [200] * kept + [507] * (20 - kept)
    assert re.fullmatch(
        r"the monitor holds \d+ bytes of epochs, the most it keeps \(--max-stored 5000\): "
        r"further epochs are not kept\. Restart it with a larger --max-stored, or with another "
        r"--data folder\n",
        statuses[-1][1],
    )
    assert server.store.stored <= 5000
    assert (server.store.folder / "r.jsonl").stat().st_size <= 5000
    assert len(json.loads("".join(server.store.snapshot()))["r"]) == kept
    assert caplog.text.count("the most it keeps (--max-stored 5000)") == 1  # one warning
    # Started again on the same folder with less room: it reads what fits.
    caplog.clear()
    store = Store(server.store.folder, max_stored=2000)
    assert 0 < store.count() < kept and store.stored <= 2000
    event = parse(json.dumps({"epoch": 99, "note": "x" * 2000}).encode(), "application/json")
    with pytest.raises(Full, match=r"^the monitor holds \d+ bytes of epochs, the most it keeps"):
        store.add(event)
    assert re.search(r"--max-stored 2000\).*; .*r\.jsonl was read up to line \d", caplog.text)


def test_max_stored_and_max_connections_are_checked_on_the_command_line(hookfit_cli):
    result = hookfit_cli("monitor", "--max-stored", "lots")
    assert result.returncode == 2
    assert (
        "argument --max-stored: expected a size in bytes such as 500M, 2G or 100000 (K, M, G are "
        "powers of 1024), got 'lots'" in result.stderr
    )
    result = hookfit_cli("monitor", "--max-connections", "0")
    assert result.returncode == 2
    assert "argument --max-connections: expected a whole number from 1, got '0'" in result.stderr


def test_the_command_passes_its_limits_to_the_server(start_monitor):
    monitor = start_monitor(None, "--max-stored", "1K", "--max-connections", "3")
    answers = [post(monitor.url, {"epoch": n, "note": "x" * 300}).status_code for n in range(4)]
    assert answers[0] == 200 and answers[-1] == 507
    assert "(--max-stored 1024)" in monitor.log()


def _ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return ["::1"]
    except OSError:
        return []


LOOPBACKS = ["127.0.0.1", "127.1", "127.0.0.2", *_ipv6_loopback()]


@pytest.mark.parametrize("host", LOOPBACKS, ids=LOOPBACKS)
def test_the_host_check_holds_on_every_loopback_address(start_server, host):
    server = start_server(host)
    port = server.server_address[1]
    assert server.loopback
    literal = f"[{server.server_address[0]}]" if ":" in host else server.server_address[0]
    for name, status in [
        ("evil.example", 403),
        (f"evil.example:{port}", 403),
        (f"localhost:{port}", 200),
        (f"{literal}:{port}", 200),
        (f"{host}:{port}" if ":" not in host else f"[{host}]:{port}", 200),
    ]:
        assert answer_of(server, {"epoch": 0}, host=name)[0] == status, name


def test_a_monitor_on_another_loopback_address_does_not_warn_it_is_open(start_monitor):
    monitor = start_monitor(None, "--host", "127.0.0.2")
    assert monitor.url.startswith("http://127.0.0.2:")
    assert post(monitor.url, {"epoch": 0}).status_code == 200
    assert monitor.stop() == 0
    assert "anyone who reaches it" not in monitor.log()


def test_unreadable_files_in_data_are_skipped_with_a_warning_each(tmp_path, caplog):
    data = tmp_path / "data"
    data.mkdir()
    good = json.dumps({"run_id": "r", "epoch": 0, "logs": {"loss": 1.0}, "received": 1.0})
    (data / "deep.jsonl").write_text("[" * 100_000 + "\n")
    (data / "deeper.jsonl").write_text(
        '{"run_id": "d", "epoch": 0, "logs": {"w": ' + "[" * 50 + "]" * 50 + "}}\n"
    )
    (data / "latin1.jsonl").write_bytes(good.encode() + b'\n{"run_id": "caf\xe9"}\n\xff\n')
    os.mkfifo(data / "fifo.jsonl")  # nothing ever writes to it: opening would hang
    (data / "other.jsonl").write_text('{"a": 1}\n')
    stores = []
    reader = threading.Thread(target=lambda: stores.append(Store(data)), daemon=True)
    reader.start()
    reader.join(WAIT)
    assert stores, "reading the folder hung"
    assert json.loads("".join(stores[0].snapshot())) == {"r": [json.loads(good)]}
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        f"skipped line 1 of {data / 'deep.jsonl'}: nested too deep to read",
        f"skipped line 1 of {data / 'deeper.jsonl'}: nested too deep to read",
        f"skipped {data / 'fifo.jsonl'}: not a regular file",
        f"skipped line 2 of {data / 'latin1.jsonl'}: not UTF-8 text (invalid continuation "
        "byte at byte 15) (and 1 more lines of it)",
        f"skipped line 1 of {data / 'other.jsonl'}: not an epoch of the monitor's (run_id, "
        "epoch, logs): {'a': 1}",
    ]


def test_the_command_starts_with_the_readable_files_of_a_bad_folder(start_monitor, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "deep.jsonl").write_text("[" * 100_000 + "\n")
    (data / "bytes.jsonl").write_bytes(b"\xff\xfe\n")
    os.mkfifo(data / "fifo.jsonl")
    good = json.dumps({"run_id": "r", "epoch": 0, "logs": {"loss": 1.0}, "received": 1.0})
    (data / "r.jsonl").write_text(good + "\n")
    monitor = start_monitor(data)
    assert "1 epochs read from" in monitor.first_line
    assert monitor.runs() == {"r": [json.loads(good)]}


SECRET = "hunter2"
SECRET_POST = {
    "epoch": 0,
    "run_id": f"http://bob:{SECRET}@runs.example/1",
    "api_key": SECRET,
    "Authorization": f"Bearer {SECRET}",
    "endpoint": f"http://alice:{SECRET}@host/x",
    f"http://carol:{SECRET}@host": 0.25,
    "config": {"token": SECRET, "urls": [f"http://dave:{SECRET}@host"]},
    "tokens_per_s": 12.5,
    "loss": 0.5,
}


def test_secrets_in_a_post_are_masked_before_they_are_kept_or_shown(monitor, browser):
    assert post(monitor.url, SECRET_POST).status_code == 200
    run_id = "http://bob:***@runs.example/1"
    stored = {
        "api_key": "***",
        "Authorization": "***",
        "endpoint": "http://alice:***@host/x",
        "http://carol:***@host": 0.25,
        "config": {"token": "***", "urls": ["http://dave:***@host"]},
        "tokens_per_s": 12.5,  # a number is a measurement, kept to be charted
        "loss": 0.5,
    }
    [event] = monitor.lines()
    assert (event["run_id"], event["logs"]) == (run_id, stored)
    files = [(p.name, p.read_text()) for p in monitor.data.iterdir()]
    assert files and not any(SECRET in name + text for name, text in files)
    runs = requests.get(monitor.url + "/runs", timeout=WAIT).text
    assert SECRET not in runs and json.loads(runs)[run_id][0]["logs"] == stored
    connection = HTTPConnection("127.0.0.1", int(monitor.url.rpartition(":")[2]), timeout=WAIT)
    connection.request("GET", "/events")
    stream = connection.getresponse()
    assert stream.readline() == b"event: snapshot\n"
    assert SECRET not in stream.readline().decode() and b"ok"
    connection.close()
    browser.get(monitor.url + "/")
    wait_for(browser, lambda: "tokens_per_s" in table(browser, run_id), "the run's table")
    shown = table(browser, run_id)
    assert shown["api_key"] == ("***", 0) and shown["endpoint"][0] == "http://alice:***@host/x"
    everything = browser.execute_script(
        "return document.documentElement.outerHTML + document.body.innerText + "
        "[...document.querySelectorAll('[title]')].map(e => e.title).join(' ')"
    )
    assert run_id in everything and SECRET not in everything


def test_a_refusal_never_repeats_a_secret(monitor):
    too_long = {"epoch": 0, "run_id": f"http://bob:{SECRET}@h/" + "x" * 300}
    answer = post(monitor.url, too_long)
    assert answer.status_code == 400
    assert answer.text.startswith("'run_id' must be printable text of 1-200 characters, got ")
    assert "bob:***@" in answer.text and SECRET not in answer.text + monitor.log()


def test_max_connections_is_lowered_to_what_the_open_files_limit_allows(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(_server.resource, "getrlimit", lambda _: (40, 40))
    server = serve("127.0.0.1", 0, tmp_path / "data", max_connections=64)
    server.server_close()
    assert server.max_connections == 8
    assert "--max-connections 64 lowered to 8: the process may open 40 files" in caplog.text
