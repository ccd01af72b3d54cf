"""The Keras 3 example script, run as a user runs it, and ModelCheckpoint's
files in Keras's own formats (torch backend, no TensorFlow)."""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from hookfit_keras import Plugins
from hookfit_keras.testing import make_model

from hookfit.callbacks import ModelCheckpoint
from hookfit.testing import Inject

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "keras3_script.py"


def example():
    """The example script as a module (its ``main`` runs only as a script)."""
    spec = importlib.util.spec_from_file_location("keras3_script", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scalars(folder, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


def test_the_keras3_example_writes_events_a_best_checkpoint_and_a_csv_row_per_epoch(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    env = {k: v for k, v in env.items() if not k.startswith("HOOKFIT_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "6"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("torch: 6 epochs, best val_loss ")
    run = tmp_path / "keras3_run"
    with open(run / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == list(range(6))
    # TensorBoard's reader gives the CSV's losses, epoch by epoch
    for folder, key in (("train", "loss"), ("validation", "val_loss")):
        want = [(i, pytest.approx(float(r[key]), rel=1e-6)) for i, r in enumerate(rows)]
        assert scalars(run / "logs" / folder, "epoch_loss") == want
    # best.keras is Keras's own file, with the weights of the lowest val_loss
    model = keras.saving.load_model(run / "best.keras")
    loss, _ = model.evaluate(*example().data(128, 1), batch_size=32, verbose=0)
    assert loss == pytest.approx(min(float(r["val_loss"]) for r in rows), rel=1e-5)


@pytest.mark.parametrize("name", ["best.keras", "best.h5"], ids=["keras", "h5"])
def test_model_checkpoint_files_load_with_keras_and_hold_the_best_epoch(tmp_path, name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 8)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[(x[:, 0] > 0).astype(int)]
    model = make_model(optimizer=keras.optimizers.SGD(learning_rate=0.05)).keras_model
    inject = Inject("val_loss", [1.0, 0.2, 0.7, 0.9])  # the best epoch is the second
    checkpoint = ModelCheckpoint(tmp_path / name, save_best_only=True, save_last=True)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[Plugins([inject, checkpoint])])
    best, last = (keras.saving.load_model(tmp_path / n) for n in (name, f"last{Path(name).suffix}"))
    for got, want in zip(best.get_weights(), inject.weights[1], strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(last.get_weights(), inject.weights[3], strict=True):
        np.testing.assert_array_equal(got, want)
    assert checkpoint.best_model_path == str(tmp_path / name) and checkpoint.best == 0.2


def test_model_checkpoint_weights_files_are_keras_3_s_weights_h5(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 8)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[(x[:, 0] > 0).astype(int)]
    model = make_model().keras_model
    inject = Inject("val_loss", [0.5, 0.7])
    checkpoint = ModelCheckpoint(
        tmp_path / "w.weights.h5", save_best_only=True, save_weights_only=True
    )
    model.fit(x, y, epochs=2, verbose=0, callbacks=[Plugins([inject, checkpoint])])
    fresh = make_model(seed=1).keras_model
    fresh.load_weights(tmp_path / "w.weights.h5")
    for got, want in zip(fresh.get_weights(), inject.weights[0], strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("name", "kwargs", "fix"),
    [
        (
            "w.weights.h5",
            {},
            "set save_weights_only=True, or rename the file, e.g. to '{d}/w.keras'",
        ),
        (
            "w.keras",
            {"save_weights_only": True},
            "set save_weights_only=False, or rename the file, e.g. to '{d}/w.weights.h5'",
        ),
    ],
    ids=["weights-name-for-a-model", "model-name-for-weights"],
)
def test_a_name_keras_would_not_read_back_is_refused_before_the_first_batch(
    tmp_path, name, kwargs, fix
):
    from hookfit import ConfigError

    batches = []
    seen = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda b, logs: batches.append(b))
    checkpoint = ModelCheckpoint(tmp_path / name, monitor="loss", **kwargs)
    with pytest.raises(ConfigError, match=re.escape(f"To fix it, {fix.format(d=tmp_path)}.")):
        make_model().keras_model.fit(
            np.zeros((8, 8), np.float32),
            np.eye(3, dtype=np.float32)[[0] * 8],
            epochs=1,
            verbose=0,
            callbacks=[Plugins([checkpoint]), seen],
        )
    assert batches == [] and list(tmp_path.iterdir()) == []
