"""Hatchling metadata hook: the core's requirements on the built-in plugins.

The built-in plugins (hookfit-history, ...) are distributions of their own in
``plugins/<name>/``. Built from a clone of the repository, where those folders
sit beside ``core/``, each ``hookfit-<name>`` requirement becomes a PEP 508
direct reference to its folder (``hookfit-history @ file:///.../plugins/history``),
so that ``pip install ./core`` and ``pip install './core[all]'`` install the
plugins from the clone rather than looking for them on an index.

The metadata keeps the plain version ranges written in
``[tool.hatch.metadata.hooks.custom]`` of pyproject.toml, as published, when
the plugin folders are not there (a build from the sdist), when building an
sdist (it is for an index) or an editable install (below), and when
``HOOKFIT_BUILD_FOR_INDEX=1`` is set: tools/install_wheels.py sets it, and so
must a release build (``HOOKFIT_BUILD_FOR_INDEX=1 python -m build core``).

Editable installs keep the plain ranges because pip refuses an editable
requirement that a direct reference to the same folder also names
(pypa/pip#10216, still so in pip 26.3): the development install
``pip install -e core -e plugins/history ...`` would fail.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface
from packaging.requirements import Requirement

OPT_OUT = "HOOKFIT_BUILD_FOR_INDEX"
"""Set to 1 to keep plain version ranges when building from a clone."""


def for_index() -> bool:
    return os.environ.get(OPT_OUT, "").strip().lower() not in ("", "0", "false", "no")


def building(*hooks: str) -> bool:
    """True while one of hatchling's PEP 517/660 ``hooks`` (``build_sdist``,
    ...) is on the call stack: metadata hooks are not told the target."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name in hooks and frame.f_globals.get("__name__") == "hatchling.build":
            return True
        frame = frame.f_back
    return False


def local_reference(requirement: str, plugins: Path) -> str:
    """``requirement`` as a direct reference to its folder under ``plugins``
    when it names a built-in plugin found there; otherwise unchanged."""
    parsed = Requirement(requirement)
    name = parsed.name.lower().replace("_", "-")
    if not name.startswith("hookfit-"):
        return requirement
    folder = plugins / name.removeprefix("hookfit-").replace("-", "_")
    if not (folder / "pyproject.toml").is_file():
        return requirement
    extras = f"[{','.join(sorted(parsed.extras))}]" if parsed.extras else ""
    marker = f" ; {parsed.marker}" if parsed.marker else ""
    # The version range is dropped: the folder is the same checkout as the
    # core, and every distribution takes its version from the root VERSION.
    return f"{parsed.name}{extras} @ {folder.resolve().as_uri()}{marker}"


class CustomMetadataHook(MetadataHookInterface):
    PLUGIN_NAME = "custom"

    def update(self, metadata: dict[str, Any]) -> None:
        plugins = Path(self.root).resolve().parent / "plugins"
        local = (
            plugins.is_dir()
            and not for_index()
            # an sdist is for an index; an editable install, see the module
            and not building("build_sdist", "build_editable", "prepare_metadata_for_build_editable")
        )

        def convert(requirements: list[str]) -> list[str]:
            return [local_reference(r, plugins) if local else r for r in requirements]

        metadata["dependencies"] = convert(list(self.config.get("dependencies", [])))
        metadata["optional-dependencies"] = {
            extra: convert(list(requirements))
            for extra, requirements in self.config.get("optional-dependencies", {}).items()
        }
