"""ModelCheckpoint, installed alone with the core (or with every plugin)."""

import json
import math
import os
import re
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from hookfit import Callback, ConfigError, FormatError, HookfitWarning
from hookfit.hooks.callback import overridden_hooks
from hookfit.hooks.host import FileFormats
from hookfit.layers import Dense
from hookfit.models import Sequential, load_model
from hookfit.testing import Recorder, fit_with_values
from hookfit.testing.host import MinimalHost
from hookfit_model_checkpoint import ModelCheckpoint


def fit(model, data, plugins, key="val_loss", values=(), epochs=None, **kwargs):
    """`fit_with_values` with validation, so ``val_`` keys may be named in a filepath."""
    kwargs.setdefault("validation_split", 0.25)
    return fit_with_values(model, data, plugins, key, values, epochs, **kwargs)


def weights_in(hookfit_model, path):
    """The weights in a checkpoint, loaded into a fresh host of the kind under test."""
    model = hookfit_model(seed=1)  # other initial weights: loading must replace them
    model.load_weights(path)
    return model.get_weights()


def sequential():
    """hookfit's own model, for the tests about its HDF5 files."""
    model = Sequential([Dense(16, activation="relu", input_dim=8), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


def names(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- the Keras 2 documentation's example ---------------------------------------------


def test_the_keras_2_example_runs_with_only_the_imports_changed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no hookfit.toml from the machine
    rng = np.random.default_rng(0)
    x_train = rng.random((256, 784), dtype=np.float32)
    y_train = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 256)]
    X_test = rng.random((64, 784), dtype=np.float32)
    Y_test = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]

    # The Keras 2 documentation's "Example: model checkpoints", with `keras` ->
    # `hookfit` and the file in tmp_path instead of /tmp/weights.hdf5.
    from hookfit.callbacks import ModelCheckpoint
    from hookfit.layers import Activation, Dense
    from hookfit.models import Sequential

    model = Sequential()
    model.add(Dense(10, input_dim=784, kernel_initializer="uniform"))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop")

    """
    saves the model weights after each epoch if the validation loss decreased
    """
    checkpointer = ModelCheckpoint(
        filepath=str(tmp_path / "weights.hdf5"), verbose=1, save_best_only=True
    )
    model.fit(
        x_train,
        y_train,
        batch_size=128,
        epochs=20,
        verbose=0,
        validation_data=(X_test, Y_test),
        callbacks=[checkpointer],
    )

    out = capsys.readouterr().out
    assert out.startswith("\nEpoch 00001: val_loss improved from inf to ")
    assert out.count(f"saving model to {tmp_path / 'weights.hdf5'}") >= 1
    saved = load_model(tmp_path / "weights.hdf5")
    assert saved.evaluate(X_test, Y_test, batch_size=128, verbose=0) == pytest.approx(
        checkpointer.best, rel=1e-6
    )
    assert checkpointer.best_model_path == str(tmp_path / "weights.hdf5")


# -- filepath placeholders ----------------------------------------------------------


@pytest.mark.parametrize(
    ("filepath", "kwargs", "message"),
    [
        (
            "w.{epoch:02d}-{val_los:.2f}.h5",
            {},
            "names {val_los}, which will never be in the epoch logs. Keys that exist: loss, acc, "
            "val_loss, val_acc, epoch.",
        ),
        (
            "w.{epoch}-{batch}.h5",
            {},
            "names {batch}, which will never be in the epoch logs. Keys that exist: loss, acc, "
            "val_loss, val_acc, epoch.",
        ),
        (
            "w.{batch}-{val_loss:.2f}-{lr}.h5",
            {"save_freq": 2},
            "names {lr}, {val_loss}, which will never be in the batch logs. Keys that exist: "
            "loss, acc, epoch, batch, size.",
        ),
    ],
    ids=["misspelt-key", "batch-with-epoch-saves", "val-key-with-batch-saves"],
)
@pytest.mark.hookfit_not_on(
    "lightning",
    reason="Lightning names no metrics before the first epoch (params has no 'metrics': "
    "callback_metrics fill as the module logs), so no placeholder can be checked before it",
)
def test_a_placeholder_for_a_key_never_logged_is_refused_before_any_epoch(
    hookfit_model, hookfit_data, tmp_path, filepath, kwargs, message
):
    recorder = Recorder()
    checkpoint = ModelCheckpoint(str(tmp_path / filepath), **kwargs)
    x, y = hookfit_data
    with pytest.raises(ConfigError, match=re.escape(message)):
        hookfit_model().fit(
            x,
            y,
            epochs=2,
            verbose=0,
            validation_split=0.25,
            callbacks=[recorder, checkpoint],
        )
    assert recorder.count("on_epoch_begin") == 0
    assert names(tmp_path) == []


@pytest.mark.parametrize(
    ("filepath", "logs", "message"),
    [
        ("w.{loss:.2f}.h5", {"val_loss": 0.5}, "KeyError: 'loss'."),
        ("w.{epoch:.2s}.h5", {"val_loss": 0.5}, "ValueError: Unknown format code 's'"),
    ],
    ids=["key-missing-at-epoch-end", "bad-format-spec"],
)
def test_a_filepath_that_cannot_be_formatted_says_why(
    hookfit_model, tmp_path, filepath, logs, message
):
    checkpoint = ModelCheckpoint(str(tmp_path / filepath))
    checkpoint.set_model(hookfit_model())
    checkpoint.on_train_begin({})
    expected = r"cannot format filepath .* at epoch 1 with the keys val_loss, epoch: "
    with pytest.raises(ConfigError, match=expected + re.escape(message)):
        checkpoint.on_epoch_end(0, dict(logs))


def test_filepath_gets_the_1_based_epoch_and_every_log_key(hookfit_model, hookfit_data, tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "a" / "b" / "w.{epoch:02d}-{val_loss:.2f}.h5"))
    inject = fit(hookfit_model(), hookfit_data, [checkpoint], values=[0.5, 0.25])
    assert names(tmp_path / "a" / "b") == ["w.01-0.50.h5", "w.02-0.25.h5"]
    assert same(weights_in(hookfit_model, tmp_path / "a" / "b" / "w.01-0.50.h5"), inject.weights[0])
    assert same(weights_in(hookfit_model, tmp_path / "a" / "b" / "w.02-0.25.h5"), inject.weights[1])


# -- which epochs are saved -----------------------------------------------------------


def test_save_best_only_keeps_only_improvements(hookfit_model, hookfit_data, tmp_path):
    values = [0.5, 0.4, 0.45, 0.3, 0.35]
    fixed = ModelCheckpoint(str(tmp_path / "best.h5"), save_best_only=True)
    each = ModelCheckpoint(str(tmp_path / "each" / "w.{epoch}.h5"), save_best_only=True)
    inject = fit(hookfit_model(), hookfit_data, [fixed, each], values=values)
    assert names(tmp_path / "each") == ["w.1.h5", "w.2.h5", "w.4.h5"]
    for epoch in (1, 2, 4):
        assert same(
            weights_in(hookfit_model, tmp_path / "each" / f"w.{epoch}.h5"),
            inject.weights[epoch - 1],
        )
    assert same(weights_in(hookfit_model, tmp_path / "best.h5"), inject.weights[3])
    assert not same(weights_in(hookfit_model, tmp_path / "best.h5"), inject.weights[4])
    assert (fixed.best, fixed.best_score, fixed.best_model_path) == (
        0.3,
        0.3,
        str(tmp_path / "best.h5"),
    )
    assert (each.best_score, each.best_model_path) == (0.3, str(tmp_path / "each" / "w.4.h5"))


@pytest.mark.parametrize(
    ("mode", "saved", "best"),
    [("auto", [1, 2, 4], 0.8), ("max", [1, 2, 4], 0.8), ("min", [1], 0.5)],
    ids=["auto-is-max-for-val_acc", "max", "min"],
)
def test_mode_with_val_acc(hookfit_model, hookfit_data, tmp_path, mode, saved, best):
    checkpoint = ModelCheckpoint(
        str(tmp_path / "w.{epoch}.h5"), monitor="val_acc", mode=mode, save_best_only=True
    )
    fit(hookfit_model(), hookfit_data, [checkpoint], "val_acc", [0.5, 0.7, 0.6, 0.8])
    assert names(tmp_path) == [f"w.{e}.h5" for e in saved]
    assert checkpoint.best == best


@pytest.mark.parametrize(
    ("kwargs", "values", "saved", "best"),
    [
        ({}, [0.5, 0.4, 0.3], [3], 0.3),
        ({"monitor": "val_acc"}, [0.5, 0.95, 0.8], [2], 0.95),
        ({}, [0.5, 0.4], [], 0.35),
    ],
    ids=["min", "max", "nothing-beats-it"],
)
def test_initial_value_threshold_is_the_best_to_beat(
    hookfit_model, hookfit_data, tmp_path, kwargs, values, saved, best
):
    threshold = 0.9 if kwargs else 0.35
    checkpoint = ModelCheckpoint(
        str(tmp_path / "w.{epoch}.h5"),
        save_best_only=True,
        initial_value_threshold=threshold,
        **kwargs,
    )
    fit(hookfit_model(), hookfit_data, [checkpoint], kwargs.get("monitor", "val_loss"), values)
    assert names(tmp_path) == [f"w.{e}.h5" for e in saved]
    assert checkpoint.best == best


def test_best_carries_over_to_the_next_fit(hookfit_model, hookfit_data, tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "w.{epoch}.h5"), save_best_only=True)
    model = hookfit_model()
    fit(model, hookfit_data, [checkpoint], values=[0.5, 0.4])
    fit(model, hookfit_data, [checkpoint], values=[0.45, 0.3])  # writes w.2.h5 again
    assert names(tmp_path) == ["w.1.h5", "w.2.h5"] and checkpoint.best == 0.3


def test_period_saves_every_n_epochs_and_counts_across_fits(hookfit_model, hookfit_data, tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "w.{epoch}-{val_loss}.h5"), period=2)
    model = hookfit_model()
    fit(model, hookfit_data, [checkpoint], values=[1, 2, 3, 4, 5])
    assert names(tmp_path) == ["w.2-2.h5", "w.4-4.h5"]
    assert checkpoint.epochs_since_last_save == 1
    fit(model, hookfit_data, [checkpoint], values=[6, 7])
    assert names(tmp_path) == ["w.1-6.h5", "w.2-2.h5", "w.4-4.h5"]


class BatchWeights(Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_batch_end(self, batch, logs=None):
        self.weights.append(self.model.get_weights())


def test_save_freq_counts_batches_across_epochs(hookfit_model, hookfit_data, tmp_path, capsys):
    record = BatchWeights()
    checkpoint = ModelCheckpoint(
        str(tmp_path / "b.{epoch}-{batch}-{loss:.3f}.h5"), save_freq=3, verbose=1
    )
    x, y = hookfit_data
    model = hookfit_model()
    plugins = [record, checkpoint]
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=plugins)
    # 4 batches an epoch: the 3rd and the 6th batch (epoch 2, batch 2).
    files = names(tmp_path)
    assert [f[:6] for f in files] == ["b.1-3-", "b.2-2-"]
    assert same(weights_in(hookfit_model, tmp_path / files[0]), record.weights[2])
    assert same(weights_in(hookfit_model, tmp_path / files[1]), record.weights[5])
    assert capsys.readouterr().out == (
        f"\nEpoch 00001: saving model to {tmp_path / files[0]}\n"
        f"\nEpoch 00002: saving model to {tmp_path / files[1]}\n"
    )
    assert checkpoint.state_dict()["batches_seen"] == 2
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[checkpoint])
    assert [f[:6] for f in names(tmp_path)] == ["b.1-1-", "b.1-3-", "b.1-4-", "b.2-2-"]


def test_the_batch_hook_is_registered_only_for_batch_saves(tmp_path):
    assert "on_batch_end" not in overridden_hooks(ModelCheckpoint(str(tmp_path / "w.h5")))
    assert "on_batch_end" in overridden_hooks(ModelCheckpoint(str(tmp_path / "w.h5"), save_freq=5))


# -- save_top_k, save_last, best_model_path ----------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "values", "kept", "best"),
    [
        ({"save_top_k": 2}, [0.5, 0.3, 0.4, 0.2, 0.6, 0.25], [4, 6], 4),
        ({"save_top_k": 1}, [0.5, 0.3, 0.4, 0.2, 0.6, 0.25], [4], 4),
        ({"save_top_k": 3, "mode": "max"}, [0.5, 0.3, 0.4, 0.2, 0.6, 0.25], [1, 3, 5], 5),
        ({"save_top_k": 2}, [0.5, 0.5, 0.5], [1, 2], 1),
        ({"save_top_k": 2, "save_best_only": True}, [0.5, 0.3, 0.4, 0.2, 0.6], [2, 4], 4),
        ({"save_top_k": 2}, [0.5, math.nan, 0.4, 0.6], [1, 3], 3),
    ],
    ids=["k2", "k1", "k3-max", "ties-keep-the-earliest", "with-save-best-only", "nan-is-worst"],
)
def test_save_top_k_keeps_exactly_the_k_best_files(
    hookfit_model, hookfit_data, tmp_path, kwargs, values, kept, best
):
    checkpoint = ModelCheckpoint(str(tmp_path / "w.{epoch:02d}.h5"), **kwargs)
    inject = fit(hookfit_model(), hookfit_data, [checkpoint], values=values)
    assert names(tmp_path) == [f"w.{e:02d}.h5" for e in kept]
    for epoch in kept:
        assert same(
            weights_in(hookfit_model, tmp_path / f"w.{epoch:02d}.h5"), inject.weights[epoch - 1]
        )
    assert checkpoint.best_model_path == str(tmp_path / f"w.{best:02d}.h5")
    assert checkpoint.best_score == values[best - 1]


def test_save_top_k_never_deletes_files_it_did_not_write(hookfit_model, hookfit_data, tmp_path):
    (tmp_path / "w.09.h5").write_bytes(b"someone else's")
    checkpoint = ModelCheckpoint(str(tmp_path / "w.{epoch:02d}.h5"), save_top_k=1)
    fit(hookfit_model(), hookfit_data, [checkpoint], values=[0.5, 0.4, 0.3])
    assert names(tmp_path) == ["w.03.h5", "w.09.h5"]


def test_save_top_k_says_when_a_value_is_not_among_the_best(
    hookfit_model, hookfit_data, tmp_path, capsys
):
    checkpoint = ModelCheckpoint(str(tmp_path / "w.{epoch}.h5"), save_top_k=1, verbose=1)
    fit(hookfit_model(), hookfit_data, [checkpoint], values=[0.5, 0.6, 0.25])
    assert capsys.readouterr().out == (
        "\nEpoch 00001: val_loss improved from inf to 0.50000, saving model to "
        f"{tmp_path / 'w.1.h5'}"
        "\n\nEpoch 00002: val_loss 0.60000 is not among the best 1\n"
        f"\nEpoch 00003: val_loss improved from 0.50000 to 0.25000, saving model to "
        f"{tmp_path / 'w.3.h5'}\n"
    )


@pytest.mark.parametrize("suffix", [".h5", ".hdf5"], ids=["h5", "hdf5"])
def test_save_last_writes_the_latest_model_at_every_trigger(
    hookfit_model, hookfit_data, tmp_path, suffix
):
    checkpoint = ModelCheckpoint(
        str(tmp_path / "run" / f"w.{{epoch}}{suffix}"), save_best_only=True, save_last=True
    )
    inject = fit(hookfit_model(), hookfit_data, [checkpoint], values=[0.5, 0.6, 0.4, 0.7])
    assert names(tmp_path / "run") == [f"last{suffix}", f"w.1{suffix}", f"w.3{suffix}"]
    assert same(weights_in(hookfit_model, tmp_path / "run" / f"last{suffix}"), inject.weights[3])
    assert same(weights_in(hookfit_model, tmp_path / "run" / f"w.3{suffix}"), inject.weights[2])


def test_plain_saves_record_the_value_and_the_latest_file(hookfit_model, hookfit_data, tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "w.h5"))
    fit(hookfit_model(), hookfit_data, [checkpoint], values=[0.5, 0.6])
    assert (checkpoint.best_model_path, checkpoint.best_score, checkpoint.best) == (
        str(tmp_path / "w.h5"),
        0.6,  # the file now holds the epoch-2 model
        0.5,
    )
    blind = ModelCheckpoint(str(tmp_path / "v.{epoch}.h5"), monitor="val_auc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a plain save does not need the monitor
        fit(hookfit_model(), hookfit_data, [blind], values=[0.5, 0.6])
    assert (blind.best_model_path, blind.best_score, blind.best) == (
        str(tmp_path / "v.2.h5"),
        None,
        None,
    )


def test_save_weights_only_writes_a_weights_file(hookfit_model, hookfit_data, tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    inject = fit(hookfit_model(), hookfit_data, [checkpoint], values=[0.5])
    assert same(weights_in(hookfit_model, tmp_path / "w.h5"), inject.weights[0])


def test_save_weights_only_gives_keras_s_weights_layout_on_hookfit_models(hookfit_data, tmp_path):
    model = sequential()
    weights_only = ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    fit(model, hookfit_data, [weights_only, ModelCheckpoint(str(tmp_path / "m.h5"))], values=[0.5])
    with pytest.raises(FormatError, match="no model_config"):
        load_model(tmp_path / "w.h5")  # weights only: no architecture to build
    assert same(load_model(tmp_path / "m.h5").get_weights(), model.get_weights())


@pytest.mark.parametrize(
    "kwargs", [{"save_best_only": True}, {"save_top_k": 2}], ids=["save-best-only", "save-top-k"]
)
def test_a_missing_monitor_warns_once_a_run_and_saves_nothing(
    hookfit_model, hookfit_data, tmp_path, kwargs
):
    checkpoint = ModelCheckpoint(str(tmp_path / "w.{epoch}.h5"), **kwargs)
    with pytest.warns(HookfitWarning) as caught:
        fit(hookfit_model(), hookfit_data, [checkpoint], "other", [1, 2, 3], validation_split=0)
    messages = [str(w.message) for w in caught if issubclass(w.category, HookfitWarning)]
    assert len(messages) == 1
    assert messages[0].startswith(
        "Model checkpointing conditioned on metric `val_loss` which is not available. "
        "Available metrics are: "
    )
    assert "other" in messages[0]
    assert names(tmp_path) == [] and checkpoint.best_model_path is None


def test_verbose_messages(hookfit_model, hookfit_data, tmp_path, capsys):
    best = ModelCheckpoint(str(tmp_path / "b.h5"), save_best_only=True, verbose=1)
    fit(hookfit_model(), hookfit_data, [best], values=[0.5, 0.6, 0.4])
    path = tmp_path / "b.h5"
    assert capsys.readouterr().out == (
        f"\nEpoch 00001: val_loss improved from inf to 0.50000, saving model to {path}\n"
        "\nEpoch 00002: val_loss did not improve from 0.50000\n"
        f"\nEpoch 00003: val_loss improved from 0.50000 to 0.40000, saving model to {path}\n"
    )
    acc = ModelCheckpoint(str(path), monitor="val_acc", save_best_only=True, verbose=1)
    fit(hookfit_model(), hookfit_data, [acc], "val_acc", [0.5])
    assert capsys.readouterr().out == (
        f"\nEpoch 00001: val_acc improved from -inf to 0.50000, saving model to {path}\n"
    )
    plain = ModelCheckpoint(str(tmp_path / "p.h5"), verbose=1)
    fit(hookfit_model(), hookfit_data, [plain], values=[0.5])
    assert capsys.readouterr().out == f"\nEpoch 00001: saving model to {tmp_path / 'p.h5'}\n"
    quiet = ModelCheckpoint(str(tmp_path / "q.h5"))
    fit(hookfit_model(), hookfit_data, [quiet], values=[0.5])
    assert capsys.readouterr().out == ""


def test_state_dict_round_trip(hookfit_model, tmp_path):
    filepath = str(tmp_path / "w.{epoch:02d}.h5")
    first = ModelCheckpoint(filepath, save_top_k=3, save_freq=3)
    first.set_model(hookfit_model())
    first.on_train_begin({})
    # Two batches an epoch: saves at the 3rd, 6th and 9th batch (epochs 2, 3, 5).
    for epoch, value in enumerate([0.5, 0.3, math.nan, 0.4, 0.45]):
        first.on_epoch_begin(epoch, {})
        for batch in range(2):
            first.on_batch_end(batch, {"batch": batch, "size": 8, "val_loss": value})
    first.on_train_end({})  # its lane's writes have landed
    state = json.loads(json.dumps(first.state_dict(), allow_nan=False))
    assert state == {
        "best": 0.3,
        "best_model_path": str(tmp_path / "w.02.h5"),
        "best_score": 0.3,
        "files": [
            [str(tmp_path / "w.02.h5"), 0.3],
            [str(tmp_path / "w.03.h5"), None],
            [str(tmp_path / "w.05.h5"), 0.45],
        ],
        "epochs_since_last_save": 0,
        "batches_seen": 1,
        "last_epoch": 5,
    }
    second = ModelCheckpoint(filepath, save_top_k=3, save_freq=3)
    second.set_model(hookfit_model())
    second.load_state_dict(state)
    assert second.state_dict() == state
    second.on_train_begin({})
    second.on_epoch_begin(5, {})
    for batch in range(2):  # the 2nd is the 3rd batch since the last save
        second.on_batch_end(batch, {"batch": batch, "size": 8, "val_loss": 0.2})
    second.on_train_end({})  # files are written in the background until then
    assert names(tmp_path) == ["w.02.h5", "w.05.h5", "w.06.h5"]
    assert (second.best, second.best_model_path) == (0.2, str(tmp_path / "w.06.h5"))


def test_a_config_file_section_builds_it(hookfit_model, hookfit_data, tmp_path):
    x, y = hookfit_data
    settings = {"filepath": str(tmp_path / "w.{epoch}.h5"), "save_freq": "epoch", "period": 2}
    config = {"callbacks": {"model_checkpoint": settings}}
    hookfit_model().fit(x, y, epochs=2, verbose=0, config=config)
    assert names(tmp_path) == ["w.2.h5"]


# -- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"filepath": "run/model"},
            "filepath: expected a path ending in a file extension such as .h5 or .keras, got "
            '"run/model".',
        ),
        ({"filepath": 123}, "filepath: expected a path ending in a file extension .*, got 123."),
        ({"filepath": b"w.h5"}, "filepath: expected a path ending in a .*, got b'w.h5'."),
        (
            {"filepath": "w.{epoch.h5"},
            "filepath must be a valid format string (expected '}' before end of string), got "
            "'w.{epoch.h5'.",
        ),
        (
            {"filepath": "w.{}.h5"},
            "filepath must be a format string with named placeholders only, such as "
            "{epoch:02d}, got 'w.{}.h5'.",
        ),
        (
            {"filepath": "w.h5", "save_top_k": 2},
            "filepath must be a name with a placeholder such as {epoch} when save_top_k is set "
            "(each save must get its own file), got 'w.h5'.",
        ),
        (
            {"filepath": "run/last.hdf5", "save_last": True},
            "filepath must be another name than last.hdf5 when save_last writes last.hdf5, got "
            "'run/last.hdf5'.",
        ),
        ({"verbose": 2}, "verbose: expected one of 0, 1, got 2."),
        ({"verbose": True}, "verbose: expected one of 0, 1, got true."),
        ({"period": 0}, "period: expected an integer >= 1, got 0."),
        ({"period": 1.5}, "period: expected an integer >= 1, got 1.5."),
        (
            {"save_freq": "batch"},
            """save_freq: expected one of 'epoch' or an integer >= 1, got "batch".""",
        ),
        ({"save_freq": 0}, "save_freq: expected one of 'epoch' or an integer >= 1, got 0."),
        ({"save_freq": True}, "save_freq: expected one of 'epoch' or an integer >= 1, got true."),
        ({"save_freq": 10, "period": 2}, "period must be 1 when save_freq counts batches, got 2."),
        (
            {"initial_value_threshold": "0.5"},
            'initial_value_threshold: expected a number.*or None .*, got "0.5".',
        ),
        (
            {"initial_value_threshold": math.nan},
            "initial_value_threshold: expected a number.*or None .*, got nan.",
        ),
        (
            {"save_top_k": 0},
            "save_top_k: expected an integer >= 1 or None (in a config file: leave the key out), "
            "got 0.",
        ),
        ({"save_top_k": -1}, "save_top_k: expected an integer >= 1 or None .*, got -1."),
        ({"mode": "maximum"}, """mode: expected one of 'auto', 'min', 'max', got "maximum"."""),
        ({"monitor": ""}, """monitor: expected a log key such as 'val_loss', got ""."""),
    ],
    ids=[
        "no-extension",
        "not-a-path",
        "bytes-path",
        "broken-format-string",
        "positional-placeholder",
        "top-k-without-placeholder",
        "named-like-the-last-file",
        "verbose-2",
        "verbose-bool",
        "period-0",
        "period-float",
        "save-freq-word",
        "save-freq-0",
        "save-freq-bool",
        "period-with-batch-saves",
        "threshold-string",
        "threshold-nan",
        "save-top-k-0",
        "save-top-k-negative",
        "mode",
        "monitor",
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(kwargs, message):
    kwargs = {"filepath": "w.{epoch}.h5", **kwargs}
    pattern = re.escape(f"ModelCheckpoint: {message}").replace(re.escape(".*"), ".*")
    with pytest.raises(ConfigError, match=f"^{pattern}$"):
        ModelCheckpoint(**kwargs)


def test_a_bad_config_value_names_the_file_and_key(hookfit_model, hookfit_data, tmp_path):
    x, y = hookfit_data
    settings = {"filepath": str(tmp_path / "w.{epoch}"), "period": 2}
    config = {"callbacks": {"model_checkpoint": settings}}
    with pytest.raises(ConfigError, match=r"model_checkpoint\.filepath: expected a path ending"):
        hookfit_model().fit(x, y, epochs=1, verbose=0, config=config)
    assert names(tmp_path) == []


def test_filepath_may_be_a_path_object(hookfit_model, hookfit_data, tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "w.{epoch}.h5")
    fit(hookfit_model(), hookfit_data, [checkpoint], values=[0.5])
    assert names(tmp_path) == ["w.1.h5"] and checkpoint.best_model_path == str(tmp_path / "w.1.h5")


# -- temporary files of killed runs ------------------------------------------------------


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_its_own_stale_temporary_files_are_removed_at_train_begin(tmp_path):
    dead, alive = dead_pid(), os.getpid()
    run = tmp_path / "runs" / "7"
    run.mkdir(parents=True)
    files = {
        run / f".w.h5.tmp-{dead}-0a1b2c3d": False,
        run / f".last.h5.tmp-{dead}-ff": False,
        run / f".w.h5.tmp-{alive}-0a1b2c3d": True,  # a save in progress
        run / f".notes.txt.tmp-{dead}-00": True,  # another writer's: not this template's
        run / f".last.hdf5.tmp-{dead}-ff": True,
        run / "w.h5": True,
        tmp_path / "runs" / f".w.h5.tmp-{dead}-0a": True,  # not a checkpoint folder
    }
    for path in files:
        path.write_bytes(b"")
    ModelCheckpoint(str(tmp_path / "runs" / "{epoch}" / "w.h5")).on_train_begin({})
    assert {path: path.exists() for path in files} == files


# -- SIGKILL during checkpoint writes ------------------------------------------------------

CHILD = """
import os, sys
import numpy as np
from hookfit.layers import Dense
from hookfit.models import Sequential, load_model
from hookfit.testing.faults import announce_writes
from hookfit_model_checkpoint import ModelCheckpoint

folder, seed = sys.argv[1], int(sys.argv[2])

# Lines from inside each write, for the parent to kill right after: the
# verbose lines come before a write starts, and a kill that follows one at
# once lands before the temporary file even exists.
announce_writes()
rng = np.random.default_rng(seed)
x = rng.normal(size=(256, 64)).astype(np.float32)
y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 256)]
fixed = os.path.join(folder, "fixed.h5")
if os.path.exists(fixed):  # resume from the file the last run left
    model = load_model(fixed)
else:
    model = Sequential([Dense(256, activation="relu", input_dim=64),
                        Dense(256, activation="relu"), Dense(10, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
checkpoints = [
    ModelCheckpoint(fixed, save_freq=1, verbose=1),
    ModelCheckpoint(os.path.join(folder, "weights-ep{epoch:02d}.h5"), save_freq=1, verbose=1,
                    save_weights_only=True),
    ModelCheckpoint(os.path.join(folder, "top-{epoch:03d}-{batch:02d}-{loss:.4f}.h5"),
                    monitor="loss", save_top_k=2, save_last=True, save_freq=1, verbose=1),
    ModelCheckpoint(os.path.join(folder, "best.hdf5"), monitor="loss", save_best_only=True,
                    save_last=True, save_freq=1, verbose=1),
]
model.fit(x, y, batch_size=32, epochs=100000, verbose=0, callbacks=checkpoints)
"""


def build_like_the_child():
    model = Sequential(
        [
            Dense(256, activation="relu", input_dim=64),
            Dense(256, activation="relu"),
            Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "categorical_crossentropy")
    return model


def check_every_file_loads(folder, verified):
    """Load every checkpoint in ``folder`` (not the ``.tmp-`` leftovers),
    skipping files unchanged since ``verified`` saw them load."""
    for path in sorted(folder.iterdir()):
        stat = path.stat()
        key = (path.name, stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if path.name.startswith(".") or key in verified:
            continue
        if path.name.startswith("weights-"):
            model = build_like_the_child()
            model.load_weights(path)
        else:
            model = load_model(path)
        assert all(np.isfinite(w).all() for w in model.get_weights()), path
        verified.add(key)


def test_sigkill_during_checkpoint_writes_leaves_only_loadable_files(tmp_path):
    rng = np.random.default_rng(2024)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    folder = tmp_path / "checkpoints"
    counts = [int(n) for n in rng.integers(1, 150, size=24)] + [1]  # 25 kills
    stale_before: list = []
    verified: set = set()
    kills_leaving_temp_files = 0
    for run, count in enumerate(counts):
        errors = tmp_path / f"stderr-{run}.txt"
        with open(errors, "w") as err:
            child = subprocess.Popen(
                [sys.executable, "-u", str(script), str(folder), str(run)],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        seen = 0
        for line in child.stdout:
            if "saving model to" in line or line in ("writing\n", "fsync\n"):
                seen += 1
                if seen == 1:  # on_train_begin has run: the leftovers are gone
                    assert [p for p in stale_before if p.exists()] == []
                if seen == count:
                    break
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        assert seen == count, errors.read_text()
        stale_before = sorted(folder.glob(".*.tmp-*"))
        kills_leaving_temp_files += bool(stale_before)
        check_every_file_loads(folder, verified)
    names_left = names(folder)
    assert {"fixed.h5", "best.hdf5", "last.h5", "last.hdf5", "weights-ep01.h5"} <= set(names_left)
    # Kills landed inside writes, not only between them (about half of them do).
    assert kills_leaving_temp_files >= 1


def test_model_checkpoint_a_destination_that_cannot_be_written_stops_before_the_first_batch(
    hookfit_fit, tmp_path
):
    (tmp_path / "somefile.txt").write_text("not a folder")
    recorder = Recorder()
    with pytest.raises(
        ConfigError,
        match=r"ModelCheckpoint: filepath: cannot write files in the folder '.*somefile\.txt': "
        r"'.*somefile\.txt' is a file, not a folder\. Give a path in a folder",
    ):
        hookfit_fit(recorder, ModelCheckpoint(str(tmp_path / "somefile.txt" / "ckpt.h5")))
    assert "on_batch_begin" not in recorder.hooks()


# -- behind a disk that has stopped ---------------------------------------------------------


class Release(Callback):
    """Put first: its on_train_end lets the stuck disk write, before
    ModelCheckpoint's waits for its lane."""

    def __init__(self, host):
        super().__init__()
        self.host = host

    def on_train_end(self, logs=None):
        self.host.release.set()


def test_a_copy_of_the_model_is_taken_only_when_the_lane_can_take_it(
    hookfit_data, tmp_path, monkeypatch
):
    import hookfit_model_checkpoint
    from hookfit.testing.faults import StuckDiskHost

    monkeypatch.setattr(hookfit_model_checkpoint, "PENDING_BYTES", 1)  # a "large" model
    host = StuckDiskHost(8, 3)
    checkpoint = ModelCheckpoint(str(tmp_path / "w.{epoch:02d}.h5"), monitor="loss")
    x, y = hookfit_data
    with pytest.warns(HookfitWarning, match="ModelCheckpoint: its background work is slower"):
        host.fit(x, y, epochs=33, verbose=0, callbacks=[Release(host), checkpoint])
    assert host.saves == 33
    # one being written and two waiting at most; before: 33 copies queued
    assert host.most_copies <= 3
    written = names(tmp_path)
    # the one being written when the disk stopped, and the two newest
    assert len(written) == 3 and written[1:] == ["w.32.h5", "w.33.h5"]
    assert checkpoint.best_model_path in [str(tmp_path / name) for name in written]


def test_top_k_deletes_only_files_its_template_names_whatever_the_state_says(
    hookfit_model, hookfit_data, tmp_path
):
    folder = tmp_path / "ckpt"
    victim, neighbour = tmp_path / "victim.txt", folder / "notes.h5"
    folder.mkdir()
    for path in (victim, neighbour):
        path.write_text("keep me")
    mine = str(folder / "w.01.h5")
    (folder / "w.01.h5").write_bytes(b"")
    tampered = {
        "best": 0.1,
        "best_model_path": str(victim),
        "best_score": 0.1,
        "files": [[str(victim), 1e9], [str(neighbour), 1e9], [mine, 0.5],
                  [str(folder / "w.02.h5/../../victim.txt"), 1e9]],
        "epochs_since_last_save": 0,
        "batches_seen": 0,
    }  # fmt: skip
    checkpoint = ModelCheckpoint(str(folder / "w.{epoch:02d}.h5"), monitor="loss", save_top_k=1)
    with pytest.warns(
        HookfitWarning, match=r"cannot have left .*: .*victim\.txt.*They are left alone"
    ):
        checkpoint.load_state_dict(tampered)
    model = hookfit_model()
    x, y = hookfit_data
    model.fit(x, y, epochs=3, verbose=0, callbacks=[checkpoint])
    assert victim.read_text() == neighbour.read_text() == "keep me"
    assert len(list(folder.glob("w.*.h5"))) == 1  # its own files: the best one kept


def test_a_tampered_state_deletes_no_file_this_run_could_not_have_written(
    hookfit_model, hookfit_data, tmp_path
):
    folder = tmp_path / "ck"
    folder.mkdir()
    first = ModelCheckpoint(str(folder / "w.{epoch:02d}.h5"), monitor="loss", save_top_k=1)
    model = hookfit_model()
    fit(model, hookfit_data, [first], key="loss", values=[0.5, 0.4, 0.3])
    state = first.state_dict()
    assert [Path(p).name for p, _ in state["files"]] == ["w.03.h5"]
    strangers = ["w.IMPORTANT.h5", "w.final.h5", "w..h5", "w.1.h5", "w.+2.h5", "w.07.h5"]
    strangers += ["w.99.h5", "w.02.h5"]
    for name in strangers:
        (folder / name).write_text("precious")
    state["files"] = [[str(folder / name), -1e9] for name in strangers] + [
        [str(folder / "w.01.h5"), math.inf],  # not a value a run logs
        [str(folder / "w.02.h5"), 0.45],  # a name it gives, but more than save_top_k
        ["w.03.h5", "0.1"],  # not a number
        *state["files"],
    ]
    second = ModelCheckpoint(str(folder / "w.{epoch:02d}.h5"), monitor="loss", save_top_k=1)
    with pytest.warns(
        HookfitWarning,
        match=r"does not give for epochs 1 to 3, a value better than its best 0\.3, or more than "
        r"save_top_k=1\): .*'.*w\.IMPORTANT\.h5', .*'.*w\.02\.h5'\. They are left alone",
    ):
        second.load_state_dict(state)
    assert second.state_dict()["files"] == state["files"][-1:]
    fit(model, hookfit_data, [second], key="loss", values=[0.2, 0.1], epochs=5, initial_epoch=3)
    assert names(folder) == sorted([*strangers, "w.05.h5"])
    assert all((folder / name).read_text() == "precious" for name in strangers)


@pytest.mark.parametrize(
    ("template", "name", "trusted"),
    [
        ("w.{epoch:02d}.h5", "w.03.h5", True),
        ("w.{epoch:02d}.h5", "w.3.h5", False),
        ("w.{epoch:02d}.h5", "w.x3.h5", False),
        ("w.{epoch:02d}.h5", "w.04.h5", False),
        ("w.{epoch}-{loss:.2f}.h5", "w.3-0.25.h5", True),
        ("w.{epoch}-{loss:.2f}.h5", "w.3-0.26.h5", False),
        ("w.{epoch}-{acc:.2f}.h5", "w.3-0.77.h5", True),
        ("w.{epoch}-{acc:.2f}.h5", "w.3-high.h5", False),
        ("w.{epoch}-{acc:03d}.h5", "w.3-007.h5", True),
        ("w.{epoch}-{acc:03d}.h5", "w.3-7.h5", False),
        ("w.{epoch}-{acc}.h5", "w.3-anything.h5", True),
    ],
    ids=lambda value: str(value),
)
def test_a_saved_name_is_trusted_only_as_its_placeholders_render(tmp_path, template, name, trusted):
    (tmp_path / name).write_text("")
    checkpoint = ModelCheckpoint(str(tmp_path / template), monitor="loss", save_top_k=2)
    state = {"best": 0.25, "files": [[str(tmp_path / name), 0.25]], "last_epoch": 3}
    state |= {"epochs_since_last_save": 0, "batches_seen": 0}
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        checkpoint.load_state_dict(state)
    assert (checkpoint.best_model_path is not None, len(seen)) == (trusted, 0 if trusted else 1)


def test_the_epoch_a_backup_resumes_from_bounds_the_files_it_trusts(hookfit_model, tmp_path):
    for name in ("w.02.h5", "w.03.h5"):
        (tmp_path / name).write_text("")
    checkpoint = ModelCheckpoint(str(tmp_path / "w.{epoch:02d}.h5"), monitor="loss", save_top_k=3)
    checkpoint.set_model(hookfit_model())
    checkpoint.model.initial_epoch = 2  # as BackupAndRestore sets it before loading states
    files = [[str(tmp_path / "w.02.h5"), 0.5], [str(tmp_path / "w.03.h5"), 0.4]]
    state = {"best": 0.4, "files": files, "epochs_since_last_save": 0, "batches_seen": 0}
    with pytest.warns(
        HookfitWarning, match=r"does not give for epochs 1 to 2, .*\): '[^']*w\.03\.h5'\. They"
    ):
        checkpoint.load_state_dict(state)
    assert checkpoint.state_dict()["files"] == files[:1]


@pytest.mark.parametrize(
    ("filepath", "message"),
    [
        ("w.{epoch:999999999d}.h5", "fields at most 255 characters wide, not {epoch:999999999d}"),
        ("w.{epoch:0300d}.h5", "fields at most 255 characters wide, not {epoch:0300d}"),
        ("w.{loss:.256f}.h5", "fields at most 255 characters wide, not {loss:.256f}"),
        ("w.{epoch:{loss}d}.h5", "plain format specs, such as {epoch:02d}, not {epoch:{loss}d}"),
        (
            "w.{epoch:0240d}.h5",
            "a template whose names fit the file system (the name 'w.0000000000000000000000'... "
            "has 245 bytes, and this file system takes ",
        ),
        ("d/" * 2100 + "w.{epoch}.h5", "a template whose names fit the file system (the path has"),
    ],
    ids=["huge-width", "width-300", "huge-precision", "nested-field", "name-max", "path-max"],
)
def test_a_filepath_whose_names_cannot_exist_is_refused_at_once(filepath, message):
    with pytest.raises(
        ConfigError, match=f"^ModelCheckpoint: filepath must be {re.escape(message)}"
    ):
        ModelCheckpoint(filepath)


@pytest.mark.parametrize(
    ("kwargs", "mode"),
    [({}, "min"), ({"monitor": "val_acc"}, "max"), ({"mode": "max"}, "max")],
    ids=["auto-loss", "auto-acc", "max"],
)
def test_the_mode_is_kept_once_by_the_monitoring(tmp_path, kwargs, mode):
    checkpoint = ModelCheckpoint(str(tmp_path / "w.{epoch}.h5"), save_top_k=1, **kwargs)
    assert checkpoint.mode == checkpoint.monitoring.mode == mode
    # the top-k ranking reads the same mode: better scores rank first
    worse = 2.0 if mode == "min" else 0.5
    assert checkpoint._ledger.rank(1.0) < checkpoint._ledger.rank(worse)
    checkpoint.monitoring.mode = flipped = "max" if mode == "min" else "min"
    assert checkpoint.mode == flipped
    assert checkpoint._ledger.rank(1.0) > checkpoint._ledger.rank(worse)


# -- the file formats a host writes (hookfit.hooks.host.FileFormats) -------------------------


class KerasLikeHost(MinimalHost):
    """A host that declares Keras 3's formats (it writes MinimalHost's files under any name)."""

    model_formats = (".keras", ".h5", ".hdf5")
    weights_formats = (".weights.h5", ".h5", ".hdf5")


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        (
            "w.keras",
            {},
            "ends in .keras, which Sequential does not save a model to; it saves a model to a "
            "file ending in .h5 or .hdf5. To fix it, rename the file, e.g. to '{tmp}/w.h5'.",
        ),
        (
            "w.{epoch}.keras",
            {"save_weights_only": True},
            "ends in .keras, which Sequential does not save weights to; it saves weights to a "
            "file ending in .h5 or .hdf5. To fix it, rename the file, e.g. to "
            "'{tmp}/w.{{epoch}}.h5'.",
        ),
        (
            "w.pt",
            {},
            "ends in .pt, which Sequential does not save a model to; it saves a model to a "
            "file ending in .h5 or .hdf5. To fix it, rename the file, e.g. to '{tmp}/w.h5'.",
        ),
    ],
    ids=["keras-model", "keras-weights", "torch-name"],
)
def test_hookfit_s_trainer_refuses_a_format_it_cannot_write_before_the_first_batch(
    hookfit_data, tmp_path, name, kwargs, message
):
    recorder = Recorder()
    checkpoint = ModelCheckpoint(str(tmp_path / name), monitor="loss", **kwargs)
    expected = f"ModelCheckpoint: filepath '{tmp_path / name}' " + message.format(tmp=tmp_path)
    with pytest.raises(ConfigError, match=f"^{re.escape(expected)}\n"):  # then the plugin's note
        sequential().fit(*hookfit_data, epochs=1, verbose=0, callbacks=[checkpoint, recorder])
    assert "on_batch_begin" not in recorder.hooks() and names(tmp_path) == []


def test_a_host_that_declares_keras_files_gets_them_with_the_best_epoch(hookfit_data, tmp_path):
    model = KerasLikeHost(8, 3)
    checkpoint = ModelCheckpoint(str(tmp_path / "best.keras"), save_best_only=True)
    inject = fit(model, hookfit_data, [checkpoint], values=[0.5, 0.3, 0.4])
    assert names(tmp_path) == ["best.keras"] and checkpoint.best == 0.3
    loaded = KerasLikeHost(8, 3, seed=1)
    loaded.load_weights(tmp_path / "best.keras")
    assert same(loaded.get_weights(), inject.weights[1])


def test_keras_s_weights_files_need_save_weights_only_where_the_host_says_so(
    hookfit_data, tmp_path
):
    weights = ModelCheckpoint(
        str(tmp_path / "w.{epoch}.weights.h5"), save_weights_only=True, save_last=True
    )
    fit(KerasLikeHost(8, 3), hookfit_data, [weights], values=[0.5])
    assert names(tmp_path) == ["last.weights.h5", "w.1.weights.h5"]
    model = ModelCheckpoint(str(tmp_path / "m.weights.h5"))
    with pytest.raises(
        ConfigError,
        match="^"
        + re.escape(
            f"ModelCheckpoint: filepath '{tmp_path / 'm.weights.h5'}' ends in .weights.h5, "
            "which KerasLikeHost does not save a model to; it saves a model to a file ending in "
            ".keras or .h5 or .hdf5. To fix it, set save_weights_only=True, or rename the file, "
            f"e.g. to '{tmp_path / 'm.keras'}'."
        )
        + "\n",
    ):
        fit(KerasLikeHost(8, 3), hookfit_data, [model], values=[0.5])


def test_a_host_without_declared_formats_writes_hdf5_names(hookfit_data, tmp_path):
    assert not isinstance(MinimalHost(8, 3), FileFormats)
    assert isinstance(KerasLikeHost(8, 3), FileFormats)
    with pytest.raises(ConfigError, match=r"which MinimalHost does not save a model to; .* \.h5"):
        fit(MinimalHost(8, 3), hookfit_data, [ModelCheckpoint(str(tmp_path / "w.keras"))])
    fit(MinimalHost(8, 3), hookfit_data, [ModelCheckpoint(str(tmp_path / "w.h5"))], values=[1.0])
    assert names(tmp_path) == ["w.h5"]
