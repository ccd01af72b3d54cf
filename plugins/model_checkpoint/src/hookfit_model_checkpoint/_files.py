"""The files a ModelCheckpoint writes: placeholders in their names, the
ranking behind ``save_top_k``, and the leftovers of killed runs."""

from __future__ import annotations

import glob
import math
import os
import re
import string
import warnings
from pathlib import Path
from typing import Any

from hookfit import ConfigError, HookfitWarning
from hookfit.saving import remove_stale_temp_files as remove_temp_files_in


def hdf5_name(filepath: str | os.PathLike[str]) -> bool:
    """True for a name ending in ``.h5`` or ``.hdf5`` (the ``filepath`` hint's check)."""
    return os.fspath(filepath).endswith((".h5", ".hdf5"))


def check_filepath(
    filepath: str | os.PathLike[str], save_top_k: int | None, save_last: bool
) -> str:
    """Return ``filepath`` as a string, checked as a template.

    Its type and suffix are the hint's business; this checks what depends
    on the format string and on the other arguments.

    Raises:
        ConfigError: A bad format string, no placeholder with
            ``save_top_k``, or a file named like the one ``save_last`` writes.
    """
    path = os.fspath(filepath)
    names = placeholders(path)
    if save_top_k is not None and not names:
        raise _bad(
            "a name with a placeholder such as {epoch} when save_top_k is set (each save must "
            "get its own file)",
            path,
        )
    last = "last" + Path(path).suffix
    if save_last and Path(path).name == last:
        raise _bad(f"another name than {last} when save_last writes {last}", path)
    return path


def placeholders(filepath: str) -> set[str]:
    """The log keys ``filepath`` names (``{val_loss:.2f}`` -> ``val_loss``).

    Raises:
        ConfigError: A malformed format string or a positional ``{}``.
    """
    try:
        parsed = list(string.Formatter().parse(filepath))
    except ValueError as exc:
        raise _bad(f"a valid format string ({exc})", filepath) from None
    names = {re.split(r"[.\[]", field)[0] for _, field, _, _ in parsed if field is not None}
    if "" in names or any(name.isdigit() for name in names):
        raise _bad("a format string with named placeholders only, such as {epoch:02d}", filepath)
    return names


def format_filepath(filepath: str, epoch: int, batch: int | None, logs: dict[str, Any]) -> str:
    """The file to write: ``filepath`` with the 1-based ``epoch`` (and
    ``batch``) and every log key.

    Raises:
        ConfigError: The values do not fit the template, saying why.
    """
    values = {**logs, "epoch": epoch + 1}
    if batch is not None:
        values["batch"] = batch + 1
    try:
        return filepath.format(**values)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ConfigError(
            f"ModelCheckpoint: cannot format filepath {filepath!r} at epoch {epoch + 1} "
            f"with the keys {', '.join(values)}: {type(exc).__name__}: {exc}."
        ) from None


def check_placeholders(filepath: str, metrics: list[str], by_batch: bool) -> None:
    """Refuse a placeholder that names a key the logs will never hold.

    Epoch logs hold the run's metrics (``params["metrics"]``); batch logs
    hold the training ones (no ``val_``) and ``batch`` and ``size``.

    Raises:
        ConfigError: Naming the missing keys and the keys that exist.
    """
    keys = [m for m in metrics if not (by_batch and m.startswith("val_"))]
    keys += ["epoch", "batch", "size"] if by_batch else ["epoch"]
    missing = sorted(placeholders(filepath) - set(keys))
    if missing:
        raise ConfigError(
            f"ModelCheckpoint: filepath {filepath!r} names "
            f"{', '.join('{' + m + '}' for m in missing)}, which will never be in the "
            f"{'batch' if by_batch else 'epoch'} logs. Keys that exist: {', '.join(keys)}."
        )


def written_by(filepath: str, path: str) -> bool:
    """True when ``path`` is a name `format_filepath` can give ``filepath``:
    its text as it is, each placeholder any text without a folder separator
    (and no ``..`` the template does not hold). What a ModelCheckpoint may
    delete, whatever a saved state says."""
    return _pattern(filepath).fullmatch(path) is not None and (
        ".." not in Path(path).parts or ".." in Path(filepath).parts
    )


def own_files(filepath: str, pairs: list[list[Any]]) -> list[list[Any]]:
    """The ``[path, value]`` pairs of a saved state whose paths ``filepath``
    names (`written_by`); the others are forgotten with a warning, never
    deleted: a backup file can be edited by anyone."""
    mine = [pair for pair in pairs if written_by(filepath, str(pair[0]))]
    if len(mine) < len(pairs):
        strangers = [str(pair[0]) for pair in pairs if pair not in mine]
        warnings.warn(
            f"ModelCheckpoint: the saved state lists files that filepath {filepath!r} never "
            f"names: {', '.join(map(repr, strangers))}. They are left alone (never deleted) "
            "and forgotten.",
            HookfitWarning,
            stacklevel=3,
        )
    return mine


def _pattern(filepath: str) -> re.Pattern[str]:
    parsed = string.Formatter().parse(filepath)
    return re.compile(
        "".join(re.escape(text) + (r"[^/\\]*" if f is not None else "") for text, f, _, _ in parsed)
    )


class Ledger:
    """The files one ModelCheckpoint wrote and has not deleted, with the
    monitored value of each, in write order.

    Args:
        mode: ``"min"`` or ``"max"``: which values are better.
        keep: Keep only this many files, the best ones; None keeps all.
    """

    def __init__(self, mode: str, keep: int | None) -> None:
        self.mode = mode
        self.keep = keep
        self.files: dict[str, float | None] = {}

    def rank(self, score: float | None) -> tuple[int, float]:
        """A sort key: better values first, a missing or NaN value last."""
        if score is None or math.isnan(score):
            return (1, 0.0)
        return (0, score if self.mode == "min" else -score)

    def admits(self, score: float) -> bool:
        """True when a file with this value would be among the ``keep`` best."""
        if self.keep is None or len(self.files) < self.keep:
            return True
        return self.rank(score) < max(self.rank(s) for s in self.files.values())

    def add(self, path: str, score: float | None) -> list[str]:
        """Record a written file and return the files beyond the ``keep``
        best, for the caller to delete (of equal values the earliest stays)."""
        self.files.pop(path, None)
        self.files[path] = score
        if self.keep is None:
            return []
        dropped = sorted(self.files, key=lambda p: self.rank(self.files[p]))[self.keep :]
        for old in dropped:
            del self.files[old]
        return dropped

    def forget(self, path: str) -> None:
        """Drop a file that was never written (its write was dropped)."""
        self.files.pop(path, None)

    def best(self) -> tuple[str | None, float | None]:
        """The best file and its value; the latest file when no value was seen."""
        if not self.files:
            return None, None
        path = min(self.files, key=lambda p: self.rank(self.files[p]))
        if self.rank(self.files[path])[0]:
            path = next(reversed(self.files))
        score = self.files[path]
        return path, None if score is None or math.isnan(score) else score

    def state(self) -> list[list[Any]]:
        """The files and values as JSON-able pairs (a NaN becomes None)."""
        return [[p, None if s is None or math.isnan(s) else s] for p, s in self.files.items()]

    def load(self, pairs: list[list[Any]]) -> None:
        """Restore what `state` returned."""
        self.files = {str(p): None if s is None else float(s) for p, s in pairs}


def remove_stale_temp_files(filepath: str) -> None:
    """Delete what killed runs left in the folder(s) of ``filepath`` (a
    placeholder in a folder name matches any folder): the temporary files of
    names the template gives, and no other."""
    parsed = string.Formatter().parse(os.path.dirname(filepath))
    pattern = "".join(
        glob.escape(text) + ("*" if f is not None else "") for text, f, _, _ in parsed
    )
    names = _pattern(os.path.basename(filepath))
    last = "last" + Path(filepath).suffix
    mine = re.compile(f"(?:{names.pattern}|{re.escape(last)})")
    for folder in glob.glob(pattern or "."):
        remove_temp_files_in(folder, name=mine)


def _bad(valid: str, got: Any) -> ConfigError:
    return ConfigError(f"ModelCheckpoint: filepath must be {valid}, got {got!r}.")
