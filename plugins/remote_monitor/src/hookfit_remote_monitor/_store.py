"""What ``hookfit monitor`` keeps: RemoteMonitor's posts, read and checked,
every run's epochs in memory and in JSON Lines files, and the live streams
of the pages that watch them. Standard library only."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import queue
import stat
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs

from hookfit.hooks.redaction import masked, masked_text
from hookfit.saving import safe_file_name

log = logging.getLogger("hookfit.monitor")

FIELD = "data"  # RemoteMonitor's default form field
UNNAMED = "unnamed"  # the run of posts without a run id (Keras's RemoteMonitor)
MAX_KEYS = 500
MAX_TEXT = 200  # characters of a run id or a metric name
MAX_DEPTH = 8  # lists in lists (numpy arrays as RemoteMonitor sends them)
MAX_STORED = 256 << 20  # bytes of epochs kept, in memory and on disk (--max-stored)
PER_EPOCH = 64  # bytes charged per epoch on top of its text: the string and list slot holding it
MAX_LINE = 4 << 20  # a line of a run's file longer than this was not written by the monitor


class Malformed(ValueError):
    """A post that is not an epoch of RemoteMonitor's; the message says why."""


class Full(Exception):
    """The store holds ``--max-stored`` bytes: an epoch more is not kept."""


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
            name = masked_text(key)
            raise Malformed(f"the value of {name!r} is nested more than {MAX_DEPTH} deep")
    event = {"run_id": run_id, "epoch": epoch, "logs": data, "received": round(time.time(), 3)}
    return unsecret(event)


def unsecret(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its secrets masked, before it is kept: a password in a
    URL (in the run id, a metric name or a value) and every value but a
    number under a credential-like key (``api_key``, ``Authorization``).

    A number stays: it is a measurement the page charts (``tokens_per_s``),
    and a credential sent as a bare number is not worth losing every such
    chart for.
    """
    logs = {}
    for key, value in event["logs"].items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        logs[masked_text(key)] = value if number else masked(value, key)
    return {**event, "run_id": masked_text(event["run_id"]), "logs": logs}


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
    text = masked_text(repr(value))
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
    """One page's live stream: the events (as the page's JSON) it has yet to
    receive.

    A page too slow to keep up is dropped (``dropped``); its browser
    reconnects and starts again from a fresh snapshot.
    """

    def __init__(self) -> None:
        self.events: queue.Queue[str | None] = queue.Queue(maxsize=10_000)
        self.dropped = False


class Store:
    """Every run's epochs, in arrival order, kept in memory and appended to
    ``<folder>/<run>.jsonl``; safe to use from many threads.

    Each epoch is kept in memory as the text the page receives (strict JSON),
    so that what is kept is what is counted against ``max_stored``, and
    ``/runs`` is a join of texts rather than a walk over every value.

    Args:
        folder: Where the JSON Lines files go (created); past runs found
            there are loaded at once, up to ``max_stored``.
        max_stored: Bytes of epochs kept, read and received together; an
            epoch past it is refused with `Full`.
    """

    def __init__(self, folder: Path, max_stored: int = MAX_STORED) -> None:
        self.folder = folder
        self.max_stored = max_stored
        self.stored = 0  # bytes charged so far
        self.runs: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._subscribers: set[Subscriber] = set()
        self._warned = False
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.glob("*.jsonl")):
            if self.stored >= max_stored:
                self._warn_full(f"{path} and the files after it were not read")
                break
            self._load(path)

    def _load(self, path: Path) -> None:
        """Read one run's file, skipping (with one warning) what cannot be
        read; a FIFO or a device is never opened, so it cannot hang startup."""
        try:
            if not stat.S_ISREG(path.stat().st_mode):
                log.warning("skipped %s: not a regular file", path)
                return
            with path.open("rb") as lines:
                self._read(path, lines)
        except OSError as exc:
            log.warning("skipped %s: %s", path, exc.strerror or exc)

    def _read(self, path: Path, lines: BinaryIO) -> None:
        bad: list[str] = []
        number = 0
        while raw := lines.readline(MAX_LINE):
            number += 1
            reason = None
            if len(raw) == MAX_LINE and not raw.endswith(b"\n"):
                while (rest := lines.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass  # the rest of an overlong line: it is skipped whole
                reason = f"longer than {MAX_LINE} bytes"
            else:
                try:
                    event = unsecret(_checked(json.loads(raw.decode("utf-8"))))
                except UnicodeDecodeError as exc:
                    reason = f"not UTF-8 text ({exc.reason} at byte {exc.start})"
                except RecursionError:
                    reason = "nested too deep to read"
                except (ValueError, KeyError, TypeError) as exc:
                    reason = str(exc)  # a line cut short by a crash, most often
            if reason is None and not self._keep(event, None):
                self._warn_full(f"{path} was read up to line {number - 1}")
                break
            if reason is not None:
                bad.append(f"line {number}: {reason}")
        if bad:
            more = f" (and {len(bad) - 1} more lines of it)" if len(bad) > 1 else ""
            first, _, why = bad[0].partition(": ")
            log.warning("skipped %s of %s: %s%s", first, path, why, more)

    def _keep(self, event: dict[str, Any], line: str | None) -> bool:
        """Charge, keep and publish one event (the lock held, or at startup);
        False when it does not fit in ``max_stored``."""
        page = json.dumps(for_page(event), allow_nan=False)
        size = max(len(page), len(line or "")) + PER_EPOCH
        if self.stored + size > self.max_stored:
            return False
        if line is not None:
            with (self.folder / file_name(event["run_id"])).open("a", encoding="utf-8") as out:
                out.write(line)
        self.stored += size
        self.runs.setdefault(event["run_id"], []).append(page)
        for subscriber in list(self._subscribers):
            try:
                subscriber.events.put_nowait(page)
            except queue.Full:
                subscriber.dropped = True
                self._subscribers.discard(subscriber)
        return True

    def _warn_full(self, what: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s; %s", self.full_message(), what)

    def full_message(self) -> str:
        """What a refused epoch's answer and the console say when full."""
        return (
            f"the monitor holds {self.stored} bytes of epochs, the most it keeps "
            f"(--max-stored {self.max_stored}): further epochs are not kept. Restart it "
            "with a larger --max-stored, or with another --data folder"
        )

    def count(self) -> int:
        """How many epochs are kept, over every run."""
        with self._lock:
            return sum(len(events) for events in self.runs.values())

    def add(self, event: dict[str, Any]) -> None:
        """Keep one event (from `parse`): in memory, in its run's file, and
        on every live page.

        Raises:
            Full: ``max_stored`` bytes are kept already; nothing was written.
            OSError: The run's file cannot be written; nothing was kept.
        """
        line = json.dumps(event) + "\n"
        with self._lock:  # one writer at a time: lines never interleave
            if not self._keep(event, line):
                self._warn_full("the posts that come are answered 507")
                raise Full(self.full_message())

    def snapshot(self) -> list[str]:
        """Every run's events as they are now: the page's JSON object of run
        id -> list of events, in pieces to be sent one after the other (the
        events' own texts, never copied into one large string)."""
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> list[str]:
        pieces = ["{"]
        for number, (run, events) in enumerate(self.runs.items()):
            pieces.append(f"{', ' if number else ''}{json.dumps(run)}: [")
            for index, event in enumerate(events):
                pieces += (", ", event) if index else (event,)
            pieces.append("]")
        pieces.append("}")
        return pieces

    def subscribe(self) -> tuple[Subscriber, list[str]]:
        """A new live stream, and every run as it is at that moment (as
        `snapshot`): the stream holds exactly the events that came after."""
        subscriber = Subscriber()
        with self._lock:
            self._subscribers.add(subscriber)
            return subscriber, self._snapshot()

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


def _checked(event: Any) -> dict[str, Any]:
    """A line read back from a run's file, checked to be one of its events."""
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("logs"), dict)
        or type(event.get("epoch")) is not int
        or "run_id" not in event
    ):
        raise ValueError(f"not an epoch of the monitor's (run_id, epoch, logs): {_short(event)}")
    if _depth(event) > MAX_DEPTH + 2:  # the page's encoder must be able to walk it
        raise RecursionError
    return {**event, "run_id": str(event["run_id"])}


def file_name(run_id: str) -> str:
    """The run's file name: the run id where it is safe as a file name, else
    made safe and told apart from others by a hash of the id."""
    return f"{safe_file_name(run_id, limit=80)}.jsonl"
