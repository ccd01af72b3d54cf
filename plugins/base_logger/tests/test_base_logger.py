"""BaseLogger, installed alone with the core."""

import pytest

from hookfit import Callback
from hookfit.testing import Recorder
from hookfit_base_logger import BaseLogger


class Seen(Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.logs = dict(logs)


@pytest.mark.hookfit_not_on(
    "keras",
    "lightning",
    reason="Keras and Lightning average their own epoch logs: their Plugins leave hookfit's "
    "BaseLogger out",
)
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


@pytest.mark.hookfit_not_on(
    "keras",
    "lightning",
    reason="Keras and Lightning average their own epoch logs: their Plugins leave hookfit's "
    "BaseLogger out",
)
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


class Plugins(Callback):
    def on_train_begin(self, logs=None):
        self.plugins = dict(self.model.plugins)


@pytest.mark.hookfit_not_on(
    "keras",
    "lightning",
    reason="Keras and Lightning average their own epoch logs: their Plugins leave hookfit's "
    "BaseLogger out",
)
def test_is_on_by_default(hookfit_model, hookfit_data):
    probe = Plugins()
    x, y = hookfit_data
    hookfit_model().fit(x, y, epochs=1, verbose=0, callbacks=[probe])
    assert isinstance(probe.plugins["base_logger"], BaseLogger)


@pytest.mark.hookfit_not_on(
    "keras",
    "lightning",
    reason="Keras and Lightning average their own epoch logs: their Plugins leave hookfit's "
    "BaseLogger out",
)
def test_runs_before_the_plugins_named_before_it(hookfit_model, hookfit_data):
    recorder, seen = Recorder(), Seen()
    x, y = hookfit_data
    hookfit_model().fit(
        x,
        y,
        batch_size=10,
        epochs=1,
        verbose=0,
        shuffle=False,
        callbacks=[seen, BaseLogger(stateful_metrics=["loss"]), recorder],
    )
    # Only BaseLogger turns the epoch's loss into the last batch's, and Seen,
    # named first, already sees that.
    batches = [args[1] for hook, args in recorder.calls if hook == "on_batch_end"]
    mean = sum(b["loss"] * b["size"] for b in batches) / len(x)
    assert seen.logs["loss"] == batches[-1]["loss"] != pytest.approx(mean)


def test_switched_off_the_trainer_logs_the_same_means(hookfit_model, hookfit_data):
    logs = []
    for config in (None, {"hookfit": {"disable": ["base_logger"]}}):
        seen = Seen()
        x, y = hookfit_data
        hookfit_model().fit(
            x, y, epochs=1, verbose=0, shuffle=False, callbacks=[seen], config=config
        )
        logs.append(seen.logs)
    assert logs[0] == pytest.approx(logs[1], rel=1e-12)
    assert sorted(logs[1]) == ["acc", "loss"]


def test_without_stateful_metrics_it_has_no_batch_hook():
    from hookfit.hooks.dispatch import hooks_of

    assert hooks_of(BaseLogger()) == ["on_epoch_begin", "on_epoch_end"]
    assert hooks_of(BaseLogger(stateful_metrics=["acc"])) == [
        "on_batch_end",
        "on_epoch_begin",
        "on_epoch_end",
    ]


def test_the_epoch_means_are_the_trainers_untouched():
    # Logs the trainer hands over pass through unchanged: nothing is recomputed.
    logger = BaseLogger()
    logger.set_params({"metrics": ["loss", "acc"]})
    logs = {"loss": 0.25, "acc": 0.5, "val_loss": 0.3}
    logger.on_epoch_begin(0, {})
    logger.on_epoch_end(0, logs)
    assert logs == {"loss": 0.25, "acc": 0.5, "val_loss": 0.3}
