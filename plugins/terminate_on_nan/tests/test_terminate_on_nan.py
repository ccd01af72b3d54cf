"""TerminateOnNaN, installed alone with the core, on real NaN and Inf losses."""

import math
import re

import numpy as np
import pytest

from hookfit import ConfigError, TrainingError
from hookfit.callbacks import TerminateOnNaN
from hookfit.hooks.dispatch import hooks_of
from hookfit.layers import Dense
from hookfit.models import Sequential
from hookfit.optimizers import SGD
from hookfit.testing import Recorder
from hookfit.utils import set_random_seed
from hookfit_terminate_on_nan import TerminateOnNaN as DirectTerminateOnNaN

pytestmark = pytest.mark.filterwarnings(
    "ignore:overflow encountered:RuntimeWarning", "ignore:invalid value:RuntimeWarning"
)


def calls_of(recorder, hook):
    return [args for name, args in recorder.calls if name == hook]


def regression_model(lr=0.01):
    """hookfit's own Sequential: a linear regression that SGD can drive to an
    overflow, which the softmax models of the test hosts never reach."""
    set_random_seed(0)
    model = Sequential([Dense(1, input_dim=8)])
    model.compile(optimizer=SGD(lr=lr), loss="mean_squared_error")
    return model


def nan_input(hookfit_model, x, y):
    """Sample 40 has a NaN feature: batch 2 of 16 (samples 32-47) has a NaN loss."""
    x = x.copy()
    x[40, 0] = np.nan
    return hookfit_model(), x, y, 2, "nan"


def inf_loss(hookfit_model, x, y):
    """Target 21 is 3e38 for every class: its cross-entropy overflows float32
    in batch 1."""
    y = y.copy()
    y[21] = 3e38
    return hookfit_model(), x, y, 1, "inf"


CASES = [nan_input, inf_loss]


def fit(model, x, y, callbacks, epochs=3, batch_size=16):
    return model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        validation_data=(x[:16], y[:16]),
        callbacks=callbacks,
    )


def test_hookfit_callbacks_gives_the_plugin_class():
    assert TerminateOnNaN is DirectTerminateOnNaN
    assert hooks_of(TerminateOnNaN()) == ["on_batch_end"]


@pytest.mark.parametrize("case", CASES, ids=["nan-input", "inf-loss"])
def test_an_invalid_loss_stops_training_after_that_batch(case, hookfit_model, hookfit_data, capsys):
    model, x, y, bad_batch, shown = case(hookfit_model, *hookfit_data)
    recorder = Recorder()
    fit(model, x, y, [TerminateOnNaN(), recorder])
    assert capsys.readouterr().out == f"Batch {bad_batch}: Invalid loss, terminating training\n"
    batches = calls_of(recorder, "on_batch_end")
    assert [batch for batch, _ in batches] == list(range(bad_batch + 1))
    assert all(math.isfinite(logs["loss"]) for _, logs in batches[:-1])
    assert str(batches[-1][1]["loss"]) == shown
    # The epoch still ends normally: validation runs, on_epoch_end fires once.
    assert recorder.count("on_test_begin") == 1
    assert [epoch for epoch, _ in calls_of(recorder, "on_epoch_end")] == [0]
    assert "val_loss" in calls_of(recorder, "on_epoch_end")[0][1]
    assert recorder.hooks()[-2:] == ["on_epoch_end", "on_train_end"]
    assert model.stop_training is True


def test_a_diverging_sgd_stops_at_the_first_overflowing_batch(hookfit_data, capsys):
    x, _ = hookfit_data
    y = x.sum(axis=1, keepdims=True)
    reference = Recorder()
    fit(regression_model(lr=10.0), x, y, [reference], epochs=3, batch_size=8)
    losses = [
        (epoch, batch, logs["loss"])
        for epoch, epoch_batches in enumerate(_per_epoch(reference))
        for batch, logs in epoch_batches
    ]
    first_bad = next(i for i, (_, _, loss) in enumerate(losses) if not math.isfinite(loss))
    bad_epoch, bad_batch, _ = losses[first_bad]
    assert first_bad > 8  # some epochs and batches with finite, growing losses first

    recorder = Recorder()
    fit(regression_model(lr=10.0), x, y, [TerminateOnNaN(), recorder], epochs=3, batch_size=8)
    assert capsys.readouterr().out == f"Batch {bad_batch}: Invalid loss, terminating training\n"
    assert [logs["loss"] for _, logs in calls_of(recorder, "on_batch_end")] == [
        loss for _, _, loss in losses[: first_bad + 1]
    ]
    assert [epoch for epoch, _ in calls_of(recorder, "on_epoch_end")] == list(range(bad_epoch + 1))


def _per_epoch(recorder):
    epochs, current = [], []
    for hook, args in recorder.calls:
        if hook == "on_batch_end":
            current.append(args)
        elif hook == "on_epoch_end":
            epochs.append(current)
            current = []
    return epochs


def test_finite_losses_never_stop_training(hookfit_model, hookfit_data, capsys):
    x, y = hookfit_data
    recorder = Recorder()
    model = hookfit_model(optimizer=SGD(lr=0.5))
    fit(model, x, y, [TerminateOnNaN(), recorder], epochs=4)
    assert capsys.readouterr().out == ""
    assert recorder.count("on_batch_end") == 16
    assert [epoch for epoch, _ in calls_of(recorder, "on_epoch_end")] == [0, 1, 2, 3]
    assert model.stop_training is False


@pytest.mark.parametrize(
    ("logs", "stops"),
    [
        ({"loss": 1e308}, False),
        ({"loss": -1e308}, False),
        ({"loss": np.float32(3.4e38)}, False),
        ({}, False),
        ({"loss": float("nan")}, True),
        ({"loss": np.float32(np.inf)}, True),
        ({"loss": -math.inf}, True),
        ({"loss": np.float64(np.nan)}, True),
    ],
    ids=["huge", "huge-negative", "float32-max", "no-loss", "nan", "float32-inf", "-inf", "np-nan"],
)
def test_which_losses_stop(logs, stops, hookfit_model, capsys):
    model = hookfit_model()
    cb = TerminateOnNaN()
    cb.set_model(model)
    cb.on_batch_end(7, {"batch": 7, "size": 16, **logs})
    assert model.stop_training is stops
    expected = "Batch 7: Invalid loss, terminating training\n" if stops else ""
    assert capsys.readouterr().out == expected


@pytest.mark.hookfit_not_on(
    "keras",
    reason="Keras calls no on_train_end after an error (its fit has no finally)",
)
@pytest.mark.parametrize("case", CASES, ids=["nan-input", "inf-loss"])
def test_raise_error_raises_and_on_train_end_still_runs(case, hookfit_model, hookfit_data, capsys):
    model, x, y, bad_batch, shown = case(hookfit_model, *hookfit_data)
    recorder = Recorder()
    message = (
        f"NaN or Inf loss encountered at batch {bad_batch}. Loss value: {shown}. "
        "Terminating training immediately."
    )
    with pytest.raises(TrainingError, match=f"^{re.escape(message)}") as info:
        fit(model, x, y, [TerminateOnNaN(raise_error=True), recorder])
    assert str(info.value) == message
    assert isinstance(info.value, RuntimeError)
    assert any("on_batch_end of plugin terminate_on_nan" in n for n in info.value.__notes__)
    # The recorder comes after TerminateOnNaN: it never sees the bad batch.
    assert [batch for batch, _ in calls_of(recorder, "on_batch_end")] == list(range(bad_batch))
    assert recorder.count("on_epoch_end") == 0
    assert recorder.count("on_train_end") == 1
    assert capsys.readouterr().out == ""


def test_raise_error_from_a_config(hookfit_model, hookfit_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model, x, y, _, _ = nan_input(hookfit_model, *hookfit_data)
    config = {"callbacks": {"terminate_on_nan": {"raise_error": True}}}
    with pytest.raises(TrainingError, match=r"^NaN or Inf loss encountered at batch 2\. "):
        model.fit(x, y, batch_size=16, shuffle=False, verbose=0, config=config)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1, "1"), ("true", '"true"'), (None, "None"), (0.0, "0.0")],
    ids=["int", "str", "none", "float"],
)
def test_raise_error_must_be_a_bool(value, shown):
    message = f"TerminateOnNaN: raise_error: expected true or false, got {shown}."
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        TerminateOnNaN(raise_error=value)
