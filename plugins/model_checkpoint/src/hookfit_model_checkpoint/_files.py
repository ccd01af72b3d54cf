"""The files a ModelCheckpoint wrote: the ranking behind ``save_top_k``,
what a saved state may bring back, and the leftovers of killed runs."""

from __future__ import annotations

import glob
import math
import os
import re
import string
import warnings
from typing import Any

from hookfit import HookfitWarning
from hookfit.monitor import Monitor
from hookfit.saving import remove_stale_temp_files as remove_temp_files_in

from ._names import _pattern, last_name, written_by


def own_files(
    filepath: str,
    pairs: list[list[Any]],
    *,
    epochs: int | None,
    monitor: str,
    best: float | None,
    ledger: Ledger,
) -> list[list[Any]]:
    """The ``[path, value]`` pairs of a saved state that this run could have
    left: the name is one the template renders (`written_by`) for an epoch
    up to ``epochs``, with the value in the name if ``monitor`` is there;
    the value is a finite number or None, no better than ``best`` (as every
    file's is), and among the ledger's ``keep`` best. The others are
    forgotten with one warning and never deleted: a backup can be edited by
    anyone. Files no longer there are forgotten quietly.
    """
    mine: list[list[Any]] = []
    strangers: list[str] = []
    for pair in pairs:
        path, score = _entry(pair)
        if path is None:
            strangers.append(repr(pair))
        elif not (
            written_by(filepath, path, epochs=epochs, monitor=monitor, score=score)
            and (score is None or (best is not None and ledger.rank(score) >= ledger.rank(best)))
        ):
            strangers.append(repr(path))
        elif os.path.isfile(path):
            mine.append([path, score])
    if ledger.keep is not None and len(mine) > ledger.keep:
        # more than this run keeps: the surplus is not deleted on the saved word
        ranked = sorted(mine, key=lambda pair: ledger.rank(pair[1]))
        strangers += [repr(path) for path, _ in ranked[ledger.keep :]]
        mine = [pair for pair in mine if pair in ranked[: ledger.keep]]
    if strangers:
        warnings.warn(
            "ModelCheckpoint: the saved state lists files this run cannot have left (a name "
            f"that filepath {filepath!r} does not give"
            f"{'' if epochs is None else f' for epochs 1 to {epochs}'}, a value better than "
            f"its best {best}, or more than save_top_k={ledger.keep}): {', '.join(strangers)}. "
            "They are left alone (never deleted) and forgotten.",
            HookfitWarning,
            stacklevel=3,
        )
    return mine


def _entry(pair: Any) -> tuple[str | None, float | None]:
    """A saved ``[path, value]``, or ``(None, None)`` when it is not one."""
    if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[0], str)):
        return None, None
    score = pair[1]
    if score is None:
        return pair[0], None
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
        return None, None
    return pair[0], float(score)


class Ledger:
    """The files one ModelCheckpoint wrote and has not deleted, with the
    monitored value of each, in write order.

    Args:
        monitoring: The checkpoint's `Monitor`, whose ``mode`` (``"min"`` or
            ``"max"``) says which values are better.
        keep: Keep only this many files, the best ones; None keeps all.
    """

    def __init__(self, monitoring: Monitor, keep: int | None) -> None:
        self.monitoring = monitoring
        self.keep = keep
        self.files: dict[str, float | None] = {}

    def rank(self, score: float | None) -> tuple[int, float]:
        """A sort key: better values first, a missing or NaN value last."""
        if score is None or math.isnan(score):
            return (1, 0.0)
        return (0, score if self.monitoring.mode == "min" else -score)

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
    last = last_name(filepath)
    mine = re.compile(f"(?:{names.pattern}|{re.escape(last)})")
    for folder in glob.glob(pattern or "."):
        remove_temp_files_in(folder, name=mine)
