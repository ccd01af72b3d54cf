"""What an installed plugin declares, read without importing it: the hooks
its source defines and the hookfit versions its metadata requires.

``hookfit plugins`` shows both for every plugin, the ones switched off
included, so nothing here may run a plugin's code.
"""

from __future__ import annotations

import ast
import importlib.machinery
import re
from pathlib import Path
from typing import TYPE_CHECKING

import importlib_metadata

if TYPE_CHECKING:
    from .catalogue import PluginInfo


def hooks_in_source(info: PluginInfo, unknown: list[str] | None = None) -> list[str] | None:
    """The hooks a plugin defines, read from its source without importing it.

    Looks at the entry point's class (and its base classes in the same
    module) or, for a module plugin, its top-level functions. Returns None
    when the source cannot be found or read.

    Args:
        info: The installed plugin.
        unknown: If given, receives the sorted names of the ``on_*``
            functions found there that are not hooks (``on_epoch_ends``),
            so that a misspelled hook shows before the plugin is switched on.
    """
    from ..hooks.specs import ALL_HOOKS

    path = _module_file(info)
    if path is None:
        return None
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    found: set[str] = set()
    if not info.attr:
        found = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    todo, seen = [info.attr.split(".")[-1]] if info.attr else [], set()
    while todo:
        node = classes.get(todo.pop())
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                found.add(item.name)
            elif isinstance(item, ast.Assign):
                found.update(t.id for t in item.targets if isinstance(t, ast.Name))
        todo += [b.id for b in node.bases if isinstance(b, ast.Name)]
    if unknown is not None:
        unknown[:] = sorted(n for n in found if n.startswith("on_") and n not in ALL_HOOKS)
    return sorted(found & set(ALL_HOOKS))


def _module_file(info: PluginInfo) -> Path | None:
    parts = info.module.split(".")
    if info.distribution is not None:
        # Usually the module sits beside its dist-info folder: a stat or two,
        # where PathFinder below would search every folder of sys.path.
        for relative in (f"{'/'.join(parts)}/__init__.py", f"{'/'.join(parts)}.py"):
            candidate = Path(str(info.distribution.locate_file(relative)))
            if candidate.is_file():
                return candidate
    # PathFinder locates a module without executing it (or its parents).
    locations: list[str] | None = None
    spec = None
    for depth, part in enumerate(parts):
        spec = importlib.machinery.PathFinder.find_spec(part, locations)
        if spec is None:
            return None
        if depth < len(parts) - 1:
            locations = list(spec.submodule_search_locations or [])
    if spec is None or not spec.origin or not spec.has_location:
        return None
    return Path(spec.origin)


def requires_hookfit(info: PluginInfo) -> str | None:
    """The hookfit versions a plugin's distribution declares it works with,
    e.g. ``"hookfit<0.2,>=0.1.0"``, read from its metadata."""
    dist = info.distribution
    if dist is None:
        try:
            dist = importlib_metadata.distribution(info.dist)
        except importlib_metadata.PackageNotFoundError:
            return None
    # The Requires-Dist headers, read straight from METADATA: the email
    # parser that `dist.requires` uses costs milliseconds per plugin.
    text = dist.read_text("METADATA") or ""
    for line in text.split("\n\n", 1)[0].splitlines():
        if line.startswith("Requires-Dist:"):
            requirement = line.split(":", 1)[1].split(";")[0].replace(" ", "")
            name = re.split(r"[<>=!~\[(]", requirement, maxsplit=1)[0]
            if name.lower() == "hookfit":
                return requirement
    return None
