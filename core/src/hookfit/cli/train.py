"""``hookfit train``: the model and data a config describes (or the bundled
example), trained with the run's plugins; where its files went."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import (
    ConfigError,
    MissingDependencyError,
    PluginError,
)
from ..hooks.arguments import ArgumentError
from ..hooks.specs import hookimpl
from ..run.plan import Plan, plan
from .common import EXIT_INTERRUPTED, EXIT_REFUSED, EXIT_TERMINATED, command_settings, print_error


def train(args: argparse.Namespace) -> int:
    from .. import distributed as dist

    if not getattr(args, "distributed", False):
        world = dist.launched_world()  # mpiexec without --distributed: N whole trainings
        if world is not None:
            rank, size = world
            if rank == 0:  # one message, not one per process
                print_error(
                    ConfigError(
                        f"hookfit train was started by an MPI launcher (mpiexec) as one of {size} "
                        "processes, without --distributed: each would train the same model alone. "
                        f"Add --distributed to train one model over the {size} processes (mpiexec "
                        f"-n {size} hookfit train --distributed ...), or run it without mpiexec."
                    )
                )
            return EXIT_REFUSED
        return _train(args)

    try:
        dist.initialize()
    except MissingDependencyError as exc:
        print_error(exc)
        return EXIT_REFUSED
    try:
        return _train(args, dist.rank())
    except (ConfigError, PluginError) as exc:
        if dist.size() == 1:
            raise
        # The other ranks would wait for this one in their next collective
        # call: report, then end them all.
        print_error(exc)
        dist.abort(EXIT_REFUSED)
        raise


def _train(args: argparse.Namespace, rank: int = 0) -> int:
    """``hookfit train``; under MPI (``--distributed``) every rank runs it,
    and only rank 0 (``rank``) makes the run directory and reports."""
    from .. import distributed as dist
    from ..run.job import mentions_run_dir, prepare, substitute

    run_dir = Path(dist.broadcast(str(new_run_dir())))  # one name for every rank
    # The run's name, for plugins that name runs (CONTRIBUTING: "The run's name").
    os.environ["HOOKFIT_RUN_ID"] = run_dir.name
    settings, source = command_settings(args, bundled=True)
    uses_run_dir = {(s.path, s.origin) for s in settings if mentions_run_dir(s.value)}
    start, stop = RunStart(run_dir), StopSignals()
    run = plan([start, stop], config=substitute(settings, str(run_dir)), verbose=None)
    job = prepare(run)
    if rank == 0:
        _note_unused(run)
    # Made only when a plugin that runs writes into it: no empty folders.
    start.needed = any(
        (s.path, s.origin) in uses_run_dir for p in run.plugins for s in p.arguments.values()
    )
    start.banner = _banner(run, source)
    try:
        with stop.installed(job.model):
            history = job.model.fit(
                job.x, job.y, **job.fit_args, validation_data=job.validation, callbacks=run
            )
    except ArgumentError as exc:
        # A plugin refused its destination in on_train_begin: name the
        # setting, and leave nothing of the refused run behind.
        start.tidy(refused=True)
        raise _at_origin(run, exc) from None
    except ConfigError as exc:
        if exc is not start.refusal:
            raise
        raise ConfigError(str(exc)) from None  # without the note that names a plugin
    finally:
        start.tidy()
    if rank == 0:
        _report(run, run_dir, history)
    if stop.received is not None:
        name, code = STOP_SIGNALS[stop.received]
        print(
            f"hookfit: stopped by {name} after the current batch; files are complete.",
            file=sys.stderr,
        )
        return code
    return 0


def _banner(run: Plan, source: str) -> str:
    from ..run.job import EXAMPLE, from_example

    epochs = run.values("fit").get("epochs", 1)
    text = f"hookfit {__version__}: training with {source}"
    if source == EXAMPLE:
        return f"{text} ({epochs} epochs)"
    sections = [
        f"[{name}]"
        for name in ("model", "fit", "data")
        if any(from_example(s) for s in run.section(name).values())
    ]
    if not sections:
        return text
    return (
        f"{text}; the {', '.join(sections)} keys it does not set come from the {EXAMPLE} "
        f"({epochs} epochs; hookfit config shows every value)"
    )


def _at_origin(run: Plan, exc: ArgumentError) -> ConfigError:
    """The error of a plugin's argument, named by the setting that gave it."""
    for entry in run.plugins:
        setting = entry.arguments.get(exc.key)
        if setting is not None and type(entry.obj).__name__ == exc.owner:
            found = exc.at(setting.origin)
            for note in getattr(exc, "__notes__", ()):
                found.add_note(note)
            return found
    return exc


def new_run_dir(root: Path = Path("runs")) -> Path:
    """A name for a new run directory: ``runs/<date>-<time>-<random>``.

    The random part keeps two runs started in the same second apart;
    `RunStart` creates the folder only when it is needed, and refuses one
    that exists.
    """
    return root / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


class RunStart:
    """The start of ``hookfit train``'s run: creates the run directory first
    (when a plugin writes into it), announces the run last, once every
    plugin's ``on_train_begin`` has checked its setup.

    Under MPI it runs on rank 0 only (``writes``).

    Attributes:
        path: The run directory.
        needed: Whether a plugin of the run writes into it.
        banner: The line that announces the run.
        created: Whether this run created the run directory.
    """

    writes = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.needed = False
        self.banner = ""
        self.created = False
        self.made_parent = False
        self.refusal: ConfigError | None = None

    def tidy(self, refused: bool = False) -> None:
        """Remove the run directory if this run made it and left it empty
        (or, ``refused``, with what the refused run wrote), and ``runs/``
        if this run made it and it is empty now."""
        if not self.created:
            return
        if refused:
            shutil.rmtree(self.path, ignore_errors=True)
        folders = [self.path, self.path.parent] if self.made_parent else [self.path]
        for folder in folders:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()

    @hookimpl(tryfirst=True, specname="on_train_begin")
    def make_run_directory(self) -> None:
        """Create the run directory, atomically: never one another run made.

        Raises:
            ConfigError: It exists already, or cannot be made (``runs`` is
                a file, or not writable).
        """
        if not self.needed or self.created:
            return
        runs = self.path.parent
        self.made_parent = not runs.exists()
        try:
            runs.mkdir(parents=True, exist_ok=True)
            self.path.mkdir()  # no exist_ok: two runs must never share a folder
        except FileExistsError:
            if runs.is_dir():
                raise self.refused(
                    f"run directory {self.path} exists already; another run made it. Nothing "
                    "was written: start the run again (it gets a new name)."
                ) from None
            from ..run.sources import not_a_file

            what = "is a file" if runs.is_file() else not_a_file(runs) or "is a broken link"
            raise self.refused(
                f"cannot create the run directory {self.path}: {runs} {what}, not a folder. "
                f"Nothing was written: rename or remove {runs}, or start hookfit train in "
                "another folder."
            ) from None
        except OSError as exc:
            raise self.refused(
                f"cannot create the run directory {self.path}: {exc.strerror} "
                f"({exc.filename or self.path}). Nothing was written: make {runs} writable, or "
                "start hookfit train in a folder this user can write."
            ) from None
        self.created = True

    def refused(self, message: str) -> ConfigError:
        """The error for a run directory that cannot be made; `_train`
        reports it without naming a plugin (RunStart is the command's own)."""
        self.refusal = ConfigError(message)
        return self.refusal

    @hookimpl(trylast=True, specname="on_train_begin")
    def announce(self) -> None:
        """Print the banner, naming the run directory if it was made."""
        where = f"; run directory {self.path}" if self.created else ""
        print(f"{self.banner}{where}", flush=True)


def _note_unused(run: Plan) -> None:
    for entry in run.off:
        if entry.arguments:
            print(
                f"hookfit: note: callbacks.{entry.name} is set but the plugin is off "
                f"({entry.why}).",
                file=sys.stderr,
            )


# The stop signals of hookfit train: what the messages call each, and the exit status.
STOP_SIGNALS: dict[int, tuple[str, int]] = {
    signal.SIGINT: ("Ctrl-C", EXIT_INTERRUPTED),
    signal.SIGTERM: ("SIGTERM", EXIT_TERMINATED),
}


class StopSignals:
    """Ctrl-C and SIGTERM (what schedulers and containers send) during
    ``hookfit train``.

    The first stops training after the current batch: the unfinished epoch
    has no epoch end, ``on_train_end`` runs with ``model.interrupted`` true
    (BackupAndRestore keeps its backup), files are closed, and the command
    exits 130 (SIGINT) or 143 (SIGTERM). A second one aborts at once, with
    one line and no traceback; files are whole, as after a kill.

    Attributes:
        received: The first signal received, or None.
    """

    def __init__(self) -> None:
        self.received: int | None = None

    @contextmanager
    def installed(self, model: Any) -> Iterator[None]:
        """Handle the stop signals while training ``model``."""

        def handler(signum: int, frame: Any) -> None:
            # The messages go straight to file descriptor 2: the signal may
            # have interrupted a write to sys.stdout or sys.stderr, and a
            # buffered stream written again from here raises "reentrant call".
            name, code = STOP_SIGNALS[signum]
            if self.received is not None:
                with suppress(RuntimeError, OSError, ValueError):
                    sys.stdout.flush()
                os.write(2, f"\nhookfit: {name} again: aborted at once.\n".encode())
                os._exit(code)  # at once: no hook, no wait, no traceback
            self.received = signum
            model.stop_training = model.interrupted = True
            os.write(
                2, f"\nhookfit: {name}: stopping after this batch (again to abort).\n".encode()
            )

        previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
        try:
            yield
        finally:
            for s, old in previous.items():
                signal.signal(s, old)

    @hookimpl(specname="on_epoch_begin")
    def stop_again(self, model: Any) -> None:
        """A signal that came while the run started (before the trainer
        reset its flags): stop after this epoch's first batch."""
        if self.received is not None and not model.interrupted:
            model.stop_training = model.interrupted = True


def _report(run: Plan, run_dir: Path, history: Any) -> None:
    if history is not None and history.history:
        # training metrics first, then validation, as the progress bar shows them
        keys = sorted(history.history, key=lambda k: k.startswith("val_"))
        last = {k: history.history[k][-1] for k in keys}
        shown = " - ".join(
            f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in last.items()
        )
        print(f"Last epoch ({history.epoch[-1] + 1}): {shown}")
    outputs = []
    for entry in run.plugins:
        for key, setting in entry.arguments.items():
            value = setting.value
            if isinstance(value, str) and ("/" in value or "." in value):
                # a filename pattern such as weights.{epoch:02d}.h5: its folder
                path = Path(value).parent if "{" in value else Path(value)
                if path.exists():
                    outputs.append(f"  {entry.name}.{key}: {path}")
    if outputs:
        print("Files written:")
        print("\n".join(outputs))
    if run_dir.exists():
        print(f"Run directory: {run_dir}")
