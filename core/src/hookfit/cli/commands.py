"""Commands that plugin distributions add to ``hookfit``.

A distribution names a module in the ``hookfit.commands`` entry-point group;
that module implements the ``register_commands`` hook (`hookfit.hooks.specs`)
and adds its subcommands through `Commands`. They are loaded only when the
command line may need them (``hookfit --help``, or a command that is not
built in): ``hookfit train`` never imports them. A plugin that fails to load
or to register is reported with its name, distribution and cause, as
``hookfit plugins`` reports a failing plugin, and the other commands work.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import PluginError, PluginValidationError
from ..run.catalogue import PluginInfo

BUILT_IN = ("train", "plugins", "config", "new-plugin")
"""hookfit's own commands: no plugin may take these names."""

_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")


@dataclass
class Loaded:
    """One command plugin, after loading it.

    Attributes:
        info: The plugin, from the ``hookfit.commands`` entry points.
        commands: The command names it added.
        error: Why it could not load or register, naming the plugin, its
            distribution and the cause; None when it worked.
    """

    info: PluginInfo
    commands: list[str] = field(default_factory=list)
    error: str | None = None


class Commands:
    """What the ``register_commands`` hook receives: adds ``hookfit`` subcommands.

    Args:
        subparsers: The ``hookfit`` parser's subcommands.
        taken: Command names already in use, each with who provides it
            (updated as commands are added).
        loaded: The plugin being registered; its commands are recorded there.
    """

    def __init__(self, subparsers: Any, taken: dict[str, str], loaded: Loaded) -> None:
        self._subparsers, self._taken, self._loaded = subparsers, taken, loaded

    def add(
        self,
        name: str,
        help: str,
        run: Callable[[argparse.Namespace], int],
        *,
        description: str | None = None,
        epilog: str | None = None,
    ) -> argparse.ArgumentParser:
        """Add ``hookfit NAME``.

        Args:
            name: The command's name: lower-case letters, digits and ``-``.
            help: One line for ``hookfit --help``.
            run: Called with the parsed arguments; returns the exit status.
            description: The command's own ``--help`` text (default: ``help``).
            epilog: Text after the command's arguments in its ``--help``.

        Returns:
            The command's parser: add its arguments to it.

        Raises:
            PluginValidationError: The name is malformed or already taken,
                or ``run`` is not callable.
        """
        label = self._loaded.info.label
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise PluginValidationError(
                f"Plugin {label} adds the command {name!r}; a command name is 1-40 lower-case "
                "letters, digits and '-', starting with a letter. Rename it."
            )
        if name in self._taken:
            raise PluginValidationError(
                f"Plugin {label} adds the command {name!r}, which {self._taken[name]} already "
                "provides. Uninstall one of them, or rename the command."
            )
        if not callable(run):
            raise PluginValidationError(
                f"Plugin {label} adds the command {name!r} with run={run!r}, which is not "
                "callable. Pass the function that runs the command."
            )
        info = self._loaded.info
        parser = self._subparsers.add_parser(
            name,
            help=f"{help} [{info.dist}]",
            description=description or help,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.set_defaults(run=run)
        self._taken[name] = f"{info.dist} {info.version}"
        self._loaded.commands.append(name)
        return parser


def add_plugin_commands(subparsers: Any, built_in: Iterable[str]) -> list[Loaded]:
    """Add every installed plugin's commands to ``subparsers``.

    Each plugin is loaded and registered on its own: one that fails is
    recorded with its error and the next one is tried.

    Args:
        subparsers: The ``hookfit`` parser's subcommands.
        built_in: The names of hookfit's own commands, which no plugin may take.

    Returns:
        Every command plugin, in name order, with its commands or its error.
    """
    from ..run.catalogue import catalogue

    taken = dict.fromkeys(built_in, "hookfit itself")
    found = []
    for info in catalogue().commands:
        loaded = Loaded(info)
        try:
            _register(info, Commands(subparsers, taken, loaded))
        except PluginError as exc:
            loaded.error = str(exc)
        except Exception as exc:
            # The plugin's own code raised: the same shape as a failed import.
            loaded.error = (
                f"Plugin {info.name!r} from {info.dist} {info.version} failed to add its "
                f"commands ({info.value}): {type(exc).__name__}: {exc}. Fix or reinstall "
                f"{info.dist}, or uninstall it; hookfit's other commands still work."
            )
        found.append(loaded)
    return found


def _register(info: PluginInfo, commands: Commands) -> None:
    import pluggy

    from ..hooks import specs
    from ..run.catalogue import load

    plugin = load(info)
    manager = pluggy.PluginManager("hookfit")
    manager.add_hookspecs(specs)
    try:
        manager.register(plugin, name=info.name)
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginValidationError(f"Plugin {info.label}: {exc}") from None
    if not manager.hook.register_commands.get_hookimpls():
        raise PluginValidationError(
            f"Plugin {info.label} is listed in [hookfit.commands] as {info.value!r}, which "
            "has no @hookfit.hookimpl register_commands(commands) function. Add one, or "
            "remove the entry point."
        )
    manager.hook.register_commands(commands=commands)
