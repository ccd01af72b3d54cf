"""Settings from config files, the environment, the command line and code.

Every setting keeps where it came from. When layers disagree the higher one
wins: code > command line > environment > config file > plugin defaults.

``hookfit.toml`` (or ``[tool.hookfit]`` in ``pyproject.toml``, where the
``[hookfit]`` keys sit directly in ``[tool.hookfit]``)::

    [hookfit]
    enable = ["csv_logger"]            # switch plugins on
    disable = ["progbar_logger"]       # switch plugins off
    autoload = true                    # false: nothing on by default

    [callbacks.early_stopping]         # naming a plugin switches it on
    patience = 3
    enabled = false                    # kept in the file, switched off

``[model]``, ``[fit]`` and ``[data]`` describe the job ``hookfit train`` runs.
A bad config is refused before anything runs, naming the file, the key path,
what was expected and the nearest valid name.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, nearest
from .plugins import Catalogue, catalogue, unknown_plugin
from .selection import Settings
from .typecheck import check, describe, shown

FILE_NAME = "hookfit.toml"
ENV_AUTOLOAD = "HOOKFIT_DISABLE_PLUGIN_AUTOLOAD"
ENV_PLUGINS = "HOOKFIT_PLUGINS"

RANK = {"default": 0, "file": 1, "environment": 2, "command line": 3, "code": 4}

_HOOKFIT_KEYS = {"enable": list[str], "disable": list[str], "autoload": bool}
_SECTION_KEYS: dict[str, dict[str, Any]] = {
    "model": {
        "layers": list[dict[str, Any]],
        "loss": str,
        "optimizer": str | dict[str, Any],
        "metrics": list[str],
    },
    "fit": {
        "batch_size": int,
        "epochs": int,
        "verbose": int,
        "validation_split": float,
        "shuffle": bool,
        "initial_epoch": int,
        "seed": int,
    },
    "data": {"dataset": str, "path": str, "label": str, "x": str, "y": str, "scale": float},
}
SECTIONS = ("hookfit", "callbacks", *_SECTION_KEYS)


@dataclass
class Layer:
    """The settings of one source (a file, the environment, ...).

    Attributes:
        kind: ``"file"``, ``"environment"``, ``"command line"`` or ``"code"``.
        name: What to call it in messages (a path, ``"fit(config=...)"``).
        switches: ``(plugin, on, where)`` in the order the source gives them.
        autoload: ``(value, where)`` when the source sets it.
        only: ``(names, where)`` for ``HOOKFIT_PLUGINS``.
        values: Key path to ``(value, where)`` for every other setting.
    """

    kind: str
    name: str
    switches: list[tuple[str, bool, str]] = field(default_factory=list)
    autoload: tuple[bool, str] | None = None
    only: tuple[list[str], str] | None = None
    values: dict[tuple[str, ...], tuple[Any, str]] = field(default_factory=dict)

    @property
    def rank(self) -> int:
        """How much this layer weighs against the others."""
        return RANK[self.kind]


@dataclass(frozen=True)
class Decision:
    """Whether a plugin is on, and why.

    Attributes:
        name: The plugin's entry-point name.
        on: True when it runs (for ``"verbose"`` defaults: when verbose).
        why: Where the decision came from, for people.
        named: True when a setting names the plugin; False when it follows
            the plugin's own default (or the lack of one).
    """

    name: str
    on: bool
    why: str
    named: bool = False


class Config:
    """All the layers of settings, merged on demand.

    Args:
        layers: The sources, in any order (their kind sets their weight).
        cat: The installed plugins.
    """

    def __init__(self, layers: Iterable[Layer], cat: Catalogue | None = None) -> None:
        self.layers = sorted(layers, key=lambda layer: layer.rank)
        self.catalogue = cat or catalogue()

    @property
    def file(self) -> str | None:
        """The config file in use, if any."""
        return next((layer.name for layer in self.layers if layer.kind == "file"), None)

    def value(self, *path: str) -> tuple[Any, str] | None:
        """The winning ``(value, where)`` at a key path, or None."""
        found = None
        for layer in self.layers:
            if path in layer.values:
                found = layer.values[path]
        return found

    def section(self, name: str) -> dict[str, Any]:
        """The merged keys of ``[model]``, ``[fit]`` or ``[data]``."""
        merged: dict[str, Any] = {}
        for layer in self.layers:
            for path, (value, _) in layer.values.items():
                if len(path) == 2 and path[0] == name:
                    merged[path[1]] = value
        return merged

    def arguments(self, plugin: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The constructor arguments for ``plugin``, and where each came from."""
        args: dict[str, Any] = {}
        where: dict[str, str] = {}
        for layer in self.layers:
            for path, (value, origin) in layer.values.items():
                if len(path) == 3 and path[:2] == ("callbacks", plugin):
                    args[path[2]] = value
                    where[path[2]] = origin
        return args, where

    def autoload(self) -> tuple[bool, str]:
        """Whether default-on plugins load, and why."""
        result = (True, "default")
        for layer in self.layers:
            if layer.autoload is not None:
                result = layer.autoload
        return result

    def decisions(self) -> list[Decision]:
        """Every installed plugin's on/off decision, in plugin order.

        The plugins switched on by name come first (command line, then
        environment, then file, each in its own order), then the ones on by
        default, then the ones off.
        """
        statements: dict[str, tuple[int, int, bool, str]] = {}
        position = 0
        for layer in self.layers:
            for name, on, where in layer.switches:
                position += 1
                statements[name] = (layer.rank, position, on, where)
            if layer.only is not None:
                names, where = layer.only
                for name in self.catalogue.plugins:
                    if name not in names:
                        position += 1
                        statements[name] = (
                            layer.rank,
                            position,
                            False,
                            f"{where} does not list it",
                        )
        autoload, autoload_why = self.autoload()
        named: list[tuple[tuple[int, int], Decision]] = []
        defaults: list[tuple[tuple[int, int], Decision]] = []
        off: list[tuple[tuple[int, int], Decision]] = []
        for name, info in self.catalogue.plugins.items():
            if name in statements:
                rank, pos, on, where = statements[name]
                (named if on else off).append(((-rank, pos), Decision(name, on, where, True)))
            elif info.default and autoload:
                when = "always" if info.default == "always" else "when verbose"
                defaults.append(((0, 0), Decision(name, True, f"on by default ({when})")))
            elif info.default:
                off.append(((0, 0), Decision(name, False, f"defaults off: {autoload_why}")))
            else:
                off.append(((0, 0), Decision(name, False, "installed, not named")))
        return [d for _, d in sorted(named, key=_key)] + [d for _, d in defaults + off]

    def settings(self) -> Settings:
        """The plugin choices in the form `hookfit.selection.select` takes."""
        settings = Settings(autoload=self.autoload()[0])
        for decision in self.decisions():
            if decision.named and decision.on:
                settings.enabled.append((decision.name, decision.why))
            elif decision.named:
                settings.disabled[decision.name] = decision.why
        for name in self.catalogue.plugins:
            args, where = self.arguments(name)
            if args:
                settings.args[name] = args
                settings.origins[name] = where
        return settings

    def report(self) -> list[tuple[str, Any, str]]:
        """Every effective setting as ``(key, value, where)``, for people."""
        rows: list[tuple[str, Any, str]] = [("hookfit.autoload", *self.autoload())]
        for decision in self.decisions():
            state = "on" if decision.on else "off"
            rows.append((f"plugins.{decision.name}", state, decision.why))
        seen: dict[tuple[str, ...], tuple[Any, str]] = {}
        for layer in self.layers:
            seen.update(layer.values)
        rows += [(".".join(path), value, where) for path, (value, where) in sorted(seen.items())]
        return rows


def _key(item: tuple[tuple[int, int], Decision]) -> tuple[int, int]:
    return item[0]


# -- reading the sources ------------------------------------------------------


def find_file(start: Path | None = None) -> Path | None:
    """Look for ``hookfit.toml``, or a ``pyproject.toml`` with
    ``[tool.hookfit]``, in ``start`` (the working directory) and upward."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / FILE_NAME).is_file():
            return candidate / FILE_NAME
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _has_hookfit_table(pyproject):
            return pyproject
    return None


_tables: dict[tuple[Path, int, int], bool] = {}


def _has_hookfit_table(pyproject: Path) -> bool:
    # Every fit looks for a config file: a pyproject.toml is parsed once per
    # version of it, not once per fit.
    try:
        stat = pyproject.stat()
        key = (pyproject, stat.st_mtime_ns, stat.st_size)
        if key not in _tables:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            _tables[key] = isinstance(data.get("tool"), dict) and "hookfit" in data["tool"]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        return False
    return _tables[key]


def read_file(path: Path, cat: Catalogue | None = None) -> Layer:
    """Read and check a config file.

    Raises:
        ConfigError: A missing or unreadable file, malformed TOML (with the
            line and column), or an invalid setting (with the key path).
    """
    shown_path = _display(path)
    if not path.is_file():
        raise ConfigError(f"{shown_path}: no such config file.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown_path}: invalid TOML: {exc}.") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{shown_path}: cannot read the file: {exc}.") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        return from_mapping(
            _unfold(tool.get("hookfit", {}), shown_path),
            "file",
            shown_path,
            cat,
            prefix="tool.hookfit.",
        )
    return from_mapping(data, "file", shown_path, cat)


def _unfold(table: Any, where: str) -> dict[str, Any]:
    # [tool.hookfit] keeps the [hookfit] keys at its top level (as pytest
    # keeps its ini options in [tool.pytest.ini_options]).
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: tool.hookfit must be a table, got {shown(table)}.")
    root: dict[str, Any] = {"hookfit": {}}
    for key, value in table.items():
        if key in _HOOKFIT_KEYS:
            root["hookfit"][key] = value
        elif key in SECTIONS and key != "hookfit":
            root[key] = value
        else:
            valid = [*_HOOKFIT_KEYS, *SECTIONS[1:]]
            raise ConfigError(
                f"{where}: tool.hookfit.{key}: unknown key{nearest(key, valid)}. "
                f"Valid keys: {', '.join(valid)}."
            )
    return root


def from_mapping(
    data: Any, kind: str, name: str, cat: Catalogue | None = None, prefix: str = ""
) -> Layer:
    """Check a config given as nested dicts (a parsed file, or code's dict).

    Args:
        data: The config: ``{"hookfit": {...}, "callbacks": {...}, ...}``.
        kind: The layer's kind (``"file"`` or ``"code"``).
        name: What to call the source in messages.
        cat: The installed plugins (to check plugin names).
        prefix: Shown before key paths (``"tool.hookfit."`` in pyproject).

    Raises:
        ConfigError: An unknown section, key or plugin, or a wrong type.
    """
    cat = cat or catalogue()
    layer = Layer(kind, name)

    def fail(path: str, problem: str) -> ConfigError:
        return ConfigError(f"{name}: {prefix}{path}: {problem}")

    if not isinstance(data, Mapping):
        raise ConfigError(f"{name}: the config must be a table of sections, got {shown(data)}.")
    for section in data:
        if section not in SECTIONS:
            raise fail(
                str(section),
                f"unknown section{nearest(str(section), SECTIONS)}. "
                f"Valid sections: {', '.join(SECTIONS)}.",
            )
    for section in SECTIONS:
        if section in data and not isinstance(data[section], Mapping):
            raise fail(section, f"must be a table, got {shown(data[section])}.")

    # In pyproject.toml the [hookfit] keys sit directly in [tool.hookfit].
    section = "" if prefix else "hookfit"
    table = data.get("hookfit", {})
    _check_keys(table, _HOOKFIT_KEYS, section, fail)
    named: dict[str, str] = {}
    for key in ("enable", "disable"):
        path = _join(section, key)
        for i, plugin in enumerate(table.get(key, [])):
            _check_plugin(plugin, f"{path}[{i}]", cat, fail)
            if named.get(plugin, key) != key:
                raise fail(
                    f"{path}[{i}]",
                    f"{plugin!r} is in both {_join(section, 'enable')} "
                    f"and {_join(section, 'disable')}; keep it in one.",
                )
            named[plugin] = key
            layer.switches.append((plugin, key == "enable", f"{name}: {prefix}{path}"))
    if "autoload" in table:
        layer.autoload = (table["autoload"], f"{name}: {prefix}{_join(section, 'autoload')}")

    for plugin, args in data.get("callbacks", {}).items():
        path = f"callbacks.{plugin}"
        _check_plugin(plugin, path, cat, fail)
        if not isinstance(args, Mapping):
            raise fail(path, f"must be a table of the plugin's arguments, got {shown(args)}.")
        enabled = args.get("enabled", True)
        if not isinstance(enabled, bool):
            raise fail(f"{path}.enabled", f"expected true or false, got {shown(enabled)}.")
        where = f"{name}: {prefix}{path}" + ("" if enabled else ".enabled = false")
        if plugin not in named:
            layer.switches.append((plugin, enabled, where))
        for key, value in args.items():
            if not isinstance(key, str) or not key.isidentifier():
                raise fail(f"{path}.{key}", "not a valid argument name.")
            if key != "enabled":
                layer.values[("callbacks", plugin, key)] = (value, f"{name}: {prefix}{path}.{key}")

    for section, keys in _SECTION_KEYS.items():
        table = data.get(section, {})
        _check_keys(table, keys, section, fail)
        for key, value in table.items():
            layer.values[(section, key)] = (value, f"{name}: {prefix}{section}.{key}")
    return layer


def _join(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key


def _check_keys(table: Mapping[str, Any], keys: dict[str, Any], section: str, fail: Any) -> None:
    for key, value in table.items():
        if key not in keys:
            raise fail(
                _join(section, str(key)),
                f"unknown key{nearest(str(key), keys)}. Valid keys: {', '.join(keys)}.",
            )
        if not check(value, keys[key])[0]:
            raise fail(_join(section, key), f"expected {describe(keys[key])}, got {shown(value)}.")


def _check_plugin(name: Any, path: str, cat: Catalogue, fail: Any) -> None:
    if not isinstance(name, str):
        raise fail(path, f"expected a plugin name, got {shown(name)}.")
    if name not in cat.plugins:
        raise fail(path, unknown_plugin(name, cat))


def from_environment(environ: Mapping[str, str], cat: Catalogue | None = None) -> Layer:
    """Read ``HOOKFIT_DISABLE_PLUGIN_AUTOLOAD`` and ``HOOKFIT_PLUGINS``.

    Raises:
        ConfigError: A value that is not a switch, or an unknown plugin.
    """
    cat = cat or catalogue()
    layer = Layer("environment", "environment")
    raw = environ.get(ENV_AUTOLOAD)
    if raw is not None and raw.strip():
        flag = raw.strip().lower()
        if flag not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise ConfigError(
                f"environment: {ENV_AUTOLOAD}={raw!r}: expected 1 or 0 (true/false, yes/no)."
            )
        layer.autoload = (flag in ("0", "false", "no", "off"), f"environment: {ENV_AUTOLOAD}={raw}")
    raw = environ.get(ENV_PLUGINS)
    if raw is not None:
        names = [n.strip() for n in raw.split(",") if n.strip()]
        where = f"environment: {ENV_PLUGINS}={raw}"
        for name in names:
            if name not in cat.plugins:
                raise ConfigError(f"environment: {ENV_PLUGINS}: {unknown_plugin(name, cat)}")
            layer.switches.append((name, True, where))
        layer.only = (names, where)
    return layer


def from_command_line(
    plugins: Iterable[str] = (), sets: Iterable[str] = (), cat: Catalogue | None = None
) -> Layer:
    """Read ``-p NAME`` / ``-p no:NAME`` and ``--set KEY=VALUE`` options.

    ``--set callbacks.NAME.KEY=VALUE`` sets an argument without switching
    the plugin on; ``--set callbacks.NAME.enabled=true`` switches it.

    Raises:
        ConfigError: An unknown plugin, a malformed ``--set``, or a key or
            value the config file would refuse too.
    """
    cat = cat or catalogue()
    layer = Layer("command line", "command line")
    for option in plugins:
        name, on = (option[3:], False) if option.startswith("no:") else (option, True)
        if name not in cat.plugins:
            raise ConfigError(f"command line: -p {option}: {unknown_plugin(name, cat)}")
        layer.switches.append((name, on, f"command line: -p {option}"))
    for option in sets:
        key, sep, text = option.partition("=")
        path = tuple(part.strip() for part in key.split("."))
        if not sep or not all(path) or len(path) < 2:
            raise ConfigError(
                f"command line: --set {option}: expected SECTION.KEY=VALUE, e.g. "
                "--set callbacks.early_stopping.patience=5 or --set fit.epochs=3."
            )
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text  # a bare word: take it as a string
        nested: Any = value
        for part in reversed(path):
            nested = {part: nested}
        one = from_mapping(nested, "command line", f"command line: --set {option}", cat)
        where = f"command line: --set {option}"
        layer.values.update({p: (v, where) for p, (v, _) in one.values.items()})
        layer.switches += [
            (n, on, where)
            for n, on, _ in one.switches
            if path[0] == "hookfit" or path[-1] == "enabled"
        ]
        if one.autoload is not None:
            layer.autoload = (one.autoload[0], where)
    return layer


def load(
    config: Any = None,
    *,
    environ: Mapping[str, str] | None = None,
    plugins: Iterable[str] = (),
    sets: Iterable[str] = (),
    start: Path | None = None,
    cat: Catalogue | None = None,
) -> Config:
    """Gather every layer of settings.

    Args:
        config: A path to a config file, a dict (code's own config), a
            `Config` (returned as is), False (no file), or None (look for
            ``hookfit.toml`` from ``start`` upward).
        environ: The environment (``os.environ`` by default).
        plugins: ``-p`` options.
        sets: ``--set`` options.
        start: Where to start looking for a config file.
        cat: The installed plugins.

    Raises:
        ConfigError: Any layer is invalid.
    """
    if isinstance(config, Config):
        return config
    cat = cat or catalogue()
    layers = [from_environment(os.environ if environ is None else environ, cat)]
    if isinstance(config, (str, os.PathLike)):
        layers.append(read_file(Path(config), cat))
    elif isinstance(config, Mapping):
        layers.append(from_mapping(config, "code", "fit(config=...)", cat))
        found = find_file(start)
        if found is not None:
            layers.append(read_file(found, cat))
    elif config is None:
        found = find_file(start)
        if found is not None:
            layers.append(read_file(found, cat))
    elif config is not False:
        raise ConfigError(
            f"config must be a path, a dict, a Config, None or False; got {type(config).__name__}."
        )
    if plugins or sets:
        layers.append(from_command_line(plugins, sets, cat))
    return Config(layers, cat)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


__all__ = [
    "ENV_AUTOLOAD",
    "ENV_PLUGINS",
    "FILE_NAME",
    "Config",
    "Decision",
    "Layer",
    "find_file",
    "from_command_line",
    "from_environment",
    "from_mapping",
    "load",
    "read_file",
]
