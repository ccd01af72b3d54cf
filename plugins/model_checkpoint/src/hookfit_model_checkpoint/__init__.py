"""Keras's ModelCheckpoint callback: save the model, or the best ones, while training."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from hookfit import Callback, Check, ConfigError, Range
from hookfit.background import Lane
from hookfit.monitor import Best, LogKey, Mode, Monitor
from hookfit.saving.atomic import check_writable

from ._files import Ledger, own_files, remove_stale_temp_files
from ._names import (
    check_filepath,
    check_format,
    check_placeholders,
    format_filepath,
    has_extension,
    last_name,
    written_by,
)

# What the copies of the model waiting for the disk may take, in all.
PENDING_BYTES = 256 * 2**20


class ModelCheckpoint(Callback):
    """Save the model after every epoch (or every ``save_freq`` batches).

    ``filepath`` is formatted with ``epoch`` (1-based) and every log key, and
    with ``batch`` (1-based) when saving on a batch, e.g.
    ``"weights.{epoch:02d}-{val_loss:.2f}.h5"``. It saves through the
    model's own ``save``/``save_weights``, which write every file to a
    temporary name in the same folder and rename it into place, so a
    process killed mid-save leaves the previous file intact.

    Args:
        filepath: Path of the file, with an extension the host writes
            (`hookfit.hooks.host.FileFormats`): ``.h5``/``.hdf5`` for
            hookfit's trainer; ``.keras`` or ``.h5`` (with
            ``save_weights_only``: ``.weights.h5``) in Keras 3. Folders
            are created.
        monitor: Log key that ranks the saves, e.g. ``"val_loss"``.
        verbose: 0: quiet, 1: a message at every save trigger.
        save_best_only: Save only when ``monitor`` improves on ``best``.
        save_weights_only: ``model.save_weights`` instead of ``model.save``.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        period: Epochs between checkpoints (with ``save_freq="epoch"``).
        save_freq: ``"epoch"``, or save every this many batches (counted
            across epochs).
        initial_value_threshold: The ``best`` to beat at the start.
        save_top_k: Keep only the k best files this instance wrote (by
            ``monitor``) and delete the others; needs a placeholder in
            ``filepath``.
        save_last: Also write ``last`` with the filepath's extension
            (``last.h5``) next to the checkpoints at every save trigger.

    Attributes:
        monitoring: The `Monitor` of ``monitor``: its ``mode`` is ``"min"``
            or ``"max"`` (``"auto"`` resolved), also read as ``mode``.
        best: The best monitored value so far, or None; kept between fits.
        best_model_path: The best file this instance wrote (by ``monitor``;
            the latest one when no value was seen), or None.
        best_score: The monitored value of ``best_model_path``, or None.

    Raises:
        ConfigError: A bad argument (checked against the type hints of
            ``__init__``, then the rules between arguments and for the
            filepath template, whose names must fit the file system), or
            (at ``on_train_begin``) an extension the host does not write,
            or a placeholder naming a key that will never be in the logs.

    Example:
        >>> checkpointer = ModelCheckpoint("/tmp/weights.hdf5", verbose=1, save_best_only=True)
        >>> model.fit(x, y, validation_data=(x_val, y_val), callbacks=[checkpointer])
    """

    writes = True  # under MPI: rank 0 only (hookfit.distributed)

    def __init__(
        self,
        filepath: Annotated[
            str | os.PathLike[str],
            Check(has_extension, "a path ending in a file extension such as .h5 or .keras"),
        ],
        monitor: LogKey = "val_loss",
        verbose: Literal[0, 1] = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: Mode = "auto",
        period: Annotated[int, Range(ge=1)] = 1,
        save_freq: Literal["epoch"] | Annotated[int, Range(ge=1)] = "epoch",
        initial_value_threshold: Annotated[float, Range()] | None = None,
        save_top_k: Annotated[int, Range(ge=1)] | None = None,
        save_last: bool = False,
    ) -> None:
        super().__init__()
        self.monitoring = Monitor.of_checked("ModelCheckpoint", monitor, mode)
        if save_freq != "epoch" and period != 1:
            raise ConfigError(
                f"ModelCheckpoint: period must be 1 when save_freq counts batches, got {period!r}."
            )
        self.filepath = check_filepath(filepath, save_top_k, save_last)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.period = period
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        self.save_top_k = save_top_k
        self.save_last = save_last
        self.monitoring.best = initial_value_threshold
        self.epochs_since_last_save = 0
        self._batches_seen = 0
        self._epoch = 0
        self._last_epoch = 0  # the 1-based epoch of the latest save
        self._ledger = Ledger(self.monitoring, save_top_k)
        # Behind a slow disk, a new checkpoint replaces the oldest pending
        # one instead of queuing model copies (capacity: on_train_begin).
        self._jobs = Lane("ModelCheckpoint", capacity=2)
        self._last_name = last_name(self.filepath)

    best = Best()

    @property
    def mode(self) -> str:
        """``"min"`` or ``"max"``: the direction of ``monitor`` (``"auto"``
        resolved), as `monitoring` keeps it."""
        return self.monitoring.mode

    def needs_hook(self, hook: str) -> bool:
        """The batch hook only when saving every ``save_freq`` batches, so
        that epoch checkpoints cost nothing per batch."""
        return hook != "on_batch_end" or self.save_freq != "epoch"

    @property
    def best_model_path(self) -> str | None:
        """The best file this instance wrote and has not deleted, or None."""
        return self._ledger.best()[0]

    @property
    def best_score(self) -> float | None:
        """The monitored value of `best_model_path`, or None."""
        return self._ledger.best()[1]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.monitoring.reset(self.monitoring.best)  # warn again, but keep `best` (as Keras)
        if self.model is not None:  # the host's formats: refused before the first batch
            check_format(self.filepath, self.model, weights_only=self.save_weights_only)
        if "metrics" in self.params:
            check_placeholders(self.filepath, self.params["metrics"], self.save_freq != "epoch")
        remove_stale_temp_files(self.filepath)
        # Pending copies of the model stay within PENDING_BYTES (2 at least):
        # a small model queues freely, a large one never fills the memory.
        if self.model is not None:
            size = sum(w.nbytes for w in self.model.get_weights())
            size *= 1 if self.save_weights_only else 3  # optimizer slots too
            self._jobs.capacity = max(2, min(64, PENDING_BYTES // max(size, 1)))
        # the folder before any {placeholder}: a bad one fails now, not after an epoch
        check_writable(
            os.path.dirname(os.fspath(self.filepath).split("{")[0]),
            owner="ModelCheckpoint",
            key="filepath",
        )

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.save_freq != "epoch":
            return
        self.epochs_since_last_save += 1
        if self.epochs_since_last_save >= self.period:
            self.epochs_since_last_save = 0
            self._save(epoch, None, logs or {})

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen >= self.save_freq:
            self._batches_seen = 0
            self._save(self._epoch, batch, logs or {})

    def _save(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> None:
        path = format_filepath(self.filepath, epoch, batch, logs)
        self._last_epoch = epoch + 1
        ranked = self.save_best_only or self.save_top_k is not None
        # A plain save only records the value: no reason to warn when it is missing.
        current = self.monitoring.get(logs, "Model checkpointing") if ranked else _float(logs, self)
        improved = current is not None and self.monitoring.improves(current)
        best = self.best
        if best is None:  # Keras starts from -inf or +inf
            best = -math.inf if self.mode == "max" else math.inf
        # Keras 2's text: "Epoch 00001: ..." (the 1-based epoch, five digits)
        prefix = f"\nEpoch {epoch + 1:05d}:"
        saving, head = f"{prefix} saving model to {path}", f"{prefix} {self.monitor}"
        write = not ranked or current is not None
        if current is None or not ranked:
            message = saving if write else ""
        elif self.save_best_only and not improved:
            message, write = f"{head} did not improve from {best:.5f}", False
        elif self.save_top_k is not None and not self._ledger.admits(current):
            message, write = f"{head} {current:.5f} is not among the best {self.save_top_k}", False
        elif improved:
            message = f"{head} improved from {best:.5f} to {current:.5f}, saving model to {path}"
        else:
            message = saving
        if message and self.verbose:
            print(message, flush=True)
        if improved:
            self.best = current
        if write:
            self._write(path)
            for old in self._ledger.add(path, current):
                # queued after the new file's write, so the best is never
                # missing; never dropped, and only a name of its template
                self._jobs.options(keep=True).submit(self._delete, old)
        if self.save_last:
            self._write(str(Path(path).with_name(self._last_name)))

    def _write(self, path: str) -> None:
        # The host copies the state now and writes the file on the lane's
        # thread (or at once), so training does not wait for the disk. Room
        # is made first, so the copy is taken only when the lane can take it.
        self._jobs.make_room()
        jobs = self._jobs.options(on_drop=lambda: self._ledger.forget(path))
        if self.save_weights_only:
            self.model.save_weights(path, jobs=jobs)
        else:
            self.model.save(path, jobs=jobs)

    def _delete(self, path: str) -> None:
        if written_by(self.filepath, path):
            Path(path).unlink(missing_ok=True)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._jobs.wait()

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs (JSON-able): best values, files and counters."""
        return {
            "best": self.best,
            "best_model_path": self.best_model_path,
            "best_score": self.best_score,
            "files": self._ledger.state(),
            "epochs_since_last_save": self.epochs_since_last_save,
            "batches_seen": self._batches_seen,
            "last_epoch": self._last_epoch,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what `state_dict` returned. Only the files this run could
        have written are taken back (`own_files`): no later epoch than its
        last save and than the epoch BackupAndRestore resumes from."""
        self.best = None if state["best"] is None else float(state["best"])
        self._last_epoch = int(state.get("last_epoch", 0))  # absent in older backups
        epochs = self._last_epoch if "last_epoch" in state else None
        resumed = getattr(self.model, "initial_epoch", 0)
        if resumed:  # a batch save may come from the epoch it resumes
            resumed += self.save_freq != "epoch"
            epochs = resumed if epochs is None else min(epochs, resumed)
        files = own_files(
            self.filepath,
            state["files"],
            epochs=epochs,
            monitor=self.monitor,
            best=self.best,
            ledger=self._ledger,
        )
        self._ledger.load(files)
        self.epochs_since_last_save = int(state["epochs_since_last_save"])
        self._batches_seen = int(state["batches_seen"])


def _float(logs: dict[str, Any], checkpoint: ModelCheckpoint) -> float | None:
    try:
        return float(logs[checkpoint.monitor])
    except (KeyError, TypeError, ValueError):
        return None
