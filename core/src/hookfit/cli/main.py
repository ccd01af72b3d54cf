"""The ``hookfit`` command (also ``python -m hookfit``).

- ``hookfit train [CONFIG]``: train the model a config describes, or the
  bundled example, and say where its files went.
- ``hookfit plugins [--json]``: every installed plugin, on or off and why.
- ``hookfit config [CONFIG]``: every effective setting and where it came from.
- ``hookfit new-plugin NAME``: a ready third-party plugin package.

Exit status: 0 done, 1 an error while training, 2 a refused config or
command line (nothing written), 130 stopped with Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from .. import __version__
from ..errors import (
    ConfigError,
    PluginError,
    PluginLoadError,
    PluginValidationError,
    nearest,
)
from ..hooks.arguments import ArgumentError
from ..hooks.hints import shown
from ..hooks.specs import hookimpl
from ..run.catalogue import (
    PluginInfo,
    catalogue,
    hooks_in_source,
    install_hint,
    requires_hookfit,
)
from ..run.discovery import find_file
from ..run.plan import Plan, build_plugin, plan
from ..run.sources import Setting, display, from_command_line, read_file

EXIT_REFUSED = 2
EXIT_INTERRUPTED = 130

TRAIN_EXAMPLES = """\
examples:
  hookfit train                                  the bundled example (or ./hookfit.toml)
  hookfit train job.toml --set fit.epochs=5      a config file, one key changed
  hookfit train -p csv_logger --set callbacks.csv_logger.filename={run_dir}/log.csv
                                                 switch a plugin on; {run_dir} is runs/<time>-<id>

A config file's missing [model], [fit] and [data] keys come from the bundled
example; `hookfit config` shows every value and where it came from.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_REFUSED
    try:
        return int(args.run(args))
    except (ConfigError, PluginError) as exc:
        print(f"hookfit: error: {exc}", file=sys.stderr)
        for note in getattr(exc, "__notes__", ()):
            print(f"  {note}", file=sys.stderr)
        return EXIT_REFUSED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hookfit", description="Keras-style training callbacks as plugins."
    )
    parser.add_argument("--version", action="version", version=f"hookfit {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(
        name: str, help_text: str, run: Any, config_arg: bool = True, epilog: str | None = None
    ) -> Any:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=epilog,
            # keeps the examples' lines as written
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(run=run)
        if config_arg:
            sub.add_argument(
                "config_file",
                nargs="?",
                metavar="CONFIG",
                help="config file (default: hookfit.toml, or pyproject.toml with [tool.hookfit], "
                "found from here up to the project root)",
            )
        sub.add_argument(
            "--config", dest="config_option", metavar="PATH", help="config file (same as CONFIG)"
        )
        sub.add_argument(
            "-p",
            dest="plugins",
            action="append",
            default=[],
            metavar="NAME",
            help="switch a plugin on; -p no:NAME switches it off",
        )
        sub.add_argument(
            "--set",
            dest="sets",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="set a config key, e.g. --set callbacks.early_stopping.patience=5",
        )
        return sub

    command(
        "train",
        "Train the model the config describes (or the bundled example).",
        _train,
        epilog=TRAIN_EXAMPLES,
    )
    plugins = command(
        "plugins", "List every installed plugin, on or off and why.", _plugins, config_arg=False
    )
    plugins.add_argument("--json", action="store_true", help="print JSON")
    show = command("config", "Show every effective setting and where it came from.", _config)
    show.add_argument("--json", action="store_true", help="print JSON")
    new = commands.add_parser(
        "new-plugin",
        help="Write a ready third-party plugin package.",
        description="Write a ready third-party plugin package (pyproject with the entry point, "
        "module, README, a passing test) into a new folder named NAME.",
    )
    new.add_argument(
        "name", metavar="NAME", help="the distribution name, e.g. hookfit-loss-printer"
    )
    new.add_argument("--directory", default=".", help="where to create the folder (default: .)")
    new.add_argument(
        "--style",
        choices=("callback", "hookimpl"),
        default="callback",
        help="a hookfit.Callback subclass (default) or @hookfit.hookimpl methods",
    )
    new.set_defaults(run=_new_plugin)
    return parser


def _settings(args: argparse.Namespace, bundled: bool = False) -> tuple[list[Setting], str]:
    """The settings of the command's sources, and the config file's name:
    the config file (given, else discovered, else the bundled example for
    ``train`` and ``config``), then the command line. The environment is
    read by the plan itself.

    For ``train`` and ``config`` (``bundled``), every ``[model]``, ``[fit]``
    and ``[data]`` key that neither the file nor the command line sets
    comes from the bundled example, as a default: without them a config
    that only names plugins would train an unseen model for one epoch.
    """
    from ..run.job import EXAMPLE, example, example_defaults

    cat = catalogue()
    path = getattr(args, "config_file", None) or args.config_option
    found = Path(path) if path is not None else find_file()
    if found is not None:
        settings, name = read_file(found, cat), display(found)
    elif bundled:
        settings, name = example(cat), EXAMPLE
    else:
        settings, name = [], "none"
    settings += from_command_line(args.plugins, args.sets, cat)
    if bundled:
        settings += example_defaults(settings, cat)
    return settings, name


# -- train ----------------------------------------------------------------------


def _train(args: argparse.Namespace) -> int:
    from ..run.job import mentions_run_dir, prepare, substitute

    run_dir = new_run_dir()
    settings, source = _settings(args, bundled=True)
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


# -- plugins --------------------------------------------------------------------


def _plugins(args: argparse.Namespace) -> int:
    from ..hooks.dispatch import hooks_of, implementations

    run = plan(config=_settings(args)[0], build=False)
    cat = run.catalogue
    rows = []
    for entry in run.plugins + run.off:
        info = cast(PluginInfo, entry.info)
        row: dict[str, Any] = {
            "name": info.name,
            "distribution": info.dist,
            "version": info.version,
            "target": info.value,
            "requires": requires_hookfit(info),
            "status": "on" if entry.on else "off",
            "why": entry.why,
            "hooks": None,
            "hooks_from": None,
            "error": None,
            "problems": [],
        }
        if entry.on:
            try:
                entry.obj = build_plugin(entry)
            except (PluginLoadError, PluginValidationError, ConfigError) as exc:
                row["status"], row["error"] = "error", str(exc)
            if entry.obj is not None:  # None: failed, or a default that failed to load
                row["hooks"] = hooks_of(entry.obj)
                row["hooks_from"] = "imported"
                row["problems"] = _misspelled(_methods(entry.obj))
                try:
                    if not row["problems"]:
                        # what the run would refuse: a signature, an argument, a wrapper
                        list(implementations(entry))
                except PluginValidationError as exc:
                    row["problems"] = [str(exc)]
        if row["hooks"] is None:
            unknown: list[str] = []
            found = hooks_in_source(info, unknown)
            row["hooks"] = found
            row["hooks_from"] = "source" if found is not None else None
            row["problems"] = _misspelled(unknown)
        rows.append(row)
    rows.sort(key=lambda row: row["status"] == "off")
    conflicts = {
        name: [f"{i.dist} {i.version}" for i in infos] for name, infos in cat.conflicts.items()
    }
    problems = [
        *cat.bad_defaults,
        *(
            f"{d} is not installed; hookfit runs without this default ({install_hint(d)})"
            for d in cat.missing
        ),
    ]
    if args.json:
        print(json.dumps({"plugins": rows, "conflicts": conflicts, "problems": problems}, indent=2))
        return 0
    if not rows:
        print("No hookfit plugins are installed.")
    for row in rows:
        status = row["status"].upper() if row["status"] == "error" else row["status"]
        print(f"{row['name']} ({row['distribution']} {row['version']}): {status} - {row['why']}")
        if row["hooks"]:
            suffix = "" if row["hooks_from"] == "imported" else " (read from source)"
            print(f"    hooks: {', '.join(row['hooks'])}{suffix}")
        if row["error"]:
            print(f"    error: {row['error']}")
        for problem in row["problems"]:
            print(f"    problem: {problem}")
    for name, dists in conflicts.items():
        print(
            f"conflict: {name!r} is claimed by {' and '.join(dists)}; "
            "it is refused until only one is installed."
        )
    for problem in problems:
        print(f"problem: {problem}")
    return 0


def _methods(obj: Any) -> list[str]:
    """The ``on_*`` methods of a built plugin."""
    return sorted(n for n in dir(obj) if n.startswith("on_") and callable(getattr(obj, n, None)))


def _misspelled(methods: Sequence[str]) -> list[str]:
    """A problem for each method named like a hook it is not: it would
    never be called (``on_epoch_ends``)."""
    from ..hooks.dispatch import OFFERED

    problems = []
    for name in methods:
        hint = nearest(name, OFFERED) if name not in OFFERED else ""
        if hint:
            problems.append(
                f"defines {name}(), which is not a hookfit hook{hint}; it would never be called"
            )
    return problems


# -- config ---------------------------------------------------------------------


def _config(args: argparse.Namespace) -> int:
    settings, source = _settings(args, bundled=True)
    run = plan(config=settings, verbose=None, build=False)
    rows = run.report()
    if args.json:
        print(
            json.dumps(
                [{"key": k, "value": v, "from": w} for k, v, w in rows], indent=2, default=str
            )
        )
        return 0
    print(f"# config file: {source}")
    for key, value, where in rows:
        text = value if key.startswith("plugins.") else shown(value)
        print(f"{key} = {text}  # {where}")
    return 0


# -- new-plugin -----------------------------------------------------------------


def _new_plugin(args: argparse.Namespace) -> int:
    from .scaffold import names_for, write

    root = write(args.name, Path(args.directory), args.style)
    names = names_for(args.name)
    print(
        f"Created {root}/ (distribution {names.dist}, plugin {names.plugin!r}, "
        f"class {names.module}:{names.cls})."
    )
    print(
        f"Next: cd {root} && pip install -e '.[test]' && pytest; then switch it on with "
        f"-p {names.plugin} or [callbacks.{names.plugin}] in hookfit.toml."
    )
    return 0
