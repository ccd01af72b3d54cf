"""Finding the config file ``hookfit train`` uses when none is given, safely.

The search starts in the working directory and goes upward only to the
project root: the first folder holding ``.git`` or ``pyproject.toml``. With
no project root above, only the working directory is searched. A file found
this way must be the user's own, like git's ``safe.directory`` rule: a file
(or its folder) owned by another user, or a file that others may write, is
refused. Passing the file explicitly uses it anyway.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

from ..errors import ConfigError
from .sources import FILE_NAME, display


def working_directory() -> Path:
    """The working directory, which relative paths (config, data, ``runs/``)
    start from.

    Raises:
        ConfigError: It was deleted (or moved) while in use.
    """
    try:
        return Path.cwd()
    except FileNotFoundError:
        raise ConfigError(
            "the working directory no longer exists (deleted or moved while in use); change to "
            "an existing folder and run the command again."
        ) from None


def project_root(start: Path) -> Path | None:
    """The first folder from ``start`` upward holding ``.git`` or
    ``pyproject.toml``, or None."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists() or (folder / "pyproject.toml").is_file():
            return folder
    return None


def find_file(start: Path | None = None) -> Path | None:
    """The config file for a run started in ``start`` (the working
    directory), or None.

    Looks for ``hookfit.toml``, then a ``pyproject.toml`` with a
    ``[tool.hookfit]`` table, in each folder from ``start`` up to the
    project root.

    Raises:
        ConfigError: The file found is not safe to use (see the module).
    """
    start = (start or working_directory()).resolve()
    root = project_root(start) or start
    for folder in (start, *start.parents):
        found = _config_in(folder)
        if found is not None:
            check_safe(found)
            return found
        if folder == root:
            return None
    return None


def _config_in(folder: Path) -> Path | None:
    if (folder / FILE_NAME).is_file():
        return folder / FILE_NAME
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        # an unreadable pyproject.toml (even one nested too deeply for the
        # parser) is not a hookfit config: the search goes on without it
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError, RecursionError):
            return None
        if isinstance(data.get("tool"), dict) and "hookfit" in data["tool"]:
            return pyproject
    return None


def check_safe(path: Path) -> None:
    """Refuse a discovered config file that is not the user's own.

    Raises:
        ConfigError: ``path`` or its folder belongs to another user, or
            ``path`` is writable by its group or by everyone.
    """
    if not hasattr(os, "getuid"):  # no owners to compare (Windows)
        return
    me = os.getuid()
    info = path.stat()
    folder = path.parent.stat()
    problem = None
    if info.st_uid != me:
        problem = f"it belongs to another user (uid {info.st_uid})"
    elif folder.st_uid != me:
        problem = f"its folder belongs to another user (uid {folder.st_uid})"
    elif info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = "everyone" if info.st_mode & stat.S_IWOTH else "its group"
        problem = f"{who} may write it (mode {stat.filemode(info.st_mode)})"
    if problem is not None:
        raise ConfigError(
            f"{display(path)}: found this config file but refused it: {problem}, so someone "
            f"else could choose what your training runs and writes. If you trust it, pass it "
            f"explicitly: hookfit train {path}. Otherwise fix its owner or mode "
            f"(chmod go-w {path})."
        )
