"""How many BLAS threads a fit uses, for the fit's duration only.

OpenBLAS starts one thread per core and keeps them spinning between calls.
When two trainings share the machine, their threads fight over the cores and
each runs many times slower than alone, while with one thread each both run
at nearly full speed. Alone, more threads are faster. So a fit uses the cores that
other processes leave idle, at least one, decided again at every epoch.
Before the first epoch that is the kernel's count of runnable threads now,
less this process's own; before the next ones, the CPU time other
processes used during the epochs since the last decision (``/proc/stat``
less this process's own time), so that a moment's work (a server answering
a post, the kernel committing an fsync) does not take a thread from a
whole epoch. Without ``/proc``, every core. A step too small for threads to
pay uses one. The caller's own setting is back when `fit` returns.

The count changes the last bits of float32 sums (a product split over two
threads adds in another order), so bit-identical reruns on a busy machine
need an explicit ``threads``.

threadpoolctl does the limiting: it finds every BLAS library loaded in the
process (OpenBLAS, MKL, BLIS) and changes their thread counts through their
own APIs, where an environment variable only works before numpy loads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from .. import distributed
from ..errors import ConfigError

PARALLEL_FLOPS = 1e6
"""The floating-point operations of one training step below which a fit
uses one thread: threads cost more than they save (the Keras documentation
model at batch 128 does 6 MFLOP per step and gains from a second thread)."""

WINDOW = 0.05
"""Seconds of CPU accounting the policy needs before it trusts them: the
kernel counts CPU time in ticks of 10 ms."""

_controller: Any = None


class Layered(Protocol):
    """A model as the policy sees it: layers holding weights."""

    @property
    def layers(self) -> Sequence[Any]: ...


def _blas() -> Any:
    """The process's thread pools (inspected once: about a millisecond)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this platform
        return os.cpu_count() or 1


def step_flops(model: Layered, batch_size: int) -> float:
    """About how many floating-point operations one training step takes:
    forward and backward through every weight matrix."""
    return 6.0 * batch_size * sum(w.size for layer in model.layers for w in layer.weights)


def checked(threads: Any, what: str) -> int | None:
    """``threads`` as given to `fit`: None (hookfit decides) or an int >= 1.

    Raises:
        ConfigError: Anything else.
    """
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(
            f"{what}: threads must be an integer >= 1 (BLAS threads for this fit) or None "
            f"(hookfit decides), got {threads!r}."
        )
    return threads


def others_running() -> int | None:
    """Threads of other processes running or waiting to run right now, from
    ``/proc/loadavg`` less this process's runnable threads; None without
    ``/proc``."""
    try:
        with open("/proc/loadavg") as f:
            runnable = int(f.read().split()[3].partition("/")[0])
        own = 0
        for task in os.scandir("/proc/self/task"):
            with open(f"{task.path}/stat") as f:
                # the state follows the parenthesised command name
                own += f.read().rpartition(")")[2].split()[0] == "R"
    except (OSError, ValueError, IndexError):
        return None
    return max(0, runnable - own)


def cpu_times() -> tuple[float, float, float] | None:
    """``(now, busy, own)`` in seconds: a monotonic clock, the CPU time all
    processes have used so far on the CPUs this process may run on
    (``/proc/stat``: user, nice, system, irq and softirq; not the time a
    hypervisor gave other machines) and this process's own. None without
    ``/proc``."""
    try:
        mine = {f"cpu{n}" for n in os.sched_getaffinity(0)}
        ticks = 0
        with open("/proc/stat") as f:
            for line in f:
                fields = line.split()
                if fields and fields[0] in mine:
                    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields[1:8])
                    ticks += user + nice + system + irq + softirq
        tick = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):  # AttributeError: no affinity here
        return None
    own = os.times()
    return time.monotonic(), ticks / tick, own.user + own.system


class Policy:
    """The BLAS threads of one fit: fixed when ``threads`` is given, else
    the idle cores (see the module), checked again at every epoch.

    Args:
        model: The model, for the size of its training step.
        batch_size: The batch size.
        threads: An explicit count, or None.
    """

    def __init__(self, model: Layered, batch_size: int, threads: int | None = None) -> None:
        self.fixed = threads
        self.small = step_flops(model, batch_size) < PARALLEL_FLOPS
        self._limits: list[Any] = []
        self.threads = 0
        self._since: tuple[float, float, float] | None = None

    def choose(self) -> int:
        """The thread count for now."""
        if self.fixed is not None:
            return self.fixed
        if distributed.size() > 1:  # under MPI the processes are the parallelism
            return 1
        available = cores()
        if available == 1 or self.small:
            return 1
        others = self._others(available)
        return available if others is None else max(1, min(available, available - others))

    def _others(self, available: int) -> int | None:
        """Cores other processes keep busy: measured over the epochs since
        the last decision once they last `WINDOW`, else counted now."""
        now, since = cpu_times(), self._since
        if now is None or since is None:
            self._since = now
            return others_running()
        elapsed = now[0] - since[0]
        if elapsed < WINDOW:  # too short to measure: the last decision holds
            return available - self.threads if self.threads else others_running()
        self._since = now
        used = (now[1] - since[1]) - (now[2] - since[2])
        return round(max(0.0, used) / elapsed)

    def update(self) -> None:
        """Apply `choose`, when it changed (about 10 microseconds)."""
        threads = self.choose()
        if threads != self.threads:
            self.threads = threads
            self._limits.append(_blas().limit(limits=threads, user_api="blas"))

    @contextmanager
    def limited(self) -> Iterator[Policy]:
        """Restore the caller's setting after the block, in which `update`
        runs before every epoch."""
        try:
            yield self
        finally:
            if self._limits:
                self._limits[0].restore_original_limits()
            self._limits.clear()
            self.threads = 0
            self._since = None
