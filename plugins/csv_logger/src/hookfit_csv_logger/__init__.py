"""Keras's CSVLogger callback: stream every epoch's logs to a CSV file."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterable, Mapping
from typing import IO, Annotated, Any

import numpy as np

from hookfit import Callback, Check, HookfitError
from hookfit.background import Jobs
from hookfit.hooks.arguments import ArgumentError, shown

# not hookfit.saving: that loads the trainer
from hookfit.saving.atomic import atomic_file, check_writable


def _one_character(separator: str) -> bool:
    return len(separator) == 1 and separator not in '"\r\n'


def _non_empty(path: str | os.PathLike[str]) -> bool:
    return bool(os.fspath(path))


class CSVLogger(Callback):
    """Stream epoch results to a CSV file, one row per epoch.

    The header is ``epoch`` (0-based) followed by the sorted log keys; a
    value missing in some epoch is written ``NA``. Every row is flushed and
    fsync'ed. A key that first appears after the first epoch gets a column:
    the file is rewritten with the wider header (earlier rows get ``NA``)
    through `hookfit.saving.atomic_file`, so a crash leaves either the old or
    the new complete file.

    Args:
        filename: Path of the CSV file, e.g. ``"run/log.csv"``; missing parent
            folders are created when training begins.
        separator: The one character that separates the fields.
        append: True: append to the file if it exists, as Keras does (a
            loop of one-epoch fits keeps every row). A run that
            BackupAndRestore resumes drops the rows written after its backup
            (the epochs it redoes), so every epoch is in the file once.
            False: overwrite the file.

    Attributes:
        filename: The path, as a string.
        sep: The separator.
        append: Whether to append.
        keys: The log keys of the columns after ``epoch``, or None before the
            first row of a run.

    Raises:
        ConfigError: An argument does not fit its type hint, or ``filename``
            is an existing directory; the message names the argument.

    Example:
        >>> csv_logger = CSVLogger("training.log")
        >>> model.fit(X_train, Y_train, callbacks=[csv_logger])  # doctest: +SKIP
    """

    writes = True  # under MPI: rank 0 only (hookfit.distributed)

    def __init__(
        self,
        filename: Annotated[
            str | os.PathLike[str], Check(_non_empty, 'a non-empty path such as "run/log.csv"')
        ],
        separator: Annotated[
            str, Check(_one_character, "exactly one character other than a quote or a line break")
        ] = ",",
        append: bool = False,
    ) -> None:
        super().__init__()
        path = os.fspath(filename)
        if os.path.isdir(path):  # a fact of the filesystem, which no hint can state
            raise ArgumentError(
                "CSVLogger", "filename", f"expected a file, got {shown(path)}, which is a directory"
            )
        self.filename = path
        self.sep = separator
        self.append = append
        self.keys: list[str] | None = None
        self.writer: csv.DictWriter[str] | None = None
        self.csv_file: IO[str] | None = None
        self._header: list[str] | None = None  # the header in the file, exactly
        self._jobs = Jobs("CSVLogger")
        self._rows = 0  # data rows in the file

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._close()
        check_writable(os.path.dirname(self.filename), owner="CSVLogger", key="filename")
        self.keys, self._header, self._rows = None, None, 0
        if self.append and os.path.exists(self.filename):
            header, rows, text = self._read()
            self._header = header or None
            self.keys = [key for key in header if key != "epoch"] if header else None
            self._rows = len(rows)
            if header and not text.endswith("\n"):
                # a process killed mid-row left half a line: drop it
                self._rows = max(0, self._rows - 1)
                self._rewrite(header, rows[: self._rows])
                return
        self.csv_file = open(  # noqa: SIM115 - open until on_train_end
            self.filename, "a" if self.append else "w", newline="", encoding="utf-8"
        )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.csv_file is None:
            raise HookfitError(
                f"CSVLogger: {self.filename!r} is not open; on_epoch_end must come between "
                "on_train_begin and on_train_end."
            )
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            self._header = ["epoch", *self.keys]
            self._writer().writeheader()
        elif {"epoch", *logs} - set(self._header or ()):
            # Keras drops a late key; here it gets its column.
            keys = sorted({*self.keys, *logs})
            self._rewrite(["epoch", *keys], self._read()[1])
            self.keys = keys
        row = {key: _value(logs.get(key, "NA")) for key in self.keys}
        self._writer().writerow({"epoch": epoch, **row})
        self._rows += 1
        self._sync()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._close()

    def state_dict(self) -> dict[str, Any]:
        """The rows in the file, for BackupAndRestore: a resumed run drops
        the rows written after its backup."""
        return {"rows": self._rows}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resumed by BackupAndRestore: drop the rows written after the
        backup (the epochs this run redoes would appear twice).

        Raises:
            ValueError: ``rows`` is not a count.
        """
        rows = state["rows"]
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise ValueError(f"rows must be a count of rows, got {rows!r}")
        if self.append and self._header is not None and rows < self._rows:
            header, kept, _ = self._read()
            self._rewrite(header, kept[:rows])
            self._rows = min(rows, len(kept))

    def _read(self) -> tuple[list[str], list[dict[str, Any]], str]:
        with open(self.filename, newline="", encoding="utf-8") as f:
            text = f.read()
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=self.sep)
        rows = list(reader)
        return list(reader.fieldnames or []), rows, text

    def _rewrite(self, header: list[str], rows: list[dict[str, Any]]) -> None:
        self._close()
        try:
            with atomic_file(self.filename) as temp:
                with open(temp, "w", newline="", encoding="utf-8") as f:
                    writer = self._dict_writer(f, header)
                    writer.writeheader()
                    writer.writerows(rows)
                shutil.copymode(self.filename, temp)
        except BaseException as exc:
            exc.add_note(
                f"CSVLogger: rewriting {self.filename!r} failed; it still holds the rows "
                "written before."
            )
            raise
        self._header = header
        self.csv_file = open(self.filename, "a", newline="", encoding="utf-8")  # noqa: SIM115

    def _writer(self) -> csv.DictWriter[str]:
        if self.writer is None:
            self.writer = self._dict_writer(self.csv_file, self._header)  # type: ignore[arg-type]
        return self.writer

    def _dict_writer(self, f: IO[str], header: list[str]) -> csv.DictWriter[str]:
        return csv.DictWriter(
            f,
            fieldnames=header,
            restval="NA",
            extrasaction="ignore",
            delimiter=self.sep,
            lineterminator="\n",
        )

    def _sync(self) -> None:
        # flush now (a killed process keeps the row); fsync (a crashed
        # machine keeps it too) on hookfit's I/O thread, so no epoch waits.
        if self.csv_file is not None:
            self.csv_file.flush()
            self._jobs.submit(os.fsync, self.csv_file.fileno())

    def _close(self) -> None:
        self._jobs.wait()  # no fsync may outlive its file descriptor
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


def _value(value: Any) -> Any:
    # Keras's conversion; csv writes numpy scalars as plain numbers.
    zero_dim = isinstance(value, np.ndarray) and value.ndim == 0
    if isinstance(value, Iterable) and not isinstance(value, str) and not zero_dim:
        return f'"[{", ".join(map(str, value))}]"'
    return value
