"""Plugins' slow I/O (checkpoint files, backups, fsyncs, HTTP posts) on one
background thread, in submission order, so training does not wait for the
disk or the network.

A plugin keeps a `Jobs` and submits work to it; it calls `Jobs.wait` in
``on_train_end`` (which the core runs also after an error), so that every
write has finished, and every error has been raised, before ``fit`` returns.
An error in a job is raised in the training thread at the plugin's next
submit or wait, with a note naming the plugin.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # One worker: jobs run in the order they were submitted, so a
            # checkpoint is complete before the older one it replaces goes.
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hookfit-io")
        return _pool


def drain() -> None:
    """Block until every job submitted so far, by any plugin, has finished
    (errors stay with the plugins' `Jobs`)."""
    if _pool is not None:
        _executor().submit(lambda: None).result()


class Jobs:
    """The background jobs of one plugin.

    Args:
        owner: The plugin, for error notes (e.g. ``"ModelCheckpoint"``).
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._pending: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Run ``fn(*args, **kwargs)`` on the background thread, after every
        job submitted before it (by any plugin).

        Raises:
            Exception: The error of an earlier job of this plugin, if any.
        """
        self._collect(block=False)
        self._pending.append(_executor().submit(fn, *args, **kwargs))

    def wait(self) -> None:
        """Block until this plugin's jobs are done.

        Raises:
            Exception: The first error among them, with a note.
        """
        self._collect(block=True)

    def _collect(self, block: bool) -> None:
        pending, self._pending = self._pending, []
        for i, future in enumerate(pending):
            if not block and not future.done():
                self._pending = pending[i:]
                return
            error = future.exception()
            if error is not None:
                # the later jobs still run; their results are not checked
                error.add_note(f"hookfit: raised in a background job of {self.owner}")
                raise error
