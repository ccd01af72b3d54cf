"""What the ``hookfit`` commands share: exit codes, and the settings of a
command's sources (its config file and its command line)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..run.catalogue import (
    catalogue,
)
from ..run.discovery import find_file
from ..run.sources import Setting, display, from_command_line, read_file

EXIT_REFUSED = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


def print_error(exc: BaseException) -> None:
    """A refused config or command line, as the command reports it."""
    print(f"hookfit: error: {exc}", file=sys.stderr)
    for note in getattr(exc, "__notes__", ()):
        print(f"  {note}", file=sys.stderr)


def command_settings(args: argparse.Namespace, bundled: bool = False) -> tuple[list[Setting], str]:
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
