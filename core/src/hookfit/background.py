"""Plugins' slow I/O (checkpoint files, backups, fsyncs, HTTP posts) off the
training thread. Each plugin's `Lane` is its own: one thread and a
bounded queue, so a slow disk or server holds neither training nor another
plugin's lane. A lane's thread comes from a small pool and goes back to it
when the lane is empty, so the lanes of the next run (new plugin instances)
wake a waiting thread instead of starting one: ``Thread.start`` waits for the
new thread to run, 0.5 to 1 ms of the hook that submits when other lanes are
busy.

A lane runs its jobs in submission order. When its queue is full, a new job
replaces the oldest pending job that may be dropped, and a warning says so,
once per lane; a job with a ``key`` replaces the pending job of the same key
(a newer backup of the same file, an fsync of the same file). A plugin calls
`Lane.make_room` before it copies a model's state, so that a copy is taken
only when the lane can take it, and never piles up behind a slow disk.

A plugin calls `Lane.wait` in ``on_train_end`` (which the core runs also
after an error): a file lane is always completed; a network lane
(``network=True``) is waited for at most a given time, and what is still
pending is given up. An error in a job is raised in the training thread at
the plugin's next submit or wait, with a note naming the plugin.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import warnings
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from .errors import ConfigError, HookfitWarning

# An idle lane thread waits this long in the pool for a lane before it ends:
# no thread lingers long after a run.
IDLE_SECONDS = 1.0

_lanes: weakref.WeakSet[Lane] = weakref.WeakSet()
_pool = threading.Lock()  # guards _idle and every worker's lane
_idle: list[_Worker] = []


def drain() -> None:
    """Block until every job submitted so far, by any plugin, has finished
    (errors stay with the plugins' lanes)."""
    for jobs in list(_lanes):
        jobs._idle(None)


@atexit.register
def _finish_files() -> None:
    # Lane threads are daemons (a hung server must not hold the interpreter
    # at exit), so the writes of file lanes are completed here.
    for jobs in list(_lanes):
        if not jobs.network:
            jobs._idle(None)


def mark() -> dict[Lane, int]:
    """Where every file lane is now. A job submitted with ``after=mark()``
    runs only once the jobs submitted to those lanes before the mark have
    finished or been dropped: BackupAndRestore writes a backup only after
    the files its plugins' states name (checkpoints written, old ones
    deleted), so the backup never names a file that is not there yet."""
    return {jobs: jobs._seq for jobs in list(_lanes) if not jobs.network}


@dataclass(eq=False)  # a job is itself: two alike are two jobs
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    key: Any = None
    keep: bool = False
    on_drop: Callable[[], Any] | None = field(default=None, repr=False)
    after: dict[Lane, int] | None = field(default=None, repr=False)
    seq: int = 0


class Lane:
    """The background lane of one plugin.

    Args:
        owner: The plugin, for messages (e.g. ``"ModelCheckpoint"``).
        capacity: Pending jobs the lane holds; at this many, a new job
            drops the oldest droppable one. Model copies are large: a
            plugin that hands over copies keeps this small.
        network: The jobs talk to a server: `wait` may give up on them, and
            the interpreter does not wait for them at exit.

    Attributes:
        dropped: Jobs dropped because the lane was full.
        abandoned: Jobs given up by a `wait` with a timeout.
    """

    def __init__(self, owner: str, *, capacity: int = 256, network: bool = False) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ConfigError(
                f"{type(self).__name__}({owner!r}): capacity must be an integer >= 1 (pending "
                f"jobs the lane holds), got {capacity!r}."
            )
        self.owner = owner
        self.capacity = capacity
        self.network = network
        self.dropped = self.abandoned = 0
        self._pending: deque[_Job] = deque()
        self._running: int | None = None  # the seq of the job running
        self._seq = 0  # of the last job submitted
        self._served = False  # a worker runs this lane's jobs
        self._errors: list[BaseException] = []
        self._cond = threading.Condition()
        self._warned = False
        _lanes.add(self)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Run ``fn(*args, **kwargs)`` on this lane's thread, after the jobs
        submitted before it. It may be dropped if the lane fills up.

        Raises:
            Exception: The error of an earlier job of this lane, if any.
        """
        self._enqueue(_Job(fn, args, kwargs))

    def options(
        self,
        *,
        key: Any = None,
        keep: bool = False,
        on_drop: Callable[[], Any] | None = None,
        after: dict[Lane, int] | None = None,
    ) -> Submitter:
        """A submitter with options, to hand to code that calls ``submit``
        (a host's ``save(..., jobs=...)``).

        Args:
            key: A pending job with the same key is replaced by the new one,
                silently (the newer one makes it useless).
            keep: Never drop this job (small bookkeeping: a file deletion).
            on_drop: Called in the training thread if the job is dropped.
            after: A `mark`: the job waits, on this lane's thread, for the
                jobs of the other lanes submitted before it.
        """
        return Submitter(self, key, keep, on_drop, after)

    def make_room(self, key: Any = None) -> None:
        """Drop the pending job of ``key``, then the oldest droppable one
        while the lane is full, so that the next job is accepted as it is.
        Call it before copying a model's state for the lane."""
        dropped = []
        with self._cond:
            if key is not None:
                self._pending = deque(j for j in self._pending if j.key != key)
            while len(self._pending) >= self.capacity:
                oldest = next((j for j in self._pending if not j.keep), None)
                if oldest is None:
                    break  # only small jobs that must run: they are let through
                self._pending.remove(oldest)
                dropped.append(oldest)
        for job in dropped:
            self.dropped += 1
            if job.on_drop is not None:
                job.on_drop()
        if dropped and not self._warned:
            self._warned = True
            _warn(
                f"{self.owner}: its background work is slower than training; the oldest "
                "pending job was dropped so that training never waits for it. Further drops "
                "are not reported again."
            )

    def wait(self, timeout: float | None = None) -> bool:
        """Block until this lane's jobs are done; with ``timeout``, for at
        most that many seconds, then give up the jobs not started (the one
        running is left to end on its own).

        Returns:
            True when every job finished.

        Raises:
            Exception: The first error among the jobs, with a note.
        """
        done = self._idle(timeout)
        if not done:
            with self._cond:
                self.abandoned += len(self._pending)
                self._pending.clear()
        self._raise_error()
        return done

    # -- the lane ---------------------------------------------------------------------

    def _enqueue(self, job: _Job) -> None:
        self._raise_error()
        self.make_room(job.key)
        with self._cond:
            self._seq += 1
            job.seq = self._seq
            self._pending.append(job)
            if not self._served:
                self._served = True
                _Worker.serve(self)
            else:
                self._cond.notify_all()

    def _work(self, worker: _Worker) -> None:
        """Run the jobs until none is pending, then give ``worker`` back."""
        while True:
            with self._cond:
                self._running = None
                if not self._pending:
                    self._served = False
                    worker.release()  # in the pool before a waiter hears the lane is done
                    self._cond.notify_all()
                    return
                job = self._pending.popleft()
                self._running = job.seq
                self._cond.notify_all()
            try:
                for lane, seq in (job.after or {}).items():
                    if lane is not self:
                        lane._reach(seq)
                job.fn(*job.args, **job.kwargs)
            except BaseException as exc:  # raised in the training thread instead
                with self._cond:
                    self._errors.append(exc)
            finally:
                del job  # its arguments (a model's copy) go now, not at the next job

    def _idle(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending or self._running is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _reach(self, seq: int) -> None:
        """Block until the jobs up to ``seq`` have finished or been dropped."""
        with self._cond:
            while (self._running is not None and self._running <= seq) or any(
                job.seq <= seq for job in self._pending
            ):
                self._cond.wait()

    def _raise_error(self) -> None:
        with self._cond:
            errors, self._errors = self._errors, []
        if errors:
            # the later jobs still ran; the first error is the one to fix
            error = errors[0]
            error.add_note(f"hookfit: raised in a background job of {self.owner}")
            raise error


class _Worker:
    """A daemon thread that runs one lane's jobs at a time, and between lanes
    waits `IDLE_SECONDS` in the pool for the next one."""

    def __init__(self, lane: Lane) -> None:
        self.lane: Lane | None = lane
        self.wake = threading.Condition(_pool)
        threading.Thread(target=self._run, name=f"hookfit-io-{lane.owner}", daemon=True).start()

    @staticmethod
    def serve(lane: Lane) -> None:
        """Give ``lane`` a worker: an idle one, else a new one."""
        with _pool:
            if _idle:
                worker = _idle.pop()
                worker.lane = lane
                worker.wake.notify()
                return
        _Worker(lane)

    def release(self) -> None:
        """Back to the pool (the lane calls it when it is empty)."""
        with _pool:
            self.lane = None
            _idle.append(self)

    def _run(self) -> None:
        lane = self.lane
        while lane is not None:
            threading.current_thread().name = f"hookfit-io-{lane.owner}"
            lane._work(self)
            with _pool:
                self.wake.wait_for(lambda: self.lane is not None, IDLE_SECONDS)
                lane = self.lane
                if lane is None:
                    _idle.remove(self)


def _forget_threads() -> None:
    # A forked child has none of its parent's threads: its lanes start
    # afresh, without the parent's pending jobs (the parent writes those).
    global _pool
    _pool = threading.Lock()
    _idle.clear()
    for jobs in list(_lanes):
        jobs._cond = threading.Condition()
        jobs._pending.clear()
        jobs._running, jobs._served = None, False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads)


class Submitter:
    """`Lane.options`: submits to a lane with options."""

    def __init__(
        self,
        jobs: Lane,
        key: Any,
        keep: bool,
        on_drop: Callable[[], Any] | None,
        after: dict[Lane, int] | None = None,
    ) -> None:
        self.jobs, self.key, self.keep, self.on_drop, self.after = jobs, key, keep, on_drop, after

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """As `Lane.submit`, with the options."""
        self.jobs._enqueue(_Job(fn, args, kwargs, self.key, self.keep, self.on_drop, self.after))

    def wait(self, timeout: float | None = None) -> bool:
        """As `Lane.wait`."""
        return self.jobs.wait(timeout)


def _warn(message: str) -> None:
    """Warn at the hook call that led here, which `hookfit.hooks.attribution`
    reports at the user's line (outside a run: at the caller's caller)."""
    from .hooks import dispatch

    frame: FrameType | None = sys._getframe(0)
    level = 1
    while frame is not None and frame.f_code.co_filename != dispatch.__file__:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, HookfitWarning, stacklevel=level if frame is not None else 4)


class Jobs(Lane):
    """Deprecated: the former name of `Lane`, kept so that plugins written
    against it still run. Use `Lane`, which takes the same arguments."""

    def __init__(self, owner: str, *, capacity: int = 256, network: bool = False) -> None:
        warnings.warn(
            "hookfit.background.Jobs is deprecated: use hookfit.background.Lane, which takes "
            "the same arguments.",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(owner, capacity=capacity, network=network)
