"""Atomic files: every writer of hookfit and its plugins goes through here.

A file is written to a temporary name in its folder, flushed to disk and
renamed into place, then the folder itself is flushed, so a process killed at
any moment leaves either the previous file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..hooks.arguments import ArgumentError

TEMP_MARK = ".tmp-"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe_file_name(name: str, fallback: str = "unnamed", limit: int = 64) -> str:
    """A file or folder name made from ``name`` that stays where it is put.

    A plain name (letters, digits, ``_``, ``-``, ``.``, not starting with a
    dot) is used as it is. Any other (``../../x``, ``/etc``, ``a/b``, empty)
    has its other characters replaced, at most ``limit`` of them kept, and a
    hash of the whole name added, so that two names never share a file.
    """
    safe = _UNSAFE.sub("_", name)
    if safe == name and name and not name.startswith("."):
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{safe.lstrip('.')[:limit] or fallback}-{digest}"


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; on success it is flushed
    to disk and renamed over ``path``, on failure removed.

    The folder is created if missing. A process killed inside leaves at most
    a ``.<name>.tmp-*`` file and never a half-written ``path``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        yield temp
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_folder(target.parent)


def write_bytes(path: str | os.PathLike[str], chunks: Iterable[Any]) -> None:
    """Write ``chunks`` (bytes-like objects) one after another as the file
    ``path``, atomically (`atomic_file`)."""
    with atomic_file(path) as temp, open(temp, "wb") as out:
        out.writelines(chunks)


def check_writable(
    path: str | os.PathLike[str], *, owner: str, key: str, keep: bool = True
) -> Path:
    """Prove that files can be written in the folder ``path``, before training.

    Creates the folder (and its parents) if missing, then creates and
    deletes a temporary file there. A writer calls it in ``on_train_begin``
    so that a destination that cannot work (a folder under a file, ``/proc``,
    a read-only disk) stops the run before the first batch, not after an
    epoch of training when the first save fails.

    Args:
        path: The folder (``""`` is the working directory).
        owner: Who names the folder, for the message (``"CSVLogger"``).
        key: The argument that names it (``"filename"``).
        keep: False to remove again the folders this call created, for a
            writer that makes its folder only when it first writes (and
            must leave none behind when it never does).

    Returns:
        The folder.

    Raises:
        ArgumentError: The folder cannot be created or written in; the
            message names the folder and the operating system's reason.
    """
    folder = Path(path or ".")
    # the temporary file is named as atomic_file's are, so that one a killed
    # process leaves is removed by remove_stale_temp_files
    probe = folder / f".writable{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    made = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        probe.unlink()
        for created in [] if keep else made:
            created.rmdir()
    except OSError as exc:
        blocker = _file_above(folder)
        reason = (
            f"{str(blocker)!r} is a file, not a folder"
            if blocker is not None
            else f"{exc.strerror or exc} ({exc.filename or folder})"
        )
        raise ArgumentError(
            owner,
            key,
            f"cannot write files in the folder {str(folder)!r}: {reason}. Give a path in a "
            "folder this user can create and write to",
        ) from None
    return folder


def _file_above(folder: Path) -> Path | None:
    """The nearest of ``folder`` and its parents that exists and is not a
    folder: what makes a folder impossible to create."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's entries to disk, so that a rename or a new file in
    it survives a power loss (POSIX; a no-op elsewhere)."""
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_TEMP = re.compile(rf"^\.(.+){re.escape(TEMP_MARK)}(\d+)-[0-9a-f]+$")


def _of(name: str | re.Pattern[str], target: str) -> bool:
    return target == name if isinstance(name, str) else name.fullmatch(target) is not None


def remove_stale_temp_files(
    folder: str | os.PathLike[str], name: str | re.Pattern[str] | None = None
) -> list[Path]:
    """Delete the temporary files that processes killed mid-save left in
    ``folder`` (see `atomic_file`) and return them. The temporary file of a
    process still alive is a save in progress and is kept.

    Args:
        folder: The folder.
        name: Only the temporary files of this file name (or of the names
            this pattern matches in full): a writer removes its own only.
    """
    removed = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError), os.scandir(folder) as entries:
        for entry in entries:
            match = _TEMP.match(entry.name)
            if match and name is not None and not _of(name, match.group(1)):
                continue
            if match and not _alive(int(match.group(2))):
                with contextlib.suppress(OSError):  # in use (Windows) or already gone
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would end it; unlinking an open file fails instead
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to another user
        pass
    return True
