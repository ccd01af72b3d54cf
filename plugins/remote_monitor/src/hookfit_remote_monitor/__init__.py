"""Keras's RemoteMonitor callback: post every epoch's logs to an HTTP server."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import warnings
from collections import deque
from typing import Annotated, Any
from urllib.parse import urlsplit

from hookfit import Callback, Check, HookfitWarning, MissingDependencyError, Range
from hookfit.background import Lane
from hookfit.hooks.redaction import masked_text

_MISSING = (
    "RemoteMonitor requires the `requests` library: pip install hookfit-remote-monitor "
    "(which depends on it), or pip install requests."
)


RUN_ID_VARIABLE = "HOOKFIT_RUN_ID"  # set by `hookfit train`: the run folder's name
MAX_RUN_ID = 200  # characters: what `hookfit monitor` accepts
# RFC 9110 field names; values as http.client sends them (Latin-1), on one line
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"(?:[^\s][^\r\n\x00]*)?")


def _http_url(root: str) -> bool:
    # A root that URL parsers could read apart (a backslash, a space, a
    # control character) is refused here, as a redirect to one is.
    if any(c == "\\" or c.isspace() or not c.isprintable() for c in root):
        return False
    url = urlsplit(root)
    return url.scheme in ("http", "https") and bool(url.hostname) and url.port != 0


def _http_headers(headers: dict[str, str]) -> bool:
    return all(
        _HEADER_NAME.fullmatch(name) and _HEADER_VALUE.fullmatch(value) and _latin1(value)
        for name, value in headers.items()
    )


def _latin1(text: str) -> bool:
    return all(ord(c) < 256 for c in text)


def _run_id_text(run_id: str) -> bool:
    return 0 < len(run_id) <= MAX_RUN_ID and run_id.isprintable()


class RemoteMonitor(Callback):
    """Stream the logs of every epoch to a server, one HTTP POST per epoch.

    Posts ``{"epoch": epoch, **logs, "run_id": run_id}`` (numpy values made
    plain; a value JSON cannot encode is left out, with one warning) to
    ``root + path``. A server that is down, slow or answers >= 400 never
    stops training: each kind of failure warns once, and ``on_train_end``
    counts them.

    The posts leave from the plugin's own background lane, at most 16
    waiting (a newer one drops the oldest, with a warning). Each post has one
    deadline, ``timeout``, for connecting and the whole answer; an answer
    over 64 KiB is not read (a failure); a redirect is followed only as a
    307 or 308 within the same origin, to a Location that names no user and
    that every URL parser reads alike; ``~/.netrc`` is never read (a user and
    password in ``root`` are sent, and shown as ``***`` in messages). When
    training ends, ``fit`` waits at most ``end_timeout`` seconds for the
    posts still out, then gives them up.

    Args:
        root: Root URL of the server, ``http://`` or ``https://``.
        path: Path appended to ``root`` as it is.
        field: The form field that holds the JSON (unused with send_as_json).
        headers: Extra HTTP headers sent with every post.
        send_as_json: Send the dict as the JSON body instead of a form field.
        timeout: Seconds for one post in all: connecting, sending and the
            whole answer.
        end_timeout: Seconds ``on_train_end`` waits for the posts still
            queued or in flight; those left are given up (and counted).
        run_id: Sent as ``run_id`` with every post of every run. None: the
            ``HOOKFIT_RUN_ID`` environment variable (``hookfit train`` sets it
            to the run folder's name), else a new id for every run.

    Attributes:
        posts: Posts of the current (or last) run that were answered or failed.
        failures: Those of them that failed.
        given_up: Posts of the last run dropped, or still out when training
            ended (counted in neither of the above).
        run_id: The id of the current (or last) run: ``run_id``, else
            ``HOOKFIT_RUN_ID``, else ``YYYYMMDD-HHMMSS-xxxxxx`` (the time
            training began, then random).

    Raises:
        ConfigError: An argument does not fit its type hint; the message
            names it.
        MissingDependencyError: ``requests`` is not installed (when training begins).

    Example:
        >>> monitor = RemoteMonitor(root="http://localhost:9000", send_as_json=True)
        >>> model.fit(X_train, Y_train, callbacks=[monitor])  # doctest: +SKIP
    """

    writes = True  # under MPI: rank 0 only (hookfit.distributed)

    def __init__(
        self,
        root: Annotated[
            str, Check(_http_url, 'an http(s) URL such as "http://localhost:9000"')
        ] = "http://localhost:9000",
        path: str = "/publish/epoch/end/",
        field: Annotated[str, Check(bool, "a non-empty string")] = "data",
        headers: Annotated[
            dict[str, str],
            Check(
                _http_headers,
                "a table of HTTP headers (names such as X-Api-Key; values of Latin-1 text on "
                "one line, not starting with a space)",
            ),
        ]
        | None = None,
        send_as_json: bool = False,
        timeout: Annotated[float, Range(gt=0)] = 5.0,
        end_timeout: Annotated[float, Range(ge=0)] = 3.0,
        run_id: Annotated[
            str, Check(_run_id_text, f"printable text of 1 to {MAX_RUN_ID} characters")
        ]
        | None = None,
    ) -> None:
        super().__init__()
        self.root, self.path, self.field, self.headers = root, path, field, headers
        self.send_as_json, self.timeout = send_as_json, float(timeout)
        self.end_timeout = float(end_timeout)
        self.posts = self.failures = self.given_up = 0
        self.run_id = self._run_id_given = run_id
        self._session: Any = None
        # Posts go out on the plugin's own lane: a slow server never stalls a
        # batch, nor another plugin's writes.
        self._jobs = Lane("RemoteMonitor", capacity=16, network=True)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        try:
            import requests  # noqa: F401 - _post uses it; refused here with a clear message
        except ImportError:
            raise MissingDependencyError(_MISSING) from None
        from ._post import Poster

        self._close()
        self._session = Poster(self.timeout)
        self.posts = self.failures = self.given_up = self._submitted = 0
        self.run_id = self._run_id_given or _run_id_from_environment()
        self._warned: set[str] = set()
        self._left_out: set[Any] = set()
        # (cause or "") of every post answered or failed, filled by the I/O
        # thread; a new deque per run, so a post of an earlier run that ends
        # late is never counted in this one.
        self._outcomes: deque[str] = deque()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._session is None:  # driven by hand, without on_train_begin
            self.on_train_begin()
        send = self._payload(epoch, logs or {})
        self._submitted += 1
        self._jobs.submit(self._post, self._session, self._outcomes, send)
        self._count()

    def _payload(self, epoch: int, logs: dict[str, Any]) -> str:
        """The JSON of one epoch; a value JSON cannot encode is left out."""
        # run_id tells this run's epochs from another's (hookfit monitor's panels).
        try:
            return json.dumps({"epoch": epoch, **_plain(logs), "run_id": self.run_id})
        except (TypeError, ValueError, RecursionError):
            pass  # a set, bytes, an object: found key by key, below
        kept, left_out = {}, {}
        for key, value in logs.items():
            try:
                plain = _plain(value)
                json.dumps({key: plain})
                kept[key] = plain
            except (TypeError, ValueError, RecursionError):
                left_out[key] = type(value if _json_key(key) else key).__name__
        new = [key for key in left_out if key not in self._left_out]
        if new:
            self._left_out.update(new)
            names = " and ".join(
                f"logs[{key!r}] ({left_out[key]}{'' if _json_key(key) else ' key'})" for key in new
            )
            verb, pronoun = ("are", "them") if len(new) > 1 else ("is", "it")
            warnings.warn(
                f"RemoteMonitor: {names} {verb} left out of every post: JSON cannot encode "
                f"{pronoun}. Training goes on; put numbers, strings, lists or tables in the "
                "logs to have them posted.",
                HookfitWarning,
                stacklevel=3,
            )
        return json.dumps({"epoch": epoch, **kept, "run_id": self.run_id})

    def _post(self, session: Any, outcomes: deque[str], send: str) -> None:
        headers = {"Content-Type": "application/json"} if self.send_as_json else {}
        headers.update(self.headers or {})
        body = send.encode() if self.send_as_json else {self.field: send}
        # Keras ignores the status, but an error answer loses the epoch too.
        outcomes.append(session.post(self.root + self.path, body, headers))

    def _count(self) -> None:
        # Counts and warnings come from the training thread, where the
        # user's filters and pytest's capture apply; each cause warns once.
        url = self._url()
        while self._outcomes:
            cause = self._outcomes.popleft()
            self.posts += 1
            if not cause:
                continue
            self.failures += 1
            if cause not in self._warned:
                self._warned.add(cause)
                msg = f"RemoteMonitor: could not post to {url}: {cause}. Training goes on; "
                msg += "further failures are counted and reported when training ends."
                warnings.warn(msg, HookfitWarning, stacklevel=3)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        # Bounded: a server slower than end_timeout does not hold fit's return.
        self._jobs.wait(timeout=self.end_timeout)
        self._count()
        self._close()
        # What has no outcome now (dropped, queued, or still in flight) is
        # given up: a post that ends later is not counted.
        self.given_up = self._submitted - self.posts
        self._outcomes = deque()
        url = self._url()
        if self.given_up:
            message = (
                f"RemoteMonitor: {self.given_up} of {self._submitted} posts to {url} were "
                f"given up: the server was slower than training (end_timeout="
                f"{self.end_timeout:g} s)."
            )
            if self.failures:
                message += f" {self.failures} of the {self.posts} others failed."
            warnings.warn(message, HookfitWarning, stacklevel=2)
        elif self.failures:
            message = f"RemoteMonitor: {self.failures} of {self.posts} posts to {url} failed."
            warnings.warn(message, HookfitWarning, stacklevel=2)

    def _url(self) -> str:
        return masked_text(self.root + self.path)

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
        self._session = None


def _run_id_from_environment() -> str:
    """``HOOKFIT_RUN_ID`` when it is a valid run id, else a new one."""
    given = os.environ.get(RUN_ID_VARIABLE)
    if given is None:
        return _new_run_id()
    if _run_id_text(given):
        return given
    run_id = _new_run_id()
    warnings.warn(
        f"RemoteMonitor: {RUN_ID_VARIABLE} is not printable text of 1 to {MAX_RUN_ID} "
        f"characters, got {masked_text(given)!r}; this run's id is {run_id}. Set it to a "
        "short name, or unset it.",
        HookfitWarning,
        stacklevel=3,
    )
    return run_id


def _json_key(key: Any) -> bool:
    return key is None or isinstance(key, str | int | float)  # bool is an int


def _new_run_id() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def _plain(value: Any) -> Any:
    # json cannot encode numpy scalars and arrays; tolist() gives Python values.
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value.tolist() if hasattr(value, "tolist") else value
