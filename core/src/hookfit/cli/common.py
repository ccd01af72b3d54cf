"""What the ``hookfit`` commands share: exit codes, the settings of a
command's sources (its config file and its command line), and how a
command writes: to a standard output that may be closed, full or a pipe
whose reader went away, and warnings as one line each."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ..errors import HookfitWarning
from ..run.catalogue import (
    catalogue,
)
from ..run.discovery import find_file, working_directory
from ..run.sources import Setting, display, from_command_line, read_file

EXIT_ERROR = 1
EXIT_REFUSED = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell shows for `| head` (pipefail)
EXIT_TERMINATED = 143  # 128 + SIGTERM


def print_error(exc: BaseException | str) -> None:
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

    Raises:
        ConfigError: The working directory is gone, or the config file is
            not a file (a folder, a FIFO, a symbolic link loop) or invalid.
    """
    from ..run.job import EXAMPLE, example, example_defaults

    working_directory()  # every path below is relative to it
    installed = catalogue()
    path = getattr(args, "config_file", None) or args.config_option
    if path is not None:
        found: Path | None = Path(path)
    else:
        found = find_file()
    if found is not None:
        settings, name = read_file(found, installed), display(found)
    elif bundled:
        settings, name = example(installed), EXAMPLE
    else:
        settings, name = [], "none"
    settings += from_command_line(args.plugins, args.sets, installed)
    if bundled:
        settings += example_defaults(settings, installed)
    return settings, name


def run_command(run: Callable[[], int]) -> int:
    """Run a command as a Unix tool: its exit status, and its output rules.

    - A closed standard output is refused before anything runs (exit 2).
    - A reader that went away (``hookfit plugins | head -c10``) ends the
      command quietly with 141, as SIGPIPE ends other tools; a full or
      failing standard output is one message and exit 1. Either way the
      interpreter's last flush writes to /dev/null, not to a traceback.
    - Names the terminal's encoding cannot show are escaped (``\\xe9``).
    - Warnings are one line each: ``hookfit: warning: MESSAGE``.
    """
    stdout: Any = sys.stdout
    if stdout is None:  # Python's stand-in for a closed file descriptor 1
        print_error(
            "standard output is closed; hookfit reports there. Redirect it instead, e.g. "
            "hookfit train > /dev/null."
        )
        return EXIT_REFUSED
    errors = getattr(stdout, "errors", None)
    _reconfigure(stdout, "backslashreplace")  # as stderr does
    guarded = _Output(stdout)
    sys.stdout = guarded
    try:
        with _one_line_warnings():
            try:
                code = run()
            except SystemExit:  # argparse's --help, --version and usage errors
                guarded.flush()
                if not guarded.errors:
                    raise
                code = EXIT_ERROR
            guarded.flush()  # a pipe's buffered bytes fail here, not at exit
        if guarded.errors:  # a write that failed but was let pass (argparse does)
            return _output_failed(stdout, guarded.errors[0])
        return code
    except OSError as exc:
        if not guarded.failed(exc):
            raise
        return _output_failed(stdout, exc)
    finally:
        sys.stdout = stdout
        _reconfigure(stdout, errors)


def _reconfigure(stream: Any, errors: str | None) -> None:
    if errors is not None:
        with suppress(AttributeError, OSError, ValueError):  # not a TextIOWrapper, or broken
            stream.reconfigure(errors=errors)


class _Output:
    """``sys.stdout`` while a command runs: the same stream, keeping each
    error writing to it, so that the command tells them from any other
    OSError (a plugin's file on a full disk is not a failing stdout)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.errors: list[OSError] = []

    def write(self, text: str) -> int:
        try:
            return int(self.stream.write(text))
        except OSError as exc:
            self.errors.append(exc)
            raise

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            self.errors.append(exc)
            raise

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

    def failed(self, exc: BaseException | None) -> bool:
        """True when ``exc`` (or an error it was raised during) is one of
        this stream's."""
        while exc is not None:
            if any(exc is error for error in self.errors):
                return True
            exc = exc.__cause__ or exc.__context__
        return False


def _output_failed(stdout: Any, exc: OSError) -> int:
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
        os.close(devnull)
    if isinstance(exc, BrokenPipeError):
        return EXIT_BROKEN_PIPE
    print_error(f"cannot write to standard output: {exc.strerror or exc}.")
    return EXIT_ERROR


@contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Warnings as ``hookfit: warning: MESSAGE``: Python's own format shows
    the source line of the frame a warning is reported at, which for the
    command is hookfit's entry point (``sys.exit(main())``)."""
    previous = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        yield
    finally:
        warnings.formatwarning = previous


def _format_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, line: Any = None
) -> str:
    kind = "" if issubclass(category, HookfitWarning) else f"{category.__name__}: "
    return f"hookfit: warning: {kind}{message}\n"
