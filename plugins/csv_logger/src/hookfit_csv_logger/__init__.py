"""Keras's CSVLogger callback: stream every epoch's logs to a CSV file."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import stat
import warnings
from collections.abc import Iterable, Mapping
from typing import IO, Annotated, Any

import numpy as np

from hookfit import Callback, Check, HookfitError, HookfitWarning
from hookfit.background import Lane
from hookfit.hooks.arguments import ArgumentError, shown

# not hookfit.saving: that loads the trainer
from hookfit.saving.atomic import atomic_file, check_writable, is_stream, remedy

_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFIFO: "a pipe", stat.S_IFSOCK: "a socket"}


def _one_character(separator: str) -> bool:
    return len(separator) == 1 and separator not in '"\r\n'


def _non_empty(path: str | os.PathLike[str]) -> bool:
    return bool(os.fspath(path))


class CSVLogger(Callback):
    """Stream epoch results to a CSV file, one row per epoch.

    The header is ``epoch`` (0-based) followed by the sorted log keys; a
    value missing in some epoch is written ``NA``. Every row is written whole
    or not at all (a full disk cuts the file back to its last whole row) and
    fsync'ed. A device or pipe (``/dev/null``, ``/dev/stdout``, a FIFO) is
    written in place, without fsync. A key that first appears after the first epoch gets a column:
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
            is an existing directory; the message names the argument. Also
            when a device refuses a row (``/dev/full``).
        OSError: A row the disk could not take (none of it stays).

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
        self.csv_file: IO[bytes] | None = None
        self._stream = False  # a device or pipe (hookfit.saving.atomic.is_stream)
        self._header: list[str] | None = None  # the header in the file, exactly
        self._jobs = Lane("CSVLogger")
        self._rows = 0  # data rows in the file

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._close()
        self.keys, self._header, self._rows = None, None, 0
        self._stream = is_stream(self.filename)
        if not self._stream:
            check_writable(os.path.dirname(self.filename), owner="CSVLogger", key="filename")
            if self.append and os.path.exists(self.filename):
                self._continue_file()
        # unbuffered: a row that fails leaves no rest in a buffer to land later
        self.csv_file = open(  # noqa: SIM115 - open until on_train_end
            self.filename, "ab" if self.append or self._stream else "wb", buffering=0
        )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.csv_file is None:
            raise HookfitError(
                f"CSVLogger: {self.filename!r} is not open; on_epoch_end must come between "
                "on_train_begin and on_train_end."
            )
        logs = logs or {}
        text = ""
        if self.keys is None:
            self.keys = sorted(logs)
            self._header = ["epoch", *self.keys]
            text = self._line(self._header)
        elif {"epoch", *logs} - set(self._header or ()):
            if self._stream:
                self._late_keys(epoch, logs)
            else:
                # Keras drops a late key; here it gets its column.
                keys = sorted({*self.keys, *logs})
                self._rewrite(["epoch", *keys], self._read()[1])
                self.keys = keys
        row = [epoch, *(_value(logs.get(key, "NA")) for key in self.keys)]
        self._append(self.csv_file, text + self._line(row), epoch)
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

    def _continue_file(self) -> None:
        """Take the header and rows of the file to append to. A process
        killed mid-row left a last line without its line end: it is cut,
        so that no torn row reads as a whole one."""
        header, rows, text = self._read()
        if text and not text.endswith("\n"):
            if "\n" not in text:  # even the header is torn: nothing whole
                os.truncate(self.filename, 0)
                return
            rows = rows[:-1]
            self._rewrite(header, rows)
            self._close()
        self._header = header or None
        self.keys = [key for key in header if key != "epoch"] if header else None
        self._rows = len(rows)

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
                    writer = csv.DictWriter(
                        f,
                        fieldnames=header,
                        restval="NA",
                        extrasaction="ignore",
                        delimiter=self.sep,
                        lineterminator="\n",
                    )
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
        self.csv_file = open(self.filename, "ab", buffering=0)  # noqa: SIM115

    def _late_keys(self, epoch: int, logs: dict[str, Any]) -> None:
        # a stream's earlier rows cannot be rewritten: Keras's way, once
        late = sorted({*logs} - set(self._header or ()) - {"epoch"})
        self._header = [*(self._header or ()), *late]  # warned once per key
        warnings.warn(
            f"CSVLogger: {', '.join(map(repr, late))} first appeared at epoch {epoch}; "
            f"{self.filename!r} is a stream, whose header cannot be rewritten, so "
            "they get no column (as in Keras). Log to a regular file to keep them.",
            HookfitWarning,
            stacklevel=2,
        )

    def _line(self, fields: list[Any]) -> str:
        out = io.StringIO()
        csv.writer(out, delimiter=self.sep, lineterminator="\n").writerow(fields)
        return out.getvalue()

    def _append(self, f: IO[bytes], text: str, epoch: int) -> None:
        """Write ``text`` whole to ``f``, or leave the file as it was."""
        data = memoryview(text.encode("utf-8"))
        size = None if self._stream else os.fstat(f.fileno()).st_size
        try:
            while data:
                data = data[f.write(data) or 0 :]
        except OSError as exc:
            if size is not None:
                # a disk that refuses even this leaves the tail without its
                # line end, which the next append cuts (_continue_file)
                with contextlib.suppress(OSError):
                    os.ftruncate(f.fileno(), size)
            raise self._write_error(exc, epoch) from exc

    def _write_error(self, exc: OSError, epoch: int) -> Exception:
        if self._stream:
            kind = _KINDS.get(stat.S_IFMT(os.stat(self.filename).st_mode), "a stream")
            return ArgumentError(
                "CSVLogger",
                "filename",
                f"cannot write epoch {epoch}'s row to {shown(self.filename)}, {kind}: "
                f"{exc.strerror or exc}. Give a regular file, or /dev/null to discard the rows",
            )
        return OSError(
            exc.errno,
            f"CSVLogger: could not write epoch {epoch}'s row ({exc.strerror or exc}); the file "
            f"keeps its {self._rows} whole rows and nothing of this one. "
            f"{remedy(exc, 'train again with append=True')}",
            self.filename,
        )

    def _sync(self) -> None:
        # written unbuffered (a killed process keeps the row); fsync'ed (a
        # crashed machine keeps it too) on hookfit's I/O thread, so no epoch
        # waits. A device or a pipe has no disk to flush to.
        if self.csv_file is not None and not self._stream:
            self._jobs.submit(os.fsync, self.csv_file.fileno())

    def _close(self) -> None:
        self._jobs.wait()  # no fsync may outlive its file descriptor
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None


def _value(value: Any) -> Any:
    # Keras's conversion; csv writes numpy scalars as plain numbers.
    zero_dim = isinstance(value, np.ndarray) and value.ndim == 0
    if isinstance(value, Iterable) and not isinstance(value, str) and not zero_dim:
        return f'"[{", ".join(map(str, value))}]"'
    return value
