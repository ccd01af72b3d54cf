"""``hookfit plugins`` and ``hookfit config``: every installed plugin, on or
off and why, and every effective setting with where it came from."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any, cast

from ..errors import (
    ConfigError,
    PluginLoadError,
    PluginValidationError,
    nearest,
)
from ..hooks.hints import shown
from ..hooks.redaction import masked, masked_text
from ..run.catalogue import (
    PluginInfo,
    install_hint,
)
from ..run.inspection import hooks_in_source, requires_hookfit
from ..run.plan import build_plugin, plan
from .common import command_settings


def plugins(args: argparse.Namespace) -> int:
    from ..hooks.dispatch import hooks_of, implementations

    run = plan(config=command_settings(args)[0], build=False)
    installed = run.catalogue
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
            except Exception as exc:  # the plugin's own constructor raised: list the others
                row["status"], row["error"] = "error", f"{type(exc).__name__}: {exc}"
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
        name: [f"{i.dist} {i.version}" for i in infos]
        for name, infos in installed.conflicts.items()
    }
    problems = [
        *installed.bad_defaults,
        *(
            f"{d} is not installed; hookfit runs without this default ({install_hint(d)})"
            for d in installed.missing
        ),
    ]
    commands = _command_rows()
    hosts = host_rows()
    if args.json:
        everything = {"plugins": rows, "conflicts": conflicts, "problems": problems}
        print(json.dumps({**everything, "commands": commands, "hosts": hosts}, indent=2))
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
    for row in commands:
        added = ", ".join(f"hookfit {name}" for name in row["commands"]) or "no command"
        status = "ERROR" if row["error"] else added
        print(f"commands: {row['plugin']} ({row['distribution']} {row['version']}): {status}")
        if row["error"]:
            print(f"    error: {row['error']}")
    for row in hosts:
        print(
            f"host: {row['name']} ({row['distribution']} {row['version']}): import {row['module']}"
        )
    return 0


def host_rows() -> list[dict[str, Any]]:
    """The installed hosts, other trainers that run hookfit's plugins
    (entry-point group ``hookfit.hosts``), read from metadata, not imported."""
    from importlib.metadata import entry_points

    return [
        {
            "name": ep.name,
            "distribution": ep.dist.name if ep.dist else None,
            "version": ep.dist.version if ep.dist else None,
            "module": ep.value,
        }
        for ep in sorted(entry_points(group="hookfit.hosts"), key=lambda ep: ep.name)
    ]


def _command_rows() -> list[dict[str, Any]]:
    """The plugins that add commands (``hookfit.commands``): which commands,
    or why they could not be added."""
    from .commands import BUILT_IN, add_plugin_commands

    scratch = argparse.ArgumentParser(prog="hookfit").add_subparsers()
    return [
        {
            "plugin": loaded.info.name,
            "distribution": loaded.info.dist,
            "version": loaded.info.version,
            "target": loaded.info.value,
            "commands": loaded.commands,
            "error": loaded.error,
        }
        for loaded in add_plugin_commands(scratch, BUILT_IN)
    ]


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


def config(args: argparse.Namespace) -> int:
    settings, source = command_settings(args, bundled=True)
    run = plan(config=settings, verbose=None, build=False)
    rows = run.report()
    if args.json:
        print(
            json.dumps(
                [{"key": k, "value": masked(v, k), "from": w} for k, v, w in rows],
                indent=2,
                default=lambda v: masked_text(str(v)),
            )
        )
        return 0
    print(f"# config file: {source}")
    for key, value, where in rows:
        text = value if key.startswith("plugins.") else shown(value, key)
        print(f"{key} = {text}  # {where}")
    return 0
