"""Keras's RemoteMonitor callback: post every epoch's logs to an HTTP server."""

from __future__ import annotations

import json
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

    Args:
        root: Root URL of the server, ``http://`` or ``https://``.
        path: Path appended to ``root`` as it is.
        field: The form field that holds the JSON (unused with send_as_json).
        headers: Extra HTTP headers sent with every post.
        send_as_json: Send the dict as the JSON body instead of a form field.
        timeout: Seconds to wait for the server to connect, and to answer.

    Attributes:
        posts: Posts attempted in the current (or last) run.
        failures: Those of them that failed.

    Raises:
        ConfigError: An argument does not fit its type hint; the message
            names it.
        MissingDependencyError: ``requests`` is not installed (when training begins).

    Example:
        >>> monitor = RemoteMonitor(root="http://localhost:9000", send_as_json=True)
        >>> model.fit(X_train, Y_train, callbacks=[monitor])  # doctest: +SKIP
    """

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
    ) -> None:
        super().__init__()
        self.root, self.path, self.field, self.headers = root, path, field, headers
        self.send_as_json, self.timeout = send_as_json, float(timeout)
        self.posts = self.failures = 0
        self._session: Any = None
        # Posts go out on hookfit's I/O thread: a slow server never stalls a batch.
        self._jobs = Jobs("RemoteMonitor")

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        try:
            import requests
        except ImportError:
            raise MissingDependencyError(_MISSING) from None
        self._close()
        self._session = requests.Session()
        self.posts = self.failures = 0
        self._warned: set[str] = set()
        self._causes: deque[str] = deque()  # filled by the I/O thread

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._session is None:  # driven by hand, without on_train_begin
            self.on_train_begin()
        send = json.dumps({"epoch": epoch, **{k: _plain(v) for k, v in (logs or {}).items()}})
        self._jobs.submit(self._post, send)
        self._warn()

    def _post(self, send: str) -> None:
        import requests

        url = self.root + self.path
        headers = {"Content-Type": "application/json"} if self.send_as_json else {}
        headers.update(self.headers or {})
        body = send.encode() if self.send_as_json else {self.field: send}
        self.posts += 1
        try:
            with self._session.post(url, data=body, headers=headers, timeout=self.timeout) as r:
                # Keras ignores the status, but an error answer loses the epoch too.
                failed = r.status_code >= 400
                cause = f"HTTP {r.status_code} {r.reason or ''}".strip() if failed else ""
        except requests.Timeout:
            cause = f"timed out after {self.timeout:g} s"
        except requests.RequestException as exc:
            cause = _reason(exc)
        if cause:
            self.failures += 1
            self._causes.append(cause)

    def _warn(self) -> None:
        # Warnings come from the training thread, where the user's filters and
        # pytest's capture apply, once per cause.
        url = self.root + self.path
        while self._causes:
            cause = self._causes.popleft()
            if cause not in self._warned:
                self._warned.add(cause)
                msg = f"RemoteMonitor: could not post to {url}: {cause}. Training goes on; "
                msg += "further failures are counted and reported when training ends."
                warnings.warn(msg, HookfitWarning, stacklevel=3)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._jobs.wait()
        self._warn()
        self._close()
        if self.failures:
            url = self.root + self.path
            message = f"RemoteMonitor: {self.failures} of {self.posts} posts to {url} failed."
            warnings.warn(message, HookfitWarning, stacklevel=2)

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
        self._session = None


def _plain(value: Any) -> Any:
    # json cannot encode numpy scalars and arrays; tolist() gives Python values.
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value.tolist() if hasattr(value, "tolist") else value


def _reason(exc: BaseException) -> str:
    # The socket error ("connection refused") sits a few wrappers deep.
    todo: list[Any] = [exc]
    for error in todo:  # grows while it is walked; capped in case of a cycle
        if isinstance(error, OSError) and isinstance(error.strerror, str):
            return error.strerror.lower()
        if isinstance(error, BaseException) and len(todo) < 100:
            todo += [error.__cause__, getattr(error, "reason", None), *error.args]
    return f"{type(exc).__name__}: {exc}"
