"""Atomic files: every writer of hookfit and its plugins goes through here.

A file is written to a temporary name in its folder, flushed to disk and
renamed into place, then the folder itself is flushed, so a process killed at
any moment leaves either the previous file or the new one, never a torn one.
A stream (`is_stream`: ``/dev/null``, ``/dev/stdout``, a named pipe) has no
folder entry to replace and nothing to flush to disk: it is written in place.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..hooks.arguments import ArgumentError

TEMP_MARK = ".tmp-"
# what atomic_file adds to a name for its temporary file (a pid is at most 2**22)
TEMP_EXTRA = len(f".{TEMP_MARK}{2**22}-{secrets.token_hex(4)}")
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


def is_stream(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` names no file of its own to replace: a device
    (``/dev/null``, ``/dev/full``, a terminal), a named pipe or a socket, or
    another open file reached through ``/proc`` (``/dev/stdout`` redirected
    to a file). Writers write such a path in place, with no rename and no
    fsync (which devices and pipes refuse)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    if stat.S_ISDIR(mode):
        return False
    return not stat.S_ISREG(mode) or _through_proc(os.path.abspath(path))


def _through_proc(path: str) -> bool:
    """True when resolving ``path``'s symbolic links passes through
    ``/proc`` (``/dev/stdout`` -> ``/proc/self/fd/1``): a rename there would
    replace the link itself, not the file it reaches."""
    for _ in range(40):  # the kernel's own limit on links followed
        if path == "/proc" or path.startswith("/proc/"):
            return True
        parts, head = path.strip("/").split("/"), "/"
        for i, part in enumerate(parts):
            head = os.path.join(head, part)
            if os.path.islink(head):
                link = os.path.join(os.path.dirname(head), os.readlink(head))
                path = os.path.normpath(os.path.join(link, *parts[i + 1 :]))
                break
        else:
            return False
    return False


def too_long(path: str | os.PathLike[str]) -> str | None:
    """Why `atomic_file` can never write ``path`` on its file system: a
    name longer than NAME_MAX (its last one with `TEMP_EXTRA` to spare for
    the temporary file), or the whole longer than PATH_MAX; None when it
    fits.
    """
    full = Path(os.path.abspath(path))
    anchor = next((p for p in full.parents if os.path.isdir(p)), Path(full.anchor))
    name_max, path_max = _limit(anchor, "PC_NAME_MAX", 255), _limit(anchor, "PC_PATH_MAX", 4096)
    parts = full.parts[1:]
    for i, part in enumerate(parts):
        size = len(os.fsencode(part))
        room = name_max - (TEMP_EXTRA if i == len(parts) - 1 else 0)
        if size > room:
            return (
                f"the name {part[:24]!r}... has {size} bytes, and this file system takes "
                f"{room} at most"
            )
    size = len(os.fsencode(str(full))) + TEMP_EXTRA
    if size >= path_max:
        return f"the path has {size} bytes, and this system takes {path_max - 1} at most"
    return None


def _limit(folder: Path, name: str, default: int) -> int:
    try:
        return os.pathconf(folder, name)
    except (OSError, ValueError, AttributeError):  # not POSIX, or no such limit
        return default


def remedy(error: OSError, then: str) -> str:
    """The advice for a failed write, for a message: free space or raise
    the file-size limit when that is the cause, else what the system said.

    Args:
        error: The error of the write.
        then: What to do after the fix (``"save again"``).
    """
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"Free disk space, then {then}"
    if error.errno == errno.EFBIG:
        return f"Raise the file-size limit (ulimit -f), then {then}"
    where = f" ({error.filename})" if error.filename else ""
    return f"The system said: {error.strerror or error}{where}; fix that, then {then}"


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; on success it is flushed
    to disk and renamed over ``path``, on failure removed.

    The folder is created if missing. A process killed inside leaves at most
    a ``.<name>.tmp-*`` file and never a half-written ``path``. A stream
    (`is_stream`) is yielded itself, to be written in place.
    """
    target = Path(path)
    if is_stream(target):
        yield target
        return
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
