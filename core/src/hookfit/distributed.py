"""Data-parallel training over MPI: one process per core or node, each with
the same data, the same model and the same plugins.

    import hookfit.distributed as dist
    dist.initialize()          # once, at the start of the script
    model.fit(x, y, batch_size=256, epochs=10, callbacks=[...])

and ``mpiexec -n 4 python script.py`` (or ``mpiexec -n 4 hookfit train
--distributed CONFIG``). ``batch_size`` is the global batch: each of the N
processes (ranks) computes the gradient of its share, and one ``Allreduce``
per step averages them, so every rank applies the same update and ends with
the weights one process would reach. Every plugin sees the same global logs
on every rank; plugins that declare ``writes = True`` (files, the terminal,
the network) run on rank 0 only (`hookfit.hooks.dispatch.Run`).

Outside ``mpiexec`` the world has one process and nothing changes; until
`initialize` is called, mpi4py is not even imported. MPI comes from the
``mpi`` extra: ``pip install "hookfit[mpi]"`` (mpi4py and the MPICH wheels,
which bring ``mpiexec``).

Once joined, an exception that ends one rank's program ends every rank: the
error is printed, then ``MPI_Abort`` stops the others, which would otherwise
wait forever in their next collective call.
"""

from __future__ import annotations

import os
import stat
import sys
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .errors import MissingDependencyError

INSTALL = 'pip install "hookfit[mpi]"'

if TYPE_CHECKING:  # the module stays light: `hookfit train` imports it
    import numpy as np

# How long an aborting rank waits for the launcher to read its last output.
DRAIN_SECONDS = 2.0

_comm: Any = None  # mpi4py's COMM_WORLD once joined with more than one rank
_joined = False
_previous_hook: Callable[..., Any] | None = None


class Timings:
    """Where a data-parallel run spent its communication time (this rank).

    Attributes:
        allreduce_seconds: Wall time inside the gradient ``Allreduce`` calls.
        allreduce_calls: How many there were.
        allreduce_bytes: The bytes each call reduced (the last one's).
    """

    def __init__(self) -> None:
        self.allreduce_seconds = 0.0
        self.allreduce_calls = 0
        self.allreduce_bytes = 0


timings = Timings()


def initialize() -> None:
    """Join the MPI world that ``mpiexec`` (or ``srun``) started.

    Started without ``mpiexec``, the world has one process and training is
    unchanged. Calling it again does nothing.

    Raises:
        MissingDependencyError: mpi4py (or an MPI library for it) is not
            installed.
    """
    global _comm, _joined, _previous_hook
    if _joined:
        return
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as exc:  # RuntimeError: mpi4py found no MPI library
        raise MissingDependencyError(
            "hookfit.distributed.initialize() needs mpi4py and an MPI library; loading them "
            f"failed ({type(exc).__name__}: {exc}). Install them with {INSTALL} (mpi4py and "
            "the MPICH wheels, which bring mpiexec), then start the processes with mpiexec -n N."
        ) from None
    _joined = True
    if MPI.COMM_WORLD.Get_size() > 1:
        _comm = MPI.COMM_WORLD
        _previous_hook = sys.excepthook
        sys.excepthook = _abort_on_error


def rank() -> int:
    """This process's rank: 0 (the one that writes) to ``size() - 1``."""
    return 0 if _comm is None else int(_comm.Get_rank())


def size() -> int:
    """The number of processes training together (1 outside ``mpiexec``)."""
    return 1 if _comm is None else int(_comm.Get_size())


def abort(code: int = 1) -> None:
    """End every rank now with exit status ``code`` (after flushing this
    rank's output); in a world of one, only this process."""
    sys.stdout.flush()
    sys.stderr.flush()
    if _comm is None:
        raise SystemExit(code)
    # MPI_Abort has the launcher kill every rank, and it does not first read
    # what is left in this rank's output pipes: without this wait the tail of
    # the traceback (the error itself) was lost in 1 run of 10.
    _wait_until_read(sys.stdout, sys.stderr)
    _comm.Abort(code)
    # MPICH's MPI_Abort asks mpiexec to end the job and may return before
    # it does: this process must not go on (and report twice).
    os._exit(code)


def _wait_until_read(*streams: Any, timeout: float = DRAIN_SECONDS) -> bool:
    """Wait until whatever reads these streams' pipes has read every byte
    written to them, for at most ``timeout`` seconds; returns whether it did.

    A stream that is not a pipe (a terminal, a file) is never waited for.
    """
    pipes = []
    for stream in streams:
        try:
            fd = stream.fileno()
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                pipes.append(fd)
        except (AttributeError, OSError, ValueError):  # closed or no file behind it
            continue
    deadline = time.monotonic() + timeout
    while any(_unread(fd) for fd in pipes):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.001)
    return True


def _unread(fd: int) -> int:
    """Bytes written to the pipe ``fd`` that its reader has not read yet."""
    try:
        import fcntl  # POSIX only, and only needed while aborting
        import struct
        import termios

        return int(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0])
    except (ImportError, OSError):
        return 0


def _abort_on_error(
    kind: type[BaseException], error: BaseException, tb: TracebackType | None
) -> None:
    """sys.excepthook once joined: print the error as Python would, then end
    every rank, instead of leaving the others blocked in a collective call."""
    try:
        (_previous_hook or traceback.print_exception)(kind, error, tb)
        print(
            f"hookfit.distributed: rank {rank()} of {size()} failed; ending every rank.",
            file=sys.stderr,
        )
    finally:
        abort(130 if issubclass(kind, KeyboardInterrupt) else 1)


# -- the collective calls the trainer makes ------------------------------------------


def allreduce(buffer: np.ndarray) -> None:
    """Sum ``buffer`` (contiguous float32) over every rank, in place: the
    data-parallel step's one message (gradient, loss, size, stop flag)."""
    if _comm is None:
        return
    from mpi4py import MPI

    start = time.perf_counter()
    _comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
    timings.allreduce_seconds += time.perf_counter() - start
    timings.allreduce_calls += 1
    timings.allreduce_bytes = buffer.nbytes


def total(values: np.ndarray) -> np.ndarray:
    """``values`` (a small float64 array) summed over every rank (a new array)."""
    if _comm is None:
        return values.copy()
    import numpy as np
    from mpi4py import MPI

    out = np.empty_like(values)
    _comm.Allreduce(values, out, op=MPI.SUM)
    return out


def any_rank(flag: bool) -> bool:
    """True on every rank when ``flag`` is True on any rank."""
    if _comm is None:
        return flag
    from mpi4py import MPI

    return bool(_comm.allreduce(bool(flag), op=MPI.LOR))


def broadcast(obj: Any) -> Any:
    """Rank 0's ``obj`` (any picklable value), on every rank."""
    return obj if _comm is None else _comm.bcast(obj, root=0)


__all__ = [
    "abort",
    "allreduce",
    "any_rank",
    "broadcast",
    "initialize",
    "rank",
    "size",
    "timings",
    "total",
]
