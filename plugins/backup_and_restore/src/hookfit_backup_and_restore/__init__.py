"""Keras's BackupAndRestore callback: resume an interrupted fit after its last finished epoch."""

from __future__ import annotations

import errno
import json
import os
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

import hookfit
from hookfit import (
    Callback,
    Check,
    ConfigError,
    FormatError,
    HookfitError,
    HookfitWarning,
    PluginValidationError,
    Range,
)
from hookfit.background import Lane, mark
from hookfit.hooks.arguments import ArgumentError
from hookfit.saving import remove_stale_temp_files
from hookfit.saving.atomic import check_writable

FILENAME = "backup.h5"


def _not_empty(path: str | os.PathLike[str]) -> bool:
    """True for a path that is not empty (the ``backup_dir`` hint's check)."""
    return os.fspath(path) != ""


class BackupAndRestore(Callback):
    """Back up the training state to a folder, and resume from it after an
    interruption.

    At the end of every epoch (or every ``save_freq`` batches) it writes one
    file, ``backup_dir/backup.h5``, with the model's own ``save``: atomically
    and, on hookfit's models, in the background while the next epoch runs
    (a run killed in the milliseconds before the file lands resumes one
    epoch earlier, still exactly). The file holds the weights, the optimizer
    state and learning rate, the random generators (shuffling, dropout) and,
    as metadata, the next epoch to run and the ``state_dict()`` of every
    resumable plugin of the run (see `hookfit.resumable`). A `fit` started
    again with the same ``backup_dir`` (and a model built and compiled the
    same way) loads it all with ``model.restore`` in ``on_train_begin`` and
    continues after the last finished epoch, bit-exactly with
    ``save_freq="epoch"``. When training finishes without error the backup
    is deleted.

    Args:
        backup_dir: Folder for the backup, used by this run only.
        save_freq: ``"epoch"``, or an integer N to back up every N batches
            (a resumed run then repeats the unfinished epoch from its start,
            as in Keras).
        delete_checkpoint: Delete the backup when training finishes.

    Attributes:
        path: The backup file, ``backup_dir/backup.h5``.

    Raises:
        ConfigError: A bad argument (checked against the type hints of
            ``__init__``), or a ``backup_dir`` that is a file.
        FormatError: At ``on_train_begin``, a backup that cannot be read or
            belongs to another model.

    Example:
        >>> backup = BackupAndRestore(backup_dir="/tmp/backup")
        >>> model.fit(x, y, epochs=10, callbacks=[backup])  # killed, run again
    """

    writes = True  # under MPI: rank 0 only (hookfit.distributed)

    def __init__(
        self,
        backup_dir: Annotated[str | os.PathLike[str], Check(_not_empty, "a folder path")],
        save_freq: Literal["epoch"] | Annotated[int, Range(ge=1)] = "epoch",
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if Path(backup_dir).is_file():
            raise ConfigError(
                f"BackupAndRestore: backup_dir {os.fspath(backup_dir)!r} is a file; "
                "give a folder (it is created if missing)."
            )
        self.backup_dir = backup_dir
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.path = Path(backup_dir) / FILENAME
        self._epoch = self._batches = 0
        # One backup pending at most: a newer one replaces it, so a slow
        # disk holds two copies of the state, never a queue of them.
        self._jobs = Lane("BackupAndRestore", capacity=1)

    def needs_hook(self, hook: str) -> bool:
        """The batch hook only when backing up every ``save_freq`` batches,
        so that the default mode costs nothing per batch."""
        return hook != "on_batch_end" or self.save_freq != "epoch"

    def _plugins(self) -> dict[str, Any]:
        """The run's other resumable plugins, by name."""
        return {k: v for k, v in hookfit.resumable(self.model.plugins).items() if v is not self}

    @hookfit.hookimpl(trylast=True)  # after the other plugins have reset their state
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._jobs.wait()
        self._epoch = self._batches = 0
        # keep=False: the folder is made at the first backup, and a run that
        # never gets there must not leave it
        check_writable(self.backup_dir, owner="BackupAndRestore", key="backup_dir", keep=False)
        remove_stale_temp_files(self.path.parent, name=FILENAME)  # a killed run's, its own only
        if self.path.is_dir():
            raise ArgumentError(
                "BackupAndRestore",
                "backup_dir",
                f"{str(self.path)!r}, where the backup file goes, is a folder; remove or rename "
                "it, or give another backup_dir",
            )
        if not self.path.is_file():
            return
        fix = f"Delete the folder {os.fspath(self.backup_dir)!r} to start over."
        try:
            meta = self.model.restore(self.path)
        except FormatError as exc:
            raise FormatError(f"BackupAndRestore: cannot resume: {exc} {fix}") from None
        except HookfitError:
            raise  # about the model or the setup (not built, no h5py), not the file
        except Exception as exc:
            # Another host may raise its own read errors (the protocol names
            # none); the user needs the same path and way out.
            raise FormatError(
                f"BackupAndRestore: cannot resume: {self.path}: {type(exc).__name__}: {exc} {fix}"
            ) from exc
        if not (isinstance(meta.get("epoch"), int) and isinstance(meta.get("plugins"), dict)):
            raise FormatError(
                f"BackupAndRestore: {self.path} holds no BackupAndRestore backup. {fix}"
            )
        self.model.initial_epoch = self._epoch = meta["epoch"]
        # a stop asked already (hookfit train's Ctrl-C) stays asked
        self.model.stop_training = bool(meta.get("stop_training")) or self.model.stop_training
        saved, plugins = meta["plugins"], self._plugins()
        for name in sorted(saved.keys() ^ plugins.keys()):
            why = (
                "is not in this run; its saved state is ignored"
                if name in saved
                else "of this run has no saved state; it starts afresh"
            )
            warnings.warn(
                f"BackupAndRestore: plugin {name!r} {why} ({self.path}).",
                HookfitWarning,
                stacklevel=2,
            )
        for name in sorted(plugins.keys() & saved.keys()):
            try:
                plugins[name].load_state_dict(saved[name])
            except (KeyError, TypeError, ValueError) as exc:
                raise FormatError(
                    f"BackupAndRestore: plugin {name!r} refused its state from {self.path} "
                    f"({type(exc).__name__}: {exc}). {fix}"
                ) from None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch

    @hookfit.hookimpl(trylast=True)  # after the other plugins have seen this epoch
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        # With delete_checkpoint, the last epoch's backup would be deleted at
        # once by on_train_end; a run killed before that resumes from the one
        # before, just as exactly.
        last = epoch + 1 >= self.params.get("epochs", epoch + 2)
        if self.save_freq == "epoch" and not (last and self.delete_checkpoint):
            self._save(epoch + 1, None)

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches >= int(self.save_freq):
            self._batches = 0
            # The unfinished epoch is run again from its start (Keras 3 does the same).
            self._save(self._epoch, batch)

    def _save(self, next_epoch: int, batch: int | None) -> None:
        states = {}
        for name, plugin in self._plugins().items():
            states[name] = state = plugin.state_dict()
            try:
                json.dumps(state)
            except (TypeError, ValueError) as exc:
                raise PluginValidationError(
                    f"BackupAndRestore: plugin {name!r}'s state_dict() must return JSON-able "
                    f"data; {exc}."
                ) from None
        meta = {
            "epoch": next_epoch,
            "batch": batch,
            "stop_training": bool(self.model.stop_training),
            "plugins": states,
        }
        # The host copies the state now and may write the file on the lane's
        # thread while the next epoch runs. A backup still pending is
        # replaced before the copy is made (a newer one makes it useless), so
        # training never waits for the disk; on_train_end waits. The file is
        # written after the other plugins' writes handed over before it
        # (mark): a backup never names a checkpoint not on disk yet.
        self._jobs.make_room(key=FILENAME)
        jobs = self._jobs.options(key=FILENAME, after=mark())
        self.model.save(self.path, metadata=meta, jobs=jobs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._jobs.wait()
        if self.model.interrupted or not self.delete_checkpoint:
            return
        # Only what this plugin writes: backup.h5 and the temporary files of
        # its killed saves, whatever else the folder holds.
        folder = self.path.parent
        self.path.unlink(missing_ok=True)
        remove_stale_temp_files(folder, name=FILENAME)
        if folder.is_symlink():
            why = (
                f"a symbolic link to {os.readlink(folder)!r}: the link and the folder it leads "
                "to are kept"
            )
        else:
            try:
                folder.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError as exc:
                full = exc.errno in (errno.ENOTEMPTY, errno.EEXIST)
                why = "kept: it holds other files" if full else f"kept: {exc.strerror}"
        warnings.warn(
            f"BackupAndRestore: deleted {self.path}; the folder {str(folder)!r} is {why}.",
            HookfitWarning,
            stacklevel=2,
        )
