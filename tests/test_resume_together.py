"""A run killed with SIGKILL (or stopped by an error) and resumed with
BackupAndRestore ends exactly like an uninterrupted one, with every plugin's
state and files intact."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hookfit import Callback, HookfitWarning
from hookfit.callbacks import BackupAndRestore, EarlyStopping

SCRIPT = """
import os, signal, sys
import numpy as np
import hookfit
from hookfit.datasets import digits
from hookfit.layers import Dense, Dropout
from hookfit.models import Sequential
from hookfit.utils import set_random_seed
from hookfit.callbacks import (BackupAndRestore, CSVLogger, EarlyStopping, ModelCheckpoint,
                               ReduceLROnPlateau)

out, kill_at = sys.argv[1], int(sys.argv[2])

class Killer:
    @hookfit.hookimpl(trylast=True)
    def on_epoch_end(self, epoch):
        if epoch == kill_at:
            # each plugin writes on its own lane: once they have all landed
            # (the backup after the checkpoints it names), the kill
            hookfit.background.drain()
            os.kill(os.getpid(), signal.SIGKILL)

(x, y), _ = digits.load_data()
x = x.reshape(len(x), 64)[:600] / 16.0
set_random_seed(11)
model = Sequential([Dense(32, activation="relu", input_dim=64), Dropout(0.2),
                    Dense(10, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
plugins = [
    ReduceLROnPlateau(monitor="val_loss", patience=1, factor=0.5, min_delta=0.02),
    EarlyStopping(monitor="val_acc", patience=4),
    ModelCheckpoint(out + "/ckpt/w.{epoch:02d}.h5", monitor="val_loss", save_top_k=2),
    CSVLogger(out + "/log.csv", append=True),
    BackupAndRestore(out + "/backup"),
    Killer(),
]
model.fit(x, y[:600], epochs=12, batch_size=32, validation_split=0.2, verbose=0,
          callbacks=plugins)
np.save(out + "/weights.npy", np.concatenate([w.ravel() for w in model.get_weights()]))
print(plugins[2].best_model_path, plugins[0].wait, plugins[1].wait, model.optimizer.lr)
"""


def run(script, out, kill_at):
    return subprocess.run(
        [sys.executable, str(script), str(out), str(kill_at)],
        capture_output=True,
        text=True,
        check=False,
    )


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("kill_at", [2, 5], ids=["epoch-2", "epoch-5"])
def test_killed_and_resumed_equals_uninterrupted(kill_at, tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    reference = run(script, whole, -1)
    assert reference.returncode == 0, reference.stderr
    killed = run(script, resumed, kill_at)
    assert killed.returncode == -9  # SIGKILL
    assert (resumed / "backup" / "backup.h5").exists()
    again = run(script, resumed, -1)
    assert again.returncode == 0, again.stderr
    np.testing.assert_array_equal(np.load(resumed / "weights.npy"), np.load(whole / "weights.npy"))
    # the same best checkpoint, plugin counters and learning rate
    assert again.stdout.replace(str(resumed), "") == reference.stdout.replace(str(whole), "")
    assert sorted(p.name for p in (resumed / "ckpt").iterdir()) == sorted(
        p.name for p in (whole / "ckpt").iterdir()
    )
    assert rows(resumed / "log.csv") == rows(whole / "log.csv")  # every epoch once
    assert not (resumed / "backup").exists()  # finished: the backup is gone


class Crash(Callback):
    """Raises at the end of one epoch, as a crash would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("crash")


def test_early_stopping_state_survives_a_resume(hookfit_model, hookfit_data, tmp_path):
    x, y = hookfit_data

    def fit(*plugins):
        # val_loss falls, so in max mode the best stays early and wait grows
        # every epoch: a state lost on resume would restart both.
        watcher = EarlyStopping(monitor="val_loss", mode="max", patience=100)
        model = hookfit_model()
        model.fit(
            x,
            y,
            epochs=6,
            verbose=0,
            validation_split=0.25,
            callbacks=[*plugins, watcher],
        )
        return model, watcher.state_dict()

    reference, want = fit()
    with pytest.raises(RuntimeError, match="crash"):
        fit(BackupAndRestore(tmp_path / "backup"), Crash(3))
    resumed, got = fit(BackupAndRestore(tmp_path / "backup"))
    assert got == want
    assert got["best_epoch"] < 3 < got["wait"]
    for a, b in zip(resumed.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_tampered_backup_deletes_no_file_but_the_checkpoints_of_its_run(tmp_path):
    h5py = pytest.importorskip("h5py")
    from hookfit.callbacks import ModelCheckpoint
    from hookfit.layers import Dense
    from hookfit.models import Sequential

    rng = np.random.default_rng(0)
    x = rng.random((200, 8), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 200)]
    model = Sequential([Dense(16, activation="relu", input_dim=8), Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    ck, backup = tmp_path / "ck", tmp_path / "bk"

    def fit(epochs):
        checkpoint = ModelCheckpoint(str(ck / "w.{epoch:02d}.h5"), monitor="loss", save_top_k=1)
        plugins = [checkpoint, BackupAndRestore(backup, delete_checkpoint=False)]
        model.fit(x, y, epochs=epochs, verbose=0, callbacks=plugins, config={})
        return checkpoint

    fit(3)
    victims = [tmp_path / "victim.txt", ck / "w.IMPORTANT.h5", ck / "w.final.h5", ck / "w..h5"]
    victims += [ck / "w.3.h5", ck / "w.09.h5"]
    for victim in victims:
        victim.write_text("precious")
    with h5py.File(backup / "backup.h5", "r+") as f:
        meta = json.loads(f["hookfit"].attrs["metadata"])
        saved = meta["plugins"]["model_checkpoint"]
        saved["files"] = [[str(v), -1e9] for v in victims] + saved["files"]
        f["hookfit"].attrs["metadata"] = json.dumps(meta)
    with pytest.warns(HookfitWarning, match=r"left alone \(never deleted\) and forgotten"):
        checkpoint = fit(6)
    assert all(victim.read_text() == "precious" for victim in victims)
    kept = sorted(p.name for p in ck.iterdir() if p not in victims)
    assert kept == [os.path.basename(checkpoint.best_model_path)]
