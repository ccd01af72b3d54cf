"""What ``hookfit monitor`` keeps: RemoteMonitor's posts, read and checked,
every run's epochs in memory and in JSON Lines files, and the live streams
of the pages that watch them. Standard library only."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import queue
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from hookfit.saving import safe_file_name

log = logging.getLogger("hookfit.monitor")

FIELD = "data"  # RemoteMonitor's default form field
UNNAMED = "unnamed"  # the run of posts without a run id (Keras's RemoteMonitor)
MAX_KEYS = 500
MAX_TEXT = 200  # characters of a run id or a metric name
MAX_DEPTH = 8  # lists in lists (numpy arrays as RemoteMonitor sends them)


class Malformed(ValueError):
    """A post that is not an epoch of RemoteMonitor's; the message says why."""


def parse(body: bytes, content_type: str) -> dict[str, Any]:
    """Read one RemoteMonitor post: the form field ``data`` holding JSON
    (its default), or a JSON body (``send_as_json=True``).

    Returns:
        The event: ``run_id``, ``epoch``, ``logs`` (every other key) and
        ``received`` (seconds since the epoch).

    Raises:
        Malformed: The body is not such a post; the message says what was
            received and what is expected.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"the body is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        try:
            fields = parse_qs(text, keep_blank_values=True, max_num_fields=50)
        except ValueError as exc:  # more than 50 fields
            raise Malformed(f"the form is not RemoteMonitor's ({exc})") from None
        values = fields.get(FIELD, [])
        if len(values) != 1:
            raise Malformed(
                f"a form post needs exactly one field {FIELD!r} holding the JSON (RemoteMonitor's "
                f"default field), got fields {sorted(fields)[:10]}"
            )
        text = values[0]
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: [[[[... a thousand deep
        raise Malformed(f"the payload is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise Malformed(f"the payload is a JSON {type(data).__name__}, expected an object")
    epoch = data.pop("epoch", None)
    if type(epoch) is not int or not 0 <= epoch < 10**9:
        raise Malformed(f"'epoch' must be an integer from 0, got {_short(epoch)}")
    run_id = data.pop("run_id", UNNAMED)
    if not isinstance(run_id, str) or not 0 < len(run_id) <= MAX_TEXT or not run_id.isprintable():
        raise Malformed(
            f"'run_id' must be printable text of 1-{MAX_TEXT} characters, got {_short(run_id)}"
        )
    if len(data) > MAX_KEYS:
        raise Malformed(f"{len(data)} metrics in one epoch; at most {MAX_KEYS} are kept")
    for key, value in data.items():
        if not 0 < len(key) <= MAX_TEXT:
            raise Malformed(f"a metric name must have 1-{MAX_TEXT} characters, got {_short(key)}")
        if _depth(value) > MAX_DEPTH:
            raise Malformed(f"the value of {key!r} is nested more than {MAX_DEPTH} deep")
    return {"run_id": run_id, "epoch": epoch, "logs": data, "received": round(time.time(), 3)}


def _depth(value: Any) -> int:
    # Without recursion: the page's encoder must never meet a value deeper
    # than it can walk.
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, list | dict):
            deepest = max(deepest, depth)
            todo += [(v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def for_page(value: Any) -> Any:
    """``value`` as strict JSON: the page's ``JSON.parse`` refuses NaN and
    infinities, which training does produce, so they travel as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value).replace("inf", "Infinity").replace("nan", "NaN")
    if isinstance(value, dict):
        return {k: for_page(v) for k, v in value.items()}
    if isinstance(value, list):
        return [for_page(v) for v in value]
    return value


class Subscriber:
    """One page's live stream: the events it has yet to receive.

    A page too slow to keep up is dropped (``dropped``); its browser
    reconnects and starts again from a fresh snapshot.
    """

    def __init__(self) -> None:
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=10_000)
        self.dropped = False


class Store:
    """Every run's epochs, in arrival order, kept in memory and appended to
    ``<folder>/<run>.jsonl``; safe to use from many threads.

    Args:
        folder: Where the JSON Lines files go (created); past runs found
            there are loaded at once.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runs: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._subscribers: set[Subscriber] = set()
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.glob("*.jsonl")):
            self._read(path)

    def _read(self, path: Path) -> None:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                try:
                    event = json.loads(line)
                    self.runs.setdefault(str(event["run_id"]), []).append(event)
                except (ValueError, KeyError, TypeError) as exc:
                    # A line cut short by a crash loses that line only.
                    log.warning("skipped line %d of %s: %s", number, path, exc)

    def count(self) -> int:
        """How many epochs are kept, over every run."""
        with self._lock:
            return sum(len(events) for events in self.runs.values())

    def add(self, event: dict[str, Any]) -> None:
        """Keep one event (from `parse`): in memory, in its run's file, and
        on every live page."""
        line = json.dumps(event) + "\n"
        with self._lock:  # one writer at a time: lines never interleave
            with (self.folder / file_name(event["run_id"])).open("a", encoding="utf-8") as out:
                out.write(line)
            self.runs.setdefault(event["run_id"], []).append(event)
            for subscriber in list(self._subscribers):
                try:
                    subscriber.events.put_nowait(event)
                except queue.Full:
                    subscriber.dropped = True
                    self._subscribers.discard(subscriber)

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every run's events as they are now."""
        with self._lock:
            return {run: list(events) for run, events in self.runs.items()}

    def subscribe(self) -> tuple[Subscriber, dict[str, list[dict[str, Any]]]]:
        """A new live stream, and every run as it is at that moment: the
        stream holds exactly the events that came after the snapshot."""
        subscriber = Subscriber()
        with self._lock:
            self._subscribers.add(subscriber)
            snapshot = {run: list(events) for run, events in self.runs.items()}
        return subscriber, snapshot

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Stop feeding a stream (its page has gone)."""
        with self._lock:
            self._subscribers.discard(subscriber)

    def close(self) -> None:
        """End every live stream."""
        with self._lock:
            for subscriber in self._subscribers:
                subscriber.dropped = True
                with contextlib.suppress(queue.Full):
                    subscriber.events.put_nowait(None)
            self._subscribers.clear()


def file_name(run_id: str) -> str:
    """The run's file name: the run id where it is safe as a file name, else
    made safe and told apart from others by a hash of the id."""
    return f"{safe_file_name(run_id, limit=80)}.jsonl"
