"""``hookfit train``: the model and data a config describes (or the bundled
example), trained with the run's plugins; where its files went."""

from __future__ import annotations

import argparse
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import (
    ConfigError,
)
from ..hooks.arguments import ArgumentError
from ..hooks.specs import hookimpl
from ..run.plan import Plan, plan
from .common import EXIT_INTERRUPTED, command_settings


def train(args: argparse.Namespace) -> int:
    from ..run.job import mentions_run_dir, prepare, substitute

    run_dir = new_run_dir()
    settings, source = command_settings(args, bundled=True)
    uses_run_dir = {(s.path, s.origin) for s in settings if mentions_run_dir(s.value)}
    start = RunStart(run_dir)
    run = plan([start], config=substitute(settings, str(run_dir)), verbose=None)
    job = prepare(run)
    _note_unused(run)
    # Made only when a plugin that runs writes into it: no empty folders.
    start.needed = any(
        (s.path, s.origin) in uses_run_dir for p in run.plugins for s in p.arguments.values()
    )
    start.banner = _banner(run, source)
    try:
        with _ctrl_c(job.model) as interrupted:
            history = job.model.fit(
                job.x, job.y, **job.fit_args, validation_data=job.validation, callbacks=run
            )
    except ArgumentError as exc:
        # A plugin refused its destination in on_train_begin: name the
        # setting, and leave nothing of the refused run behind.
        start.tidy(refused=True)
        raise _at_origin(run, exc) from None
    finally:
        start.tidy()
    _report(run, run_dir, history)
    if interrupted():
        print(
            "hookfit: stopped by Ctrl-C after the current batch; files are complete.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
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

    Attributes:
        path: The run directory.
        needed: Whether a plugin of the run writes into it.
        banner: The line that announces the run.
        created: Whether this run created the run directory.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.needed = False
        self.banner = ""
        self.created = False
        self.made_parent = False

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
            ConfigError: It exists already.
        """
        if not self.needed or self.created:
            return
        self.made_parent = not self.path.parent.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.path.mkdir()  # no exist_ok: two runs must never share a folder
        except FileExistsError:
            raise ConfigError(
                f"run directory {self.path} exists already; another run made it. Nothing was "
                "written: start the run again (it gets a new name)."
            ) from None
        self.created = True

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


@contextmanager
def _ctrl_c(model: Any) -> Iterator[Any]:
    """First Ctrl-C: stop after the current batch (on_train_end runs, files
    are closed). A second one interrupts at once."""
    hits = 0

    def handler(signum: int, frame: Any) -> None:
        nonlocal hits
        hits += 1
        if hits > 1:
            raise KeyboardInterrupt
        model.stop_training = True
        print(
            "\nhookfit: Ctrl-C: stopping after this batch (again to abort).",
            file=sys.stderr,
            flush=True,
        )

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: hits > 0
    finally:
        signal.signal(signal.SIGINT, previous)


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
