"""The run plan: which plugins a run has, in which order, built with which
arguments, and why. Decided here and nowhere else.

The sources (code, command line, environment, config file) arrive as
`hookfit.run.sources.Setting` lists; `plan` resolves them, with the plugins'
own defaults, into a `Plan`: the ordered plugin instances, each setting with
its origin. Precedence: code > command line > environment > file > defaults.

Plugin order: the plugins passed in code, in the order given; then those the
settings switch on, the strongest source first, each in its own order; then
the plugins on by default, by name. ``tryfirst``/``trylast`` marks then move
single hook implementations to the front or back: BaseLogger is ``tryfirst``
and ProgbarLogger ``trylast``, which gives the Keras order.

The environment changes only what loads automatically, as in pytest:
``HOOKFIT_DISABLE_PLUGIN_AUTOLOAD`` and ``HOOKFIT_PLUGINS`` never switch off
a plugin that code or a setting names, nor the plugins ``pip install
hookfit`` brings (History, BaseLogger, ProgbarLogger), so that `fit` keeps
Keras's contract.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from ..errors import ConfigError, HookfitWarning, PluginLoadError
from ..hooks.arguments import ArgumentError
from ..hooks.arguments import build as build_checked
from .catalogue import Catalogue, PluginInfo, catalogue, install_hint, is_module, load
from .sources import Setting, display, from_environment, from_mapping, read_file


@dataclass
class Planned:
    """One plugin of the plan: on or off, why, and its arguments.

    Attributes:
        name: The entry-point name (the config key), or the class name of an
            object that no entry point names; ``name#2`` for a second one.
        info: The installed plugin, if any.
        on: True when it takes part in the run.
        why: Why it is on or off, for people (``"code"``, ``"on by default
            (always)"``, ``"hookfit.toml: callbacks.csv_logger"``, ...).
        arguments: The winning setting of each of its arguments.
        obj: The plugin instance, once built.
    """

    name: str
    info: PluginInfo | None
    on: bool
    why: str
    arguments: dict[str, Setting] = field(default_factory=dict)
    obj: Any = None

    @property
    def label(self) -> str:
        """The plugin's name and distribution, for messages."""
        if self.info is None:
            return f"{self.name} (passed in code, from no installed distribution)"
        return self.info.label


@dataclass
class Plan:
    """A resolved run.

    Attributes:
        plugins: The plugins that take part, built, in plugin order.
        off: The installed plugins that do not, with why.
        settings: Every winning setting, with its origin.
        file: The config file in use, if any.
        catalogue: The installed plugins.
    """

    plugins: list[Planned]
    off: list[Planned]
    settings: list[Setting]
    file: str | None
    catalogue: Catalogue

    def __iter__(self) -> Iterator[Any]:
        """The plugin instances, in plugin order: ``fit(callbacks=plan)``
        runs exactly them."""
        return (p.obj for p in self.plugins)

    def section(self, name: str) -> dict[str, Setting]:
        """The winning settings of ``[model]``, ``[fit]`` or ``[data]``, by key."""
        return {s.path[1]: s for s in self.settings if len(s.path) == 2 and s.path[0] == name}

    def values(self, name: str) -> dict[str, Any]:
        """The values of a section, by key."""
        return {key: s.value for key, s in self.section(name).items()}

    def report(self) -> list[tuple[str, Any, str]]:
        """Every effective setting as ``(key, value, where)``, for people."""
        autoload = next((s for s in self.settings if s.path == ("hookfit", "autoload")), None)
        rows: list[tuple[str, Any, str]] = [
            (
                "hookfit.autoload",
                *((autoload.value, autoload.origin) if autoload else (True, "default")),
            )
        ]
        rows += [
            (f"plugins.{p.name}", "on" if p.on else "off", p.why) for p in self.plugins + self.off
        ]
        rows += [
            (".".join(s.path), s.value, s.origin)
            for s in sorted(self.settings, key=lambda s: s.path)
            if s.path[-1] != "enabled" and s.path != ("hookfit", "autoload")
        ]
        return rows


def plan(
    callbacks: Iterable[Any] | Plan | None = None,
    *,
    config: Any = None,
    verbose: int | None = 1,
    environ: Mapping[str, str] | None = None,
    installed: Catalogue | None = None,
    build: bool = True,
) -> Plan:
    """Resolve code, command line, environment, config and defaults into a run.

    Args:
        callbacks: What the code passes: plugin objects, or entry-point
            names (built with the settings' arguments). A `Plan` is returned
            as it is.
        config: A config file's path, a dict in the config file's form
            (it counts as code), or the settings of other sources already
            read (a list of `Setting`, as ``hookfit train`` gathers them).
            None: no config. No file is ever searched for here.
        verbose: The run's verbosity: ProgbarLogger is on by default only
            when it is not 0. None: the config's ``fit.verbose``, else 1.
        environ: The environment (``os.environ`` by default).
        installed: The installed plugins (read from metadata when omitted).
        build: False to decide without importing or building any plugin
            (``hookfit plugins`` builds them one at a time itself).

    Raises:
        ConfigError: A bad setting, or a plugin that refused its arguments;
            the message names the source and key.
        PluginNotFoundError: A name that no installed plugin has.
        PluginLoadError: A plugin that code or a setting named failed to
            import.
    """
    if isinstance(callbacks, Plan):
        if config is not None:
            raise ConfigError(
                "callbacks is already a resolved plan and config would be ignored: pass the "
                "config to hookfit.plan(config=...) instead."
            )
        return callbacks
    installed = installed or catalogue()
    settings = _sources(config, environ, installed)
    winners = _winners(settings)
    if verbose is None:
        verbose = winners[("fit", "verbose")].value if ("fit", "verbose") in winners else 1
    planned = [
        _from_code(i, item, winners, installed, build) for i, item in enumerate(callbacks or ())
    ]
    _rename_repeats(planned)
    taken = {p.name for p in planned}
    switched = _switches(settings)
    autoload = _autoload(winners)
    named: list[Planned] = []
    rest: list[Planned] = []
    for name, info in installed.plugins.items():
        if name in taken:
            continue
        arguments = _arguments(winners, name)
        if name in switched:
            on, why = switched[name].value, switched[name].origin
        elif info.default is None:
            on, why = False, "installed, not named"
        else:
            when = "always" if info.default == "always" else "when verbose"
            on, why = info.default == "always" or bool(verbose), f"on by default ({when})"
            if on and not info.bundled and not autoload[0]:
                on, why = False, f"defaults off: {autoload[1]}"
        entry = Planned(name, info, on, why, arguments)
        (named if name in switched else rest).append(entry)
    named.sort(key=lambda p: (-switched[p.name].rank, settings.index(switched[p.name])))
    on = [p for p in planned + named + rest if p.on]
    off = [p for p in named + rest if not p.on]
    if build:
        for entry in on:
            if entry.obj is None:
                entry.obj = build_plugin(entry)
        _say_missing_defaults(installed)
        on = [p for p in on if p.obj is not None]
    if isinstance(config, str | os.PathLike):
        file: str | None = display(Path(config))
    else:
        file = next((s.origin.split(": ")[0] for s in settings if s.source == "file"), None)
    return Plan(on, off, list(winners.values()), file, installed)


def _sources(config: Any, environ: Mapping[str, str] | None, installed: Catalogue) -> list[Setting]:
    settings = from_environment(os.environ if environ is None else environ, installed)
    if isinstance(config, str | os.PathLike):
        settings += read_file(Path(config), installed)
    elif isinstance(config, Mapping):
        settings += from_mapping(config, "code", "fit(config=...)", installed)
    elif isinstance(config, Sequence) and all(isinstance(s, Setting) for s in config):
        settings += list(config)
    elif config is not None:
        raise ConfigError(
            f"config must be a path to a config file, a dict in the config file's form, or "
            f"None; got {type(config).__name__}."
        )
    # stable: within one kind of source, the later setting wins
    return sorted(settings, key=lambda s: s.rank)


def _winners(settings: list[Setting]) -> dict[tuple[str, ...], Setting]:
    winners: dict[tuple[str, ...], Setting] = {}
    for setting in settings:  # sorted by rank: stronger and later ones overwrite
        winners[setting.path] = setting
    return winners


def _switches(settings: list[Setting]) -> dict[str, Setting]:
    switched: dict[str, Setting] = {}
    for setting in settings:
        if len(setting.path) == 3 and setting.path[2] == "enabled":
            switched[setting.path[1]] = setting
    return switched


def _autoload(winners: dict[tuple[str, ...], Setting]) -> tuple[bool, str]:
    autoload = winners.get(("hookfit", "autoload"))
    return (True, "default") if autoload is None else (bool(autoload.value), autoload.origin)


def _arguments(winners: dict[tuple[str, ...], Setting], name: str) -> dict[str, Setting]:
    return {
        s.path[2]: s
        for s in winners.values()
        if len(s.path) == 3 and s.path[:2] == ("callbacks", name) and s.path[2] != "enabled"
    }


def _from_code(
    index: int,
    item: Any,
    winners: dict[tuple[str, ...], Setting],
    installed: Catalogue,
    build: bool,
) -> Planned:
    if item is None:
        # None is how the plan marks a plugin not built yet: refused here,
        # where the user's list is still at hand.
        raise ConfigError(
            f"callbacks[{index}] is None. A callback entry is a plugin object (a "
            "hookfit.Callback instance, or an object or module with @hookfit.hookimpl "
            "functions) or the name of an installed plugin, such as 'history'. Remove the "
            "None, or build the list without it."
        )
    if isinstance(item, str):
        info = installed.get(item)
        entry = Planned(info.name, info, True, "code", _arguments(winners, info.name))
        if build:
            entry.obj = build_plugin(entry)
        return entry
    found = _identify(item, installed)
    if found is not None:
        name = found.name
    else:
        name = item.__name__ if isinstance(item, ModuleType) else type(item).__name__
    return Planned(name, found, True, "code", obj=item)


def _rename_repeats(planned: list[Planned]) -> None:
    # Two instances of one plugin (two EarlyStopping on different monitors)
    # are fine: the second is named "early_stopping#2".
    seen: dict[str, int] = {}
    for entry in planned:
        count = seen[entry.name] = seen.get(entry.name, 0) + 1
        if count > 1:
            entry.name = f"{entry.name}#{count}"


def build_plugin(entry: Planned) -> Any:
    """Import a plugin and make the object that takes part in the run.

    A class is built with the plan's arguments for it, each checked by its
    hints once (`hookfit.hooks.arguments`); a module or an instance is used
    as it is and takes no arguments.
    """
    info = cast(PluginInfo, entry.info)  # only installed plugins are built from settings
    try:
        target = load(info)
    except PluginLoadError as exc:
        if entry.why.startswith("on by default"):
            # Nobody asked for this one by name: train without it.
            warnings.warn(f"{exc} Training goes on without it.", HookfitWarning, stacklevel=4)
            return None
        raise
    values = {key: s.value for key, s in entry.arguments.items()}
    if not isinstance(target, type):
        if values:
            kind = "module" if is_module(target) else "ready-made object"
            where = ", ".join(sorted({s.origin for s in entry.arguments.values()}))
            raise ConfigError(
                f"Plugin {info.label} is a {kind} and takes no arguments, but {where} gives it "
                f"{sorted(values)}. Remove them."
            )
        return target
    try:
        return build_checked(target, values)
    except ArgumentError as exc:
        setting = entry.arguments.get(exc.key)
        if setting is not None:
            raise exc.at(setting.origin) from None
        raise ConfigError(
            f"Plugin {info.label} (switched on by {entry.why}): callbacks.{info.name}.{exc.key}: "
            f"{exc.problem}. Set it in the config file or with --set "
            f"callbacks.{info.name}.{exc.key}=VALUE."
        ) from None
    except Exception as exc:
        # The plugin's own error, its type kept (a test may expect it), with
        # which plugin and distribution raised it and what switched it on.
        exc.add_note(f"hookfit: while building plugin {info.label} (switched on by {entry.why})")
        raise


def _identify(obj: Any, installed: Catalogue) -> PluginInfo | None:
    if is_module(obj):
        for info in installed.plugins.values():
            if info.module == obj.__name__ and not info.attr:
                return info
        return None
    return installed.by_class(type(obj))


_said: set[str] = set()


def _say_missing_defaults(installed: Catalogue) -> None:
    """Once per process: the default plugins ``pip install hookfit`` brings
    that are not installed, and what that costs."""
    missing = [d for d in installed.missing if d not in _said]
    if missing:
        _said.update(missing)
        warnings.warn(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed, so "
            "the run lacks Keras's default plugins (fit returns None without hookfit-history; "
            "no progress bar without hookfit-progbar-logger). Reinstall hookfit, or "
            f"{install_hint(*missing)}.",
            HookfitWarning,
            stacklevel=4,
        )
