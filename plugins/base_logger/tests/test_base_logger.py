"""BaseLogger, installed alone with the core."""

import pytest

from hookfit import Callback
from hookfit.testing import Recorder
from hookfit_base_logger import BaseLogger


class Seen(Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.logs = dict(logs)


def test_epoch_values_are_size_weighted_means_of_the_batches(hookfit_model, hookfit_data):
    recorder, seen = Recorder(), Seen()
    x, y = hookfit_data
    hookfit_model().fit(
        x[:50],
        y[:50],
        batch_size=16,
        epochs=1,
        verbose=0,
        callbacks=[seen, recorder],
        validation_data=(x[50:], y[50:]),
    )
    batches = [args[1] for hook, args in recorder.calls if hook == "on_batch_end"]
    assert [b["size"] for b in batches] == [16, 16, 16, 2]
    for key in ("loss", "acc"):
        expected = sum(b[key] * b["size"] for b in batches) / 50
        assert seen.logs[key] == pytest.approx(expected, rel=1e-12)
    # validation values pass through, and BaseLogger ran before Seen
    assert sorted(seen.logs) == ["acc", "loss", "val_acc", "val_loss"]


def test_stateful_metrics_report_the_last_batch(hookfit_model, hookfit_data):
    recorder, seen = Recorder(), Seen()
    x, y = hookfit_data
    hookfit_model().fit(
        x,
        y,
        batch_size=10,
        epochs=1,
        verbose=0,
        shuffle=False,
        callbacks=[BaseLogger(stateful_metrics=["acc"]), seen, recorder],
    )
    last = [args[1] for hook, args in recorder.calls if hook == "on_batch_end"][-1]
    assert seen.logs["acc"] == last["acc"]
    assert seen.logs["loss"] != last["loss"]


def test_is_on_by_default_and_runs_first(hookfit_model, hookfit_data):
    seen = Seen()
    x, y = hookfit_data
    hookfit_model().fit(x, y, epochs=1, verbose=0, callbacks=[seen])
    assert "loss" in seen.logs
