"""Settings from config files, the environment, the command line and code,
each kept with where it came from.

Every source is read into the same shape: a list of `Setting`. Switching a
plugin on or off is a setting too (``callbacks.NAME.enabled``), so
`hookfit.run.plan` resolves one list, in one place.

``hookfit.toml`` (or ``[tool.hookfit]`` in ``pyproject.toml``, where the
``[hookfit]`` keys sit directly in ``[tool.hookfit]``)::

    [hookfit]
    enable = ["csv_logger"]            # switch plugins on
    disable = ["progbar_logger"]       # switch plugins off
    autoload = true                    # false: no third-party plugin on by default

    [callbacks.early_stopping]         # naming a plugin switches it on
    patience = 3
    enabled = false                    # kept in the file, switched off

``[model]``, ``[fit]`` and ``[data]`` describe the job ``hookfit train`` runs.
A bad config is refused before anything runs, naming the file, the key path,
what was expected and the nearest valid name.
"""

from __future__ import annotations

import errno
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from ..errors import ConfigError, nearest
from ..hooks.hints import Range, check, describe, shown
from ..hooks.redaction import MASK, is_secret_key, masked, masked_text
from .catalogue import Catalogue, catalogue, unknown_plugin

FILE_NAME = "hookfit.toml"
ENV_AUTOLOAD = "HOOKFIT_DISABLE_PLUGIN_AUTOLOAD"
ENV_PLUGINS = "HOOKFIT_PLUGINS"

RANK = {"default": 0, "file": 1, "environment": 2, "command line": 3, "code": 4}
"""How much each kind of source weighs: code > command line > environment >
file > plugin defaults."""

_HOOKFIT_KEYS = {"enable": list[str], "disable": list[str], "autoload": bool}
_SECTION_KEYS: dict[str, dict[str, Any]] = {
    "model": {
        "layers": list[dict[str, Any]],
        "loss": str,
        "optimizer": str | dict[str, Any],
        "metrics": list[str],
    },
    "fit": {
        "batch_size": Annotated[int, Range(ge=1)],
        "epochs": Annotated[int, Range(ge=0)],
        "verbose": Literal[0, 1, 2],
        "validation_split": Annotated[float, Range(ge=0, lt=1)],
        "shuffle": bool,
        "initial_epoch": Annotated[int, Range(ge=0)],
        "seed": Annotated[int, Range(ge=0)],
        "threads": Annotated[int, Range(ge=1)],
    },
    "data": {
        "dataset": str,
        "path": str,
        "label": str,
        "x": str,
        "y": str,
        "scale": Annotated[float, Range()],
    },
}
SECTIONS = ("hookfit", "callbacks", *_SECTION_KEYS)
_UNREAD = object()  # a --set option whose value could not be read


@dataclass(frozen=True)
class Setting:
    """One setting from one source.

    Attributes:
        path: The key path: ``("callbacks", "early_stopping", "patience")``,
            ``("callbacks", NAME, "enabled")`` for a switch,
            ``("hookfit", "autoload")``, or ``("fit", "epochs")`` and the
            like.
        value: The value, as the source gave it.
        origin: Where it came from, for people:
            ``"hookfit.toml: callbacks.early_stopping.patience"``.
        source: ``"file"``, ``"environment"``, ``"command line"`` or
            ``"code"`` (see `RANK`).
    """

    path: tuple[str, ...]
    value: Any
    origin: str
    source: str

    def __repr__(self) -> str:
        # a Setting may hold a token or a password: its repr never shows it
        return (
            f"Setting(path={self.path!r}, value={shown(self.value, '.'.join(self.path))}, "
            f"origin={self.origin!r}, source={self.source!r})"
        )

    @property
    def rank(self) -> int:
        """How much this setting weighs against the others."""
        return RANK[self.source]


def switch(plugin: str, on: bool, origin: str, source: str) -> Setting:
    """The setting that switches ``plugin`` on or off."""
    return Setting(("callbacks", plugin, "enabled"), on, origin, source)


# -- config files -------------------------------------------------------------


def read_file(path: Path, installed: Catalogue | None = None) -> list[Setting]:
    """Read and check a config file.

    Raises:
        ConfigError: A missing or unreadable file, malformed TOML (with the
            line and column), or an invalid setting (with the key path).
    """
    shown_path = display(path)
    what = not_a_file(path)
    if what is not None:
        raise ConfigError(f"{shown_path} {what}, not a config file; give a .toml file.")
    if not path.is_file():
        raise ConfigError(f"{shown_path}: no such config file.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown_path}: invalid TOML: {exc}.") from None
    except RecursionError:
        raise ConfigError(
            f"{shown_path}: nested too deeply to read (TOML arrays or tables within each other "
            "hundreds of levels deep); a hookfit config is a few levels deep."
        ) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{shown_path}: cannot read the file: {exc}.") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        return from_mapping(
            _unfold(tool.get("hookfit", {}), shown_path),
            "file",
            shown_path,
            installed,
            prefix="tool.hookfit.",
        )
    return from_mapping(data, "file", shown_path, installed)


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
    data: Any, source: str, name: str, installed: Catalogue | None = None, prefix: str = ""
) -> list[Setting]:
    """Check a config given as nested dicts (a parsed file, or code's dict).

    Args:
        data: The config: ``{"hookfit": {...}, "callbacks": {...}, ...}``.
        source: ``"file"``, ``"command line"`` or ``"code"``.
        name: What to call the source in messages.
        installed: The installed plugins (to check plugin names).
        prefix: Shown before key paths (``"tool.hookfit."`` in pyproject).

    Raises:
        ConfigError: An unknown section, key or plugin, or a wrong type.
    """
    installed = installed or catalogue()
    out: list[Setting] = []

    def fail(path: str, problem: str) -> ConfigError:
        return ConfigError(f"{name}: {prefix}{path}: {problem}")

    def origin(path: str) -> str:
        return f"{name}: {prefix}{path}"

    if not isinstance(data, Mapping):
        raise ConfigError(f"{name}: the config must be a table of sections, got {shown(data)}.")
    for section in data:
        if section not in SECTIONS:
            raise fail(
                str(section),
                f"unknown section{nearest(str(section), SECTIONS)}. "
                f"Valid sections: {', '.join(SECTIONS)}.",
            )
        if not isinstance(data[section], Mapping):
            raise fail(section, f"must be a table, got {shown(data[section])}.")

    # In pyproject.toml the [hookfit] keys sit directly in [tool.hookfit].
    section = "" if prefix else "hookfit"
    table = data.get("hookfit", {})
    _check_keys(table, _HOOKFIT_KEYS, section, fail)
    named: dict[str, str] = {}
    for key in ("enable", "disable"):
        path = _join(section, key)
        for i, plugin in enumerate(table.get(key, [])):
            _check_plugin(plugin, f"{path}[{i}]", installed, fail)
            if named.get(plugin, key) != key:
                raise fail(
                    f"{path}[{i}]",
                    f"{plugin!r} is in both {_join(section, 'enable')} "
                    f"and {_join(section, 'disable')}; keep it in one.",
                )
            named[plugin] = key
            out.append(switch(plugin, key == "enable", origin(path), source))
    if "autoload" in table:
        out.append(
            Setting(
                ("hookfit", "autoload"),
                table["autoload"],
                origin(_join(section, "autoload")),
                source,
            )
        )

    for plugin, args in data.get("callbacks", {}).items():
        path = f"callbacks.{plugin}"
        _check_plugin(plugin, path, installed, fail)
        if not isinstance(args, Mapping):
            raise fail(path, f"must be a table of the plugin's arguments, got {shown(args)}.")
        enabled = args.get("enabled", True)
        if not isinstance(enabled, bool):
            raise fail(f"{path}.enabled", f"expected true or false, got {shown(enabled)}.")
        if plugin not in named:  # [hookfit] enable/disable in the same source wins
            where = origin(path) + ("" if enabled else ".enabled = false")
            out.append(switch(plugin, enabled, where, source))
        for key, value in args.items():
            if not isinstance(key, str) or not key.isidentifier():
                raise fail(f"{path}.{key}", "not a valid argument name.")
            if key != "enabled":
                out.append(
                    Setting(("callbacks", plugin, key), value, origin(f"{path}.{key}"), source)
                )

    for section, keys in _SECTION_KEYS.items():
        table = data.get(section, {})
        _check_keys(table, keys, section, fail)
        out += [
            Setting((section, key), value, origin(f"{section}.{key}"), source)
            for key, value in table.items()
        ]
    return out


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
            raise fail(
                _join(section, key), f"expected {describe(keys[key])}, got {shown(value, key)}."
            )


def _check_plugin(name: Any, path: str, installed: Catalogue, fail: Any) -> None:
    if not isinstance(name, str):
        raise fail(path, f"expected a plugin name, got {shown(name)}.")
    if name not in installed.plugins:
        raise fail(path, unknown_plugin(name, installed))


# -- the environment and the command line ------------------------------------------


def from_environment(
    environ: Mapping[str, str], installed: Catalogue | None = None
) -> list[Setting]:
    """Read ``HOOKFIT_DISABLE_PLUGIN_AUTOLOAD`` and ``HOOKFIT_PLUGINS``.

    As in pytest, they change what loads automatically: the first keeps
    every third-party plugin off unless something names it; the second
    switches on the plugins it lists and keeps every other third-party
    plugin off unless something names it (code, the command line, or a
    config file's ``enable`` or ``[callbacks.NAME]``). Neither touches the
    plugins ``pip install hookfit`` brings, so `fit` keeps Keras's contract.

    Raises:
        ConfigError: A value that is not a switch, or an unknown plugin.
    """
    installed = installed or catalogue()
    out: list[Setting] = []
    raw = environ.get(ENV_AUTOLOAD)
    if raw is not None and raw.strip():
        flag = raw.strip().lower()
        if flag not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise ConfigError(
                f"environment: {ENV_AUTOLOAD}={raw!r}: expected 1 or 0 (true/false, yes/no)."
            )
        where = f"environment: {ENV_AUTOLOAD}={raw}"
        out.append(
            Setting(
                ("hookfit", "autoload"), flag in ("0", "false", "no", "off"), where, "environment"
            )
        )
    raw = environ.get(ENV_PLUGINS)
    if raw is not None and raw.strip():  # set but empty counts as unset, as above
        names = [n.strip() for n in raw.split(",") if n.strip()]
        where = f"environment: {ENV_PLUGINS}={raw}"
        for name in names:
            if name not in installed.plugins:
                raise ConfigError(f"environment: {ENV_PLUGINS}: {unknown_plugin(name, installed)}")
            out.append(switch(name, True, where, "environment"))
        # Only these load automatically: the others' defaults are off, as
        # with HOOKFIT_DISABLE_PLUGIN_AUTOLOAD, and what a file names stays on.
        out.append(
            Setting(
                ("hookfit", "autoload"),
                False,
                f"{where} (only these load automatically)",
                "environment",
            )
        )
    return out


def from_command_line(
    plugins: Iterable[str] = (), sets: Iterable[str] = (), installed: Catalogue | None = None
) -> list[Setting]:
    """Read ``-p NAME`` / ``-p no:NAME`` and ``--set KEY=VALUE`` options.

    ``--set callbacks.NAME.KEY=VALUE`` means what ``[callbacks.NAME]`` in a
    file means: it sets the argument and switches the plugin on.

    Raises:
        ConfigError: An unknown plugin, a malformed ``--set``, or a key or
            value the config file would refuse too.
    """
    installed = installed or catalogue()
    out: list[Setting] = []
    for option in plugins:
        name, on = (option[3:], False) if option.startswith("no:") else (option, True)
        if name not in installed.plugins:
            raise ConfigError(f"command line: -p {option}: {unknown_plugin(name, installed)}")
        out.append(switch(name, on, f"command line: -p {option}", "command line"))
    explicit = {s.path[1] for s in out}
    explicit.update(
        option.split(".")[1].strip()
        for option in sets
        if option.partition("=")[0].strip().endswith(".enabled") and option.count(".") >= 2
    )
    for option in sets:
        key, sep, text = option.partition("=")
        path = tuple(part.strip() for part in key.split("."))
        if not sep or not all(path) or len(path) < 2:
            raise ConfigError(
                f"command line: --set {_shown_option(option)}: expected SECTION.KEY=VALUE, e.g. "
                "--set callbacks.early_stopping.patience=5 or --set fit.epochs=3."
            )
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text  # a bare word: take it as a string
        except RecursionError:
            raise ConfigError(
                f"command line: --set {_shown_option(option)[:60]}...: nested too deeply to read "
                "as a TOML value."
            ) from None
        nested: Any = value
        for part in reversed(path):
            nested = {part: nested}
        where = f"command line: --set {_shown_option(option, value)}"
        implied = path[-1] != "enabled"  # a plugin argument switches its plugin on
        out += [
            Setting(s.path, s.value, where, "command line")
            for s in from_mapping(nested, "command line", where, installed)
            if not (implied and s.path[-1] == "enabled" and s.path[1] in explicit)
        ]
    return out


def _shown_option(option: str, value: Any = _UNREAD) -> str:
    """A ``--set KEY=VALUE`` option as messages and origins show it: as
    typed, unless it holds a secret (`hookfit.hooks.redaction`), which is
    shown as ``***``."""
    key, sep, _ = option.partition("=")
    if not sep:
        return masked_text(option)
    if value is _UNREAD:
        return f"{key}={MASK}" if is_secret_key(key.strip()) else masked_text(option)
    if masked(value, key.strip()) == value:
        return option
    return f"{key}={shown(value, key.strip())}"


def display(path: Path) -> str:
    """A path as messages show it: relative to the working directory when
    it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # elsewhere, a deleted cwd, a symlink loop
        return str(path)


def not_a_file(path: Path) -> str | None:
    """What ``path`` is when it exists but is not a regular file one can
    read (``"is a folder"``), for a message; None for a file, or when
    nothing is there (the caller's own "no such file" says that)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link that leads back to itself"
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    return "is a device"
