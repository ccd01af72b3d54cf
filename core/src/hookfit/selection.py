"""Which plugins take part in a run, in which order, and why.

Installed is not enabled. A plugin runs when it is passed in code, named by
the settings (command line, environment, config file), or declares itself on
by default. Plugin order: the plugins passed in code, in the order given,
then those the settings name, in their order, then the plugins on by default
(sorted by name). ``tryfirst``/``trylast`` marks then move single hook
implementations to the front or back: BaseLogger is ``tryfirst`` and
ProgbarLogger ``trylast``, which gives the Keras order.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .callback_list import Member
from .errors import ConfigError, HookfitWarning, PluginLoadError
from .plugins import Catalogue, PluginInfo, catalogue, is_module, load
from .typecheck import check_arguments


@dataclass
class Settings:
    """The plugin choices that do not come from code, already merged.

    Attributes:
        enabled: Plugins switched on by name, in order, each with where
            that came from (``"command line"``, ``"environment"``, a file).
        disabled: Plugins switched off, each with where that came from.
            Code still wins: an object passed to ``fit`` always runs.
        args: Constructor arguments per plugin name.
        origins: Where each argument came from (for messages).
        autoload: False when nothing is on by default
            (``HOOKFIT_DISABLE_PLUGIN_AUTOLOAD=1``).
    """

    enabled: list[tuple[str, str]] = field(default_factory=list)
    disabled: dict[str, str] = field(default_factory=dict)
    args: dict[str, dict[str, Any]] = field(default_factory=dict)
    origins: dict[str, dict[str, str]] = field(default_factory=dict)
    autoload: bool = True


def select(
    callbacks: Iterable[Any] | None,
    *,
    verbose: int,
    settings: Settings | None = None,
    cat: Catalogue | None = None,
) -> list[Member]:
    """Return the plugins of a run, built and in plugin order.

    Args:
        callbacks: What the caller passed: plugin objects, or entry-point
            names (built with the settings' arguments).
        verbose: The run's verbosity; ``"verbose"`` defaults need it > 0.
        settings: Choices from config, command line and environment.
        cat: The installed plugins (read from metadata when omitted).

    Raises:
        PluginNotFoundError: A name that no installed plugin has.
        PluginLoadError: An enabled plugin failed to import.
        ConfigError: A plugin refused its arguments.
    """
    settings = settings or Settings()
    cat = cat or catalogue()
    members: list[Member] = []
    taken: set[str] = set()
    for item in callbacks or ():
        # Two instances of one plugin (two EarlyStopping on different
        # monitors) are fine: the second is named "early_stopping#2".
        info: PluginInfo | None
        if isinstance(item, str):
            info = cat.get(item)
            obj = build(info, settings, "code")
        else:
            info, obj = _identify(item, cat), item
        if info is not None:
            name = info.name
        else:
            name = item.__name__ if isinstance(item, ModuleType) else type(item).__name__
        member = Member(_unique(name, taken), obj, info, "code")
        taken.add(member.name)
        members.append(member)

    for name, why in settings.enabled:
        if name not in taken and name not in settings.disabled:
            info = cat.get(name)
            members.append(Member(name, build(info, settings, why), info, why))
            taken.add(name)
    if settings.autoload:
        for info in cat.plugins.values():
            if info.name in taken or info.name in settings.disabled:
                continue
            if not default_on(info, verbose):
                continue
            try:
                obj = build(info, settings, "default")
            except PluginLoadError as exc:
                # Nobody asked for this one by name: train without it.
                warnings.warn(f"{exc} Training goes on without it.", HookfitWarning, stacklevel=2)
                continue
            members.append(Member(info.name, obj, info, "default"))
            taken.add(info.name)
    return members


def default_on(info: PluginInfo, verbose: int) -> bool:
    """True when ``info`` declares itself on by default for this verbosity."""
    return info.default == "always" or (info.default == "verbose" and bool(verbose))


def build(info: PluginInfo, settings: Settings, why: str) -> Any:
    """Import a plugin and make the object that takes part in the run.

    A class is instantiated with the settings' arguments for it, checked
    against its signature first; a module or an instance is used as it is
    and takes no arguments.

    Raises:
        PluginLoadError: The import failed.
        ConfigError: Arguments the plugin does not take, of the wrong type,
            missing, or refused by the plugin itself.
    """
    target = load(info)
    args = settings.args.get(info.name, {})
    origins = settings.origins.get(info.name, {})
    if isinstance(target, type):
        args = check_arguments(
            target, args, origins, f"Plugin {info.label}", f"callbacks.{info.name}"
        )
        try:
            return target(**args)
        except ConfigError as exc:
            exc.add_note(f"hookfit: while building plugin {info.label} (switched on by {why})")
            raise
    if args:
        kind = "module" if is_module(target) else "ready-made object"
        where = ", ".join(sorted(set(origins.values()))) or why
        raise ConfigError(
            f"Plugin {info.label} is a {kind} and takes no arguments, but {where} gives it "
            f"{sorted(args)}. Remove them."
        )
    return target


def _identify(obj: Any, cat: Catalogue) -> PluginInfo | None:
    if is_module(obj):
        for info in cat.plugins.values():
            if info.module == obj.__name__ and not info.attr:
                return info
        return None
    return cat.by_class(type(obj))


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}#{n}" in taken:
        n += 1
    return f"{name}#{n}"
