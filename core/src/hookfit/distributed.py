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
wait forever in their next collective call. During a data-parallel `fit`
(`together`), a rank that leaves by ``sys.exit`` or ``os._exit``, whatever
the status, ends every rank with a message and a non-zero status too. A fit
starts with the ranks checking they were given the same data, arguments and
model (`agree`).

``hookfit train`` started by ``mpiexec`` without ``--distributed`` is
refused (`launched_world`): it would train the same model once per process.
"""

from __future__ import annotations

import os
import stat
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from .errors import ConfigError, MissingDependencyError

INSTALL = 'pip install "hookfit[mpi]"'

if TYPE_CHECKING:  # the module stays light: `hookfit train` imports it
    import numpy as np

# How long an aborting rank waits for the launcher to read its last output.
DRAIN_SECONDS = 2.0

_comm: Any = None  # mpi4py's COMM_WORLD once joined with more than one rank
_joined = False
_previous_hook: Callable[..., Any] | None = None
_section: str | None = None  # the data-parallel call every rank is in (`together`)
_pid = 0  # the process that joined: a forked child's os._exit is its own
_os_exit = os._exit

# (rank, size) variables that MPI launchers set in each process they start:
# MPICH's hydra (and Intel MPI), Open MPI, MVAPICH2. Slurm's SLURM_NTASKS is
# left out: it is set in a batch script's single process too.
LAUNCHER_VARIABLES = (
    ("PMI_RANK", "PMI_SIZE"),
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
    ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE"),
)


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
    global _comm, _joined, _previous_hook, _pid
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
    _pid = os.getpid()
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


def launched_world(environ: Mapping[str, str] | None = None) -> tuple[int, int] | None:
    """``(rank, size)`` when an MPI launcher (``mpiexec``, ``mpirun``)
    started this process as one of several, from the variables it sets
    (`LAUNCHER_VARIABLES`); None otherwise. mpi4py is not imported."""
    environ = os.environ if environ is None else environ
    for rank_name, size_name in LAUNCHER_VARIABLES:
        try:
            world = int(environ.get(rank_name, "0")), int(environ.get(size_name, "1"))
        except ValueError:  # not set by a launcher after all
            continue
        if world[1] > 1:
            return world
    return None


def abort(code: int = 1) -> NoReturn:
    """End every rank now with exit status ``code`` (after flushing this
    rank's output); in a world of one, only this process."""
    # may run in a signal handler that interrupted a write to these streams
    for stream in (sys.stdout, sys.stderr):
        with suppress(RuntimeError, OSError, ValueError):
            stream.flush()
    if _comm is None:
        raise SystemExit(code)
    # MPI_Abort has the launcher kill every rank, and it does not first read
    # what is left in this rank's output pipes: the wait keeps the tail of the
    # traceback (the error itself) from being lost.
    _wait_until_read(sys.stdout, sys.stderr)
    _comm.Abort(code)
    # MPICH's MPI_Abort asks mpiexec to end the job and may return before
    # it does: this process must not go on (and report twice).
    _os_exit(code)


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


# -- leaving together -------------------------------------------------------------------


@contextmanager
def together(what: str) -> Iterator[None]:
    """Run ``what`` (a data-parallel `fit`), which every rank must leave together.

    A rank that leaves it by ``SystemExit`` (``sys.exit`` in a hook, any
    status) or by ``os._exit`` (any status) prints why and ends every rank
    with a non-zero status. Other exceptions go on as raised: uncaught, they
    end every rank (`initialize`'s excepthook); every rank may also raise
    the same one at the same point and go on together.

    Why not leave it to mpiexec: ``SystemExit`` runs ``MPI_Finalize``, and
    the other ranks then wait forever for this one in their next collective
    call. On ``os._exit`` (or a signal) MPICH's hydra kills the other ranks
    at once, with SIGKILL, so they can do nothing, and mpiexec's status is
    the leaving rank's own: ``os._exit(0)`` would end an unfinished run with
    status 0 and no message. Only the leaving rank can tell, so during
    ``what`` ``os._exit`` aborts (`abort`) instead. A ``from os import _exit``
    made before, or a C library's ``_exit``, is out of reach; a signal is
    reported by hydra itself (non-zero, with the signal's name).
    """
    global _section
    if _comm is None or _section is not None:
        yield
        return
    _section = what
    os._exit = _exit_world
    try:
        yield
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        _leave(f"SystemExit({exc.code!r})", code)
    finally:
        _section = None
        os._exit = _os_exit


def _exit_world(status: int) -> NoReturn:
    """``os._exit`` during `together`: end every rank, not this one only."""
    if os.getpid() != _pid or _section is None:  # a forked child's, or a late call
        _os_exit(status)
    _leave(f"os._exit({status!r})", status)


def _leave(how: str, code: int) -> NoReturn:
    """This rank leaves `together`'s call early: say so, end every rank."""
    message = (
        f"hookfit.distributed: rank {rank()} of {size()} left {_section} early by {how}; "
        "ending every rank, which would otherwise wait for it forever. To stop training on "
        "every rank, set model.stop_training = True in a hook instead.\n"
    )
    with suppress(RuntimeError, OSError, ValueError):
        sys.stdout.flush()
    os.write(2, message.encode())  # not sys.stderr: os._exit may come from a signal handler
    abort(code if code else 1)  # never 0: the run did not finish


def agree(what: str, facts: Mapping[str, str]) -> None:
    """Check that every rank has the same ``facts`` (short descriptions by
    name: ``{"batch_size": "32", ...}``), in one ``allgather`` call.

    Raises:
        ConfigError: On every rank, when they differ; the message names
            each fact that differs and each rank's value.
    """
    every = allgather(dict(facts))
    differ = [
        name
        for name in dict.fromkeys(k for ranks in every for k in ranks)
        if len({ranks.get(name) for ranks in every}) > 1
    ]
    if not differ:
        return
    lines = []
    for name in differ:
        holders: dict[str | None, list[int]] = {}
        for r, ranks in enumerate(every):
            holders.setdefault(ranks.get(name), []).append(r)
        lines.append(
            ", ".join(
                f"{_ranks(rs)} {'has' if len(rs) == 1 else 'have'} {name}={value}"
                for value, rs in holders.items()
            )
        )
    raise ConfigError(
        f"{what}: the {len(every)} MPI ranks were not given the same {', '.join(differ)}: "
        + "; ".join(lines)
        + f". Under mpiexec every rank runs {what} with the same data and arguments on a model "
        "built and compiled the same way (each trains its share of every batch): give every "
        "rank the same values."
    )


def _ranks(ranks: list[int]) -> str:
    """``rank 1``, ``ranks 0 and 2``, ``ranks 0, 2 and 5`` or ``ranks 0-7``."""
    if len(ranks) == 1:
        return f"rank {ranks[0]}"
    if ranks == list(range(ranks[0], ranks[-1] + 1)) and len(ranks) > 2:
        return f"ranks {ranks[0]}-{ranks[-1]}"
    return f"ranks {', '.join(map(str, ranks[:-1]))} and {ranks[-1]}"


def allgather(obj: Any) -> list[Any]:
    """Every rank's ``obj`` (any small picklable value), in rank order."""
    return [obj] if _comm is None else list(_comm.allgather(obj))


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
    "agree",
    "allgather",
    "allreduce",
    "any_rank",
    "broadcast",
    "initialize",
    "launched_world",
    "rank",
    "size",
    "timings",
    "together",
    "total",
]
