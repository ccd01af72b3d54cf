"""Keras's RemoteMonitor callback: post every epoch's logs to an HTTP server."""

from __future__ import annotations

import json
import secrets
import time
import warnings
from collections import deque
from typing import Annotated, Any
from urllib.parse import urlsplit

from hookfit import Callback, Check, HookfitWarning, MissingDependencyError, Range
from hookfit.background import Jobs

_MISSING = (
    "RemoteMonitor requires the `requests` library: pip install hookfit-remote-monitor "
    "(which depends on it), or pip install requests."
)


def _http_url(root: str) -> bool:
    url = urlsplit(root)
    return url.scheme in ("http", "https") and bool(url.netloc)


class RemoteMonitor(Callback):
    """Stream the logs of every epoch to a server, one HTTP POST per epoch.

    Posts ``{"epoch": epoch, **logs}`` (numpy values made plain) to ``root +
    path``. A server that is down, slow or answers >= 400 never stops
    training: each kind of failure warns once, and ``on_train_end`` counts them.

    The posts leave from the plugin's own background lane, at most 16
    waiting (a newer one drops the oldest, with a warning). Each post has one
    deadline, ``timeout``, for connecting and the whole answer; an answer
    over 64 KiB is not read (a failure); a redirect is followed only as a
    307 or 308 within the same origin; ``~/.netrc`` is never read (a user and
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

    Attributes:
        posts: Posts attempted in the current (or last) run.
        failures: Those of them that failed.
        run_id: Sent as ``run_id`` with every post, new for every run:
            ``YYYYMMDD-HHMMSS-xxxxxx`` (the time training began, then random).

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
        headers: dict[str, str] | None = None,
        send_as_json: bool = False,
        timeout: Annotated[float, Range(gt=0)] = 5.0,
        end_timeout: Annotated[float, Range(ge=0)] = 3.0,
    ) -> None:
        super().__init__()
        self.root, self.path, self.field, self.headers = root, path, field, headers
        self.send_as_json, self.timeout = send_as_json, float(timeout)
        self.end_timeout = float(end_timeout)
        self.posts = self.failures = 0
        self._session: Any = None
        # Posts go out on the plugin's own lane: a slow server never stalls a
        # batch, nor another plugin's writes.
        self._jobs = Jobs("RemoteMonitor", capacity=16, network=True)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        try:
            import requests  # noqa: F401 - _post uses it; refused here with a clear message
        except ImportError:
            raise MissingDependencyError(_MISSING) from None
        from ._post import Poster

        self._close()
        self._session = Poster(self.timeout)
        self.posts = self.failures = 0
        self._given_up = self._jobs.dropped + self._jobs.abandoned
        self.run_id = _run_id()
        self._warned: set[str] = set()
        self._causes: deque[str] = deque()  # filled by the I/O thread

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._session is None:  # driven by hand, without on_train_begin
            self.on_train_begin()
        plain = {k: _plain(v) for k, v in (logs or {}).items()}
        # run_id tells this run's epochs from another's (hookfit monitor's panels).
        send = json.dumps({"epoch": epoch, **plain, "run_id": self.run_id})
        self._jobs.submit(self._post, send)
        self._warn()

    def _post(self, send: str) -> None:
        headers = {"Content-Type": "application/json"} if self.send_as_json else {}
        headers.update(self.headers or {})
        body = send.encode() if self.send_as_json else {self.field: send}
        self.posts += 1
        # Keras ignores the status, but an error answer loses the epoch too.
        cause = self._session.post(self.root + self.path, body, headers)
        if cause:
            self.failures += 1
            self._causes.append(cause)

    def _warn(self) -> None:
        # Warnings come from the training thread, where the user's filters and
        # pytest's capture apply, once per cause.
        url = self._url()
        while self._causes:
            cause = self._causes.popleft()
            if cause not in self._warned:
                self._warned.add(cause)
                msg = f"RemoteMonitor: could not post to {url}: {cause}. Training goes on; "
                msg += "further failures are counted and reported when training ends."
                warnings.warn(msg, HookfitWarning, stacklevel=3)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        # Bounded: a server slower than end_timeout does not hold fit's return.
        self._jobs.wait(timeout=self.end_timeout)
        self._warn()
        self._close()
        given_up = self._jobs.dropped + self._jobs.abandoned - self._given_up
        if self.failures or given_up:
            message = (
                f"RemoteMonitor: {self.failures} of {self.posts} posts to {self._url()} failed."
            )
            if given_up:
                message += (
                    f" {given_up} more were given up: the server was slower than training "
                    f"(end_timeout={self.end_timeout:g} s)."
                )
            warnings.warn(message, HookfitWarning, stacklevel=2)

    def _url(self) -> str:
        url = self.root + self.path
        if urlsplit(url).password is None:
            return url
        from ._post import shown

        return shown(url)

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
        self._session = None


def _run_id() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def _plain(value: Any) -> Any:
    # json cannot encode numpy scalars and arrays; tolist() gives Python values.
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value.tolist() if hasattr(value, "tolist") else value
