"""Plugin discovery and loading through the ``hookfit.callbacks`` entry points.

Discovery reads distribution metadata only: no plugin module is imported
until the plugin is enabled. A plugin that fails to import is reported with
its entry-point name, distribution and cause, and does not stop the others.
What a plugin declares without being imported (its hooks, the hookfit it
requires) is read in `hookfit.run.inspection`.
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

import importlib_metadata

from ..errors import PluginLoadError, PluginNotFoundError, PluginValidationError

GROUP = "hookfit.callbacks"
"""The entry-point group that lists plugins: ``name = "module:Class"``."""

DEFAULTS_GROUP = "hookfit.defaults"
"""The entry-point group where a plugin declares itself on by default.

The name is the plugin's name; the value is when: ``always``, or ``verbose``
(only when the run's ``verbose`` is not 0, like Keras's ProgbarLogger).
"""

DEFAULT_WHEN = ("always", "verbose")

COMMANDS_GROUP = "hookfit.commands"
"""The entry-point group of plugins that add ``hookfit`` subcommands: the value
names a module (or object) implementing the ``register_commands`` hook."""


@dataclass(frozen=True)
class PluginInfo:
    """What the metadata says about one installed plugin (nothing imported).

    Attributes:
        name: The entry-point name, which is also the config key.
        dist: The distribution's name.
        version: The distribution's version.
        value: The entry point's target, ``"module:attr"``.
        default: ``"always"`` or ``"verbose"`` when on by default, else None.
        rivals: Other installed distributions that claim the same name
            (``"dist version"``); such a plugin is refused when enabled.
        bundled: True when ``pip install hookfit`` brings it (the core
            distribution requires its distribution): Keras's default
            experience, which the autoload switches leave alone.
        distribution: The ``importlib.metadata`` distribution, for reading
            more metadata later (looking it up again by name is slow).
        group: The entry-point group it was found in: `GROUP`, or
            `COMMANDS_GROUP` for a plugin that adds commands.
    """

    name: str
    dist: str
    version: str
    value: str
    default: str | None = None
    rivals: tuple[str, ...] = ()
    bundled: bool = False
    distribution: Any = field(default=None, compare=False, repr=False)
    group: str = GROUP

    @property
    def label(self) -> str:
        """``"name (dist version)"``, for messages."""
        return f"{self.name} ({self.dist} {self.version})"

    @property
    def module(self) -> str:
        """The module part of the entry point's target."""
        return self.value.partition(":")[0].strip()

    @property
    def attr(self) -> str:
        """The attribute part of the target (the class name), or ``""``."""
        return self.value.partition(":")[2].strip()


@dataclass
class Catalogue:
    """Every installed plugin, read from metadata.

    Attributes:
        plugins: Plugins by entry-point name, sorted by name.
        conflicts: Names that two or more distributions claim, with the
            infos of all claimants, sorted (the first one is in ``plugins``,
            refused when enabled).
        bad_defaults: Problems with ``hookfit.defaults`` entries, as text.
        missing: Distributions the core requires (History, BaseLogger,
            ProgbarLogger) that are not installed.
        commands: The plugins that add ``hookfit`` commands
            (`COMMANDS_GROUP`), sorted by name and distribution.
    """

    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    conflicts: dict[str, list[PluginInfo]] = field(default_factory=dict)
    bad_defaults: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    commands: list[PluginInfo] = field(default_factory=list)

    def get(self, name: str) -> PluginInfo:
        """Return the plugin called ``name`` or raise `PluginNotFoundError`."""
        try:
            return self.plugins[name]
        except KeyError:
            raise PluginNotFoundError(f"callbacks=[...]: {unknown_plugin(name, self)}") from None

    def by_class(self, cls: type) -> PluginInfo | None:
        """Return the plugin whose entry point names ``cls``, if any."""
        value = f"{cls.__module__}:{cls.__qualname__}"
        for info in self.plugins.values():
            if info.value.replace(" ", "") == value:
                return info
        return None


def unknown_plugin(name: str, catalogue: Catalogue) -> str:
    """Say that no installed plugin is called ``name``, the nearest name,
    and what is installed.

    A built-in plugin that is not installed is named with the distribution
    that provides it (read from the core's metadata, so that the core names
    no plugin); a name that only misspells, or spells differently
    (``EarlyStopping``), an installed plugin gets that plugin's name alone.
    """
    msg = f"no installed plugin is called {name!r}"
    built_in = core_requirements()[1]
    target = _built_in_name(name)
    if target is None:
        # installed names and uninstalled built-ins alike: the closest wins
        # (the cutoff of hookfit.errors.nearest)
        choices = [*catalogue.plugins, *(p for p in built_in if p not in catalogue.plugins)]
        close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
        target = close[0] if close else None
    if target is not None and target != name:
        msg += f" (did you mean {target!r}?)"
    msg += "."
    if target is not None and target not in catalogue.plugins:
        msg += f" It is provided by {built_in[target]}: {install_hint(built_in[target])}."
    return msg + f" Installed plugins: {', '.join(catalogue.plugins) or 'none'}."


_cache: tuple[tuple[str, ...], Catalogue] | None = None


def catalogue(*, refresh: bool = False) -> Catalogue:
    """Return the installed plugins, read from entry-point metadata.

    The result is cached for as long as ``sys.path`` is unchanged.

    Args:
        refresh: Read the metadata again even if cached.
    """
    global _cache
    key = tuple(sys.path)
    if not refresh and _cache is not None and _cache[0] == key:
        return _cache[1]
    result = Catalogue()
    # One metadata scan for both groups; entry_points() already drops a
    # distribution that is found twice on sys.path (a lib64 -> lib link).
    everything = importlib_metadata.entry_points()
    # Keyed by distribution too: only a plugin's own distribution may switch
    # it on by default.
    defaults: dict[tuple[str, str], str] = {}
    for ep in everything.select(group=DEFAULTS_GROUP):
        when = ep.value.strip()
        if when in DEFAULT_WHEN:
            defaults[(_dist_name(ep), ep.name)] = when
        else:
            result.bad_defaults.append(
                f"{_dist_name(ep)} declares {ep.name} = {when!r} in [{DEFAULTS_GROUP}]; "
                f"expected one of {', '.join(DEFAULT_WHEN)}. The plugin stays off by default."
            )
    required, _ = core_requirements()
    seen: dict[str, list[PluginInfo]] = {}
    installed: set[str] = set()
    for ep in everything.select(group=GROUP):
        dist, version = _dist_of(ep)
        installed.add(dist)
        info = PluginInfo(
            ep.name,
            dist,
            version,
            ep.value,
            defaults.get((dist, ep.name)),
            bundled=dist in required,
            distribution=ep.dist,
        )
        seen.setdefault(ep.name, []).append(info)
    for name in sorted(seen):
        claimants = sorted(seen[name], key=lambda i: (i.dist, i.version))
        first, *others = claimants
        if others:
            result.conflicts[name] = claimants
            first = replace(first, rivals=tuple(f"{o.dist} {o.version}" for o in others))
        result.plugins[name] = first
    result.missing = sorted(required - installed)
    for ep in everything.select(group=COMMANDS_GROUP):
        dist, version = _dist_of(ep)
        info = PluginInfo(ep.name, dist, version, ep.value, distribution=ep.dist)
        result.commands.append(replace(info, group=COMMANDS_GROUP))
    result.commands.sort(key=lambda i: (i.name, i.dist))
    _cache = (key, result)
    return result


_requirements: tuple[frozenset[str], dict[str, str]] | None = None


def core_requirements() -> tuple[frozenset[str], dict[str, str]]:
    """What the core distribution's metadata says of the built-in plugins.

    Returns:
        The plugin distributions ``pip install hookfit`` brings, and every
        built-in plugin's distribution (those of ``hookfit[all]``) by
        plugin name (``early_stopping`` from ``hookfit-early-stopping``).
        Both are empty when hookfit runs from a source tree without metadata.
    """
    global _requirements
    if _requirements is None:
        try:
            lines = importlib_metadata.distribution("hookfit").requires or []
        except importlib_metadata.PackageNotFoundError:
            lines = []
        required: set[str] = set()
        built_in: dict[str, str] = {}
        for line in lines:
            requirement, _, marker = line.partition(";")
            name = re.split(r"[<>=!~\[( ]", requirement.strip(), maxsplit=1)[0].lower()
            if not name.startswith("hookfit-"):
                continue
            built_in[name.removeprefix("hookfit-").replace("-", "_")] = name
            if not marker.strip():
                required.add(name)
        _requirements = (frozenset(required), built_in)
    return _requirements


def built_in_distribution(name: str) -> str | None:
    """The distribution of a built-in plugin (by entry-point name, or by class
    name such as ``EarlyStopping``), installed or not; None for others. Say
    how to install it with `install_hint`."""
    plugin = _built_in_name(name)
    return None if plugin is None else core_requirements()[1][plugin]


def _built_in_name(name: str) -> str | None:
    """The entry-point name of the built-in plugin ``name`` stands for
    (``early_stopping`` for ``EarlyStopping``), or None."""
    built_in = core_requirements()[1]
    if name in built_in:
        return name
    squashed = name.lower()
    for plugin in built_in:
        if plugin.replace("_", "") == squashed:
            return plugin
    return None


def install_hint(*dists: str) -> str:
    """How to install built-in plugin distributions, from an index and from a
    clone of the repository (where they are folders, not on an index):
    ``pip install hookfit-early-stopping (from a clone of hookfit: pip install
    ./plugins/early_stopping)``. Every message that names one uses this."""
    folders = " ".join(f"./plugins/{d.removeprefix('hookfit-').replace('-', '_')}" for d in dists)
    return f"pip install {' '.join(dists)} (from a clone of hookfit: pip install {folders})"


_DIST_INFO = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)\.dist-info$")


def _dist_of(ep: importlib_metadata.EntryPoint) -> tuple[str, str]:
    """The distribution's name (normalised) and version.

    Read from the ``name-version.dist-info`` folder name when there is one:
    parsing each METADATA file instead costs about half a millisecond per
    plugin, which start-up would pay for every installed plugin.
    """
    dist = ep.dist
    if dist is None:
        return "?", "?"
    folder = getattr(dist, "_path", None)
    match = _DIST_INFO.match(getattr(folder, "name", "") or "")
    if match:
        return match["name"].replace("_", "-").lower(), match["version"]
    return dist.name, dist.version


def _dist_name(ep: importlib_metadata.EntryPoint) -> str:
    return _dist_of(ep)[0]


def load(info: PluginInfo) -> Any:
    """Import the object an entry point names (a class, module or instance).

    Raises:
        PluginValidationError: Another installed distribution claims the
            same name, so which one runs would be an accident.
        PluginLoadError: The import failed; the message names the plugin,
            its distribution and the cause. The cause is chained.
    """
    if info.rivals:
        raise PluginValidationError(
            f"Plugin name {info.name!r} is claimed by {info.dist} {info.version} and by "
            f"{' and '.join(info.rivals)}. Uninstall all but one of them."
        )
    try:
        module = __import__(info.module, fromlist=["_"])
        obj: Any = module
        for part in info.attr.split(".") if info.attr else ():
            obj = getattr(obj, part)
    except KeyboardInterrupt:
        raise
    # BaseException: a plugin whose import calls sys.exit() must not end the
    # run (or `hookfit plugins`) silently; it fails to load like any other.
    except BaseException as exc:
        # A command plugin is not switched on or off: its commands just go missing.
        off = (
            f"or switch the plugin off (-p no:{info.name})"
            if info.group == GROUP
            else "or uninstall it; hookfit's other commands still work"
        )
        raise PluginLoadError(
            f"Plugin {info.name!r} from {info.dist} {info.version} failed to load "
            f"({info.value}): {type(exc).__name__}: {exc}. Fix or reinstall {info.dist}, "
            f"{off}.",
            plugin=info.name,
            dist=f"{info.dist} {info.version}",
        ) from exc
    return obj


def is_module(obj: object) -> bool:
    """True for a module plugin (registered as is, takes no arguments)."""
    return isinstance(obj, ModuleType)
