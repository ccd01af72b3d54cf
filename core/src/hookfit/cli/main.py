"""The ``hookfit`` command (also ``python -m hookfit``).

- ``hookfit train [CONFIG]``: train the model a config describes, or the
  bundled example, and say where its files went.
- ``hookfit plugins [--json]``: every installed plugin, on or off and why.
- ``hookfit config [CONFIG]``: every effective setting and where it came from.
- ``hookfit new-plugin NAME``: a ready third-party plugin package.
- Commands that installed plugins add (``hookfit monitor`` from
  hookfit-remote-monitor), through the ``register_commands`` hook.

Exit status: 0 done, 1 an error while training (or writing the output), 2 a
refused config or command line (nothing written), 130 stopped with Ctrl-C (143
with SIGTERM), 141 the reader of the output went away (``hookfit plugins | head``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import (
    ConfigError,
    PluginError,
)
from .commands import BUILT_IN, add_plugin_commands
from .common import EXIT_REFUSED, print_error, run_command
from .reports import config as config_command
from .reports import plugins as plugins_command
from .train import train as train_command

TRAIN_EXAMPLES = """\
examples:
  hookfit train                                  the bundled example (or ./hookfit.toml)
  hookfit train job.toml --set fit.epochs=5      a config file, one key changed
  hookfit train -p csv_logger --set callbacks.csv_logger.filename={run_dir}/log.csv
                                                 switch a plugin on; {run_dir} is runs/<time>-<id>
  mpiexec -n 2 hookfit train --distributed job.toml
                                                 two processes, one model (pip install hookfit[mpi])

A config file's missing [model], [fit] and [data] keys come from the bundled
example; `hookfit config` shows every value and where it came from.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_command(lambda: _run(argv))


def _run(argv: list[str]) -> int:
    parser = _parser(plugin_commands=_may_need_plugin_commands(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_REFUSED
    try:
        return int(args.run(args))
    except (ConfigError, PluginError) as exc:
        print_error(exc)
        return EXIT_REFUSED


def _may_need_plugin_commands(argv: Sequence[str]) -> bool:
    """False for a built-in command: ``hookfit train`` imports no command
    plugin, and a broken one cannot disturb it."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first not in BUILT_IN


def _parser(plugin_commands: bool = False) -> argparse.ArgumentParser:
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

    trainer = command(
        "train",
        "Train the model the config describes (or the bundled example).",
        train_command,
        epilog=TRAIN_EXAMPLES,
    )
    trainer.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel over MPI: start with mpiexec -n N (needs hookfit[mpi])",
    )
    plugins = command(
        "plugins",
        "List every installed plugin, on or off and why.",
        plugins_command,
        config_arg=False,
    )
    plugins.add_argument("--json", action="store_true", help="print JSON")
    show = command("config", "Show every effective setting and where it came from.", config_command)
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
    if plugin_commands:
        for loaded in add_plugin_commands(commands, BUILT_IN):
            if loaded.error:
                print(f"hookfit: warning: {loaded.error}", file=sys.stderr)
    return parser


# -- new-plugin -----------------------------------------------------------------


def _new_plugin(args: argparse.Namespace) -> int:
    from ..run.discovery import working_directory
    from .scaffold import names_for, write

    if not Path(args.directory).is_absolute():
        working_directory()  # refuses a deleted one, which os.mkdir reports as a missing NAME
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
