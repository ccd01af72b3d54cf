"""EarlyStopping, installed alone with the core (or with every plugin)."""

import json
import math
import re
import warnings

import numpy as np
import pytest

from hookfit import Callback, ConfigError, HookfitWarning
from hookfit.testing import fit_with_values
from hookfit_early_stopping import EarlyStopping


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


# Monitored values and the epoch Keras 3's EarlyStopping stops at (0-based),
# with the epochs that ran; Keras 2 agrees wherever there is no baseline.
DECLINING = [10, 9, 8, 9, 8.9, 8.8, 8.7, 8.6]


@pytest.mark.parametrize(
    ("kwargs", "key", "values", "stopped_epoch", "epochs_run"),
    [
        ({"patience": 2}, "val_loss", [0.0860, 0.1096, 0.1040, 0.1019], 2, 3),
        ({"patience": 0}, "val_loss", [1, 0.9, 0.95, 0.8], 2, 3),
        ({"patience": 1, "min_delta": 0.05}, "val_loss", [1, 0.95, 0.93, 0.92], 1, 2),
        ({"patience": 0}, "val_loss", DECLINING, 3, 4),
        ({"patience": 1}, "val_loss", DECLINING, 3, 4),
        ({"patience": 2}, "val_loss", DECLINING, 4, 5),
        ({"patience": 3}, "val_loss", DECLINING, 5, 6),
        (
            {"mode": "max", "baseline": 0.75, "patience": 2},
            "val_acc",
            [0.55, 0.74, 0.81, 0.81],
            0,
            4,
        ),
    ],
    ids=[
        "min-patience-2",
        "min-patience-0",
        "min-patience-1-min-delta-0.05",
        "min-patience-p0",
        "min-patience-p1",
        "min-patience-p2",
        "min-patience-p3",
        "max-baseline-0.75-patience-2-runs-all-4",
    ],
)
def test_worked_sequences(
    hookfit_model, hookfit_data, kwargs, key, values, stopped_epoch, epochs_run
):
    es = EarlyStopping(monitor=key, **kwargs)
    inject = fit_with_values(hookfit_model(), hookfit_data, [es], key, values)
    assert es.stopped_epoch == stopped_epoch
    assert inject.epochs == list(range(epochs_run))


def test_min_mode_auto_for_loss_and_max_for_acc(hookfit_model, hookfit_data):
    es = EarlyStopping(monitor="val_acc", patience=0)
    fit_with_values(hookfit_model(), hookfit_data, [es], "val_acc", [0.5, 0.6, 0.55, 0.7])
    assert (es.stopped_epoch, es.best, es.best_epoch) == (2, 0.6, 1)


def test_one_instance_serves_two_fits(hookfit_model, hookfit_data):
    es = EarlyStopping(patience=1)
    model = hookfit_model()
    first = fit_with_values(model, hookfit_data, [es], "val_loss", [0.1, 0.2, 0.3])
    assert first.epochs == [0, 1] and (es.stopped_epoch, es.best, es.wait) == (1, 0.1, 1)
    # Every value is worse than the first run's best: only a reset lets it improve.
    second = fit_with_values(model, hookfit_data, [es], "val_loss", [5.0, 4.0, 3.0])
    assert second.epochs == [0, 1, 2]
    assert (es.stopped_epoch, es.best, es.best_epoch, es.wait) == (0, 3.0, 2, 0)


@pytest.mark.parametrize(
    ("values", "patience", "epochs_run"),
    [([0.5, 0.3, 0.4, 0.45, 0.2], 2, 4), ([0.5, 0.3, 0.4], 5, 3)],
    ids=["when-it-stops", "when-it-never-fired"],
)
def test_restore_best_weights(hookfit_model, hookfit_data, values, patience, epochs_run):
    es = EarlyStopping(patience=patience, restore_best_weights=True)
    model = hookfit_model()
    inject = fit_with_values(model, hookfit_data, [es], "val_loss", values)
    assert inject.epochs == list(range(epochs_run)) and es.best_epoch == 1
    assert same(model.get_weights(), inject.weights[1])
    assert not same(model.get_weights(), inject.weights[-1])


def test_restore_best_weights_when_another_plugin_stopped_training(hookfit_model, hookfit_data):
    class StopAt2(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = epoch == 2

    es = EarlyStopping(patience=10, restore_best_weights=True)
    model = hookfit_model()
    inject = fit_with_values(
        model, hookfit_data, [es, StopAt2()], "val_loss", [0.3, 0.2, 0.25, 0.1]
    )
    assert inject.epochs == [0, 1, 2] and es.stopped_epoch == 0
    assert same(model.get_weights(), inject.weights[1])


def test_without_restore_the_last_weights_stay(hookfit_model, hookfit_data):
    es = EarlyStopping(patience=1)
    model = hookfit_model()
    inject = fit_with_values(model, hookfit_data, [es], "val_loss", [0.1, 0.2, 0.3])
    assert es.best_weights is None and same(model.get_weights(), inject.weights[-1])


def test_start_from_epoch_ignores_the_warm_up_epochs(hookfit_model, hookfit_data):
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    es = EarlyStopping(patience=0, start_from_epoch=3, restore_best_weights=True)
    model = hookfit_model()
    inject = fit_with_values(model, hookfit_data, [es], "val_loss", values)
    assert inject.epochs == [0, 1, 2, 3, 4]
    assert (es.stopped_epoch, es.best, es.best_epoch) == (4, 4.0, 3)
    assert same(model.get_weights(), inject.weights[3])
    plain = EarlyStopping(patience=0)
    assert fit_with_values(hookfit_model(), hookfit_data, [plain], "val_loss", values).epochs == [
        0,
        1,
    ]


def test_start_from_epoch_beyond_the_run_stores_nothing(hookfit_model, hookfit_data):
    es = EarlyStopping(start_from_epoch=5, restore_best_weights=True)
    model = hookfit_model()
    inject = fit_with_values(model, hookfit_data, [es], "val_loss", [3.0, 2.0, 1.0])
    assert es.best is None and es.best_weights is None
    assert same(model.get_weights(), inject.weights[-1])


def test_nan_never_improves(hookfit_model, hookfit_data):
    es = EarlyStopping(patience=0)
    inject = fit_with_values(hookfit_model(), hookfit_data, [es], "val_loss", [1.0, math.nan, 0.5])
    assert inject.epochs == [0, 1] and es.best == 1.0


def test_missing_monitor_warns_once_per_run_naming_the_keys(hookfit_model):
    es = EarlyStopping()
    es.set_model(hookfit_model())
    text = (
        r"^Early stopping conditioned on metric `val_loss` which is not available\. "
        r"Available metrics are: loss,acc\.$"
    )
    for _ in range(2):  # two runs: a warning in each
        es.on_train_begin({})
        with pytest.warns(HookfitWarning, match=text) as caught:
            for epoch in range(3):
                es.on_epoch_end(epoch, {"loss": 1.0, "acc": 0.5})
        assert len(caught) == 1
        assert (es.wait, es.best, es.stopped_epoch) == (0, None, 0)


def test_missing_monitor_in_a_fit_warns_once(hookfit_model, hookfit_data):
    es = EarlyStopping(monitor="val_acc", patience=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inject = fit_with_values(hookfit_model(), hookfit_data, [es], "val_other", [1.0, 2.0, 3.0])
    mine = [w for w in caught if "Early stopping" in str(w.message)]
    assert len(mine) == 1 and mine[0].category is HookfitWarning
    assert "`val_acc` which is not available" in str(mine[0].message)
    assert "val_other" in str(mine[0].message).split("Available metrics are: ")[1]
    assert inject.epochs == [0, 1, 2]


@pytest.mark.parametrize(
    ("restore", "expected"),
    [
        (False, "Epoch 00003: early stopping\n"),
        (
            True,
            "Epoch 00003: early stopping\n"
            "Restoring model weights from the end of the best epoch: 1.\n",
        ),
    ],
    ids=["stop", "stop-and-restore"],
)
def test_verbose_messages(hookfit_model, hookfit_data, capsys, restore, expected):
    es = EarlyStopping(patience=2, verbose=1, restore_best_weights=restore)
    fit_with_values(
        hookfit_model(), hookfit_data, [es], "val_loss", [0.0860, 0.1096, 0.1040, 0.1019]
    )
    assert capsys.readouterr().out == expected


def test_verbose_restore_without_stopping(hookfit_model, hookfit_data, capsys):
    es = EarlyStopping(patience=5, verbose=1, restore_best_weights=True)
    fit_with_values(hookfit_model(), hookfit_data, [es], "val_loss", [0.5, 0.3, 0.4])
    assert capsys.readouterr().out == "Restoring model weights from the end of the best epoch: 2.\n"


def test_quiet_by_default(hookfit_model, hookfit_data, capsys):
    fit_with_values(hookfit_model(), hookfit_data, [EarlyStopping()], "val_loss", [1.0, 2.0])
    assert capsys.readouterr().out == ""


def test_state_dict_round_trip_resumes_the_run(hookfit_model):
    values = [10, 9, 8, 9, 8.9, 8.8, 8.7]
    model = hookfit_model()
    first = EarlyStopping(patience=3)
    first.set_model(model)
    first.on_train_begin({})
    for epoch, value in enumerate(values[:4]):
        first.on_epoch_end(epoch, {"val_loss": value})
    state = json.loads(json.dumps(first.state_dict()))
    assert state == {"wait": 1, "stopped_epoch": 0, "best": 8.0, "best_epoch": 2}

    resumed = EarlyStopping(patience=3)
    resumed.set_model(model)
    resumed.on_train_begin({})
    resumed.load_state_dict(state)
    for epoch, value in enumerate(values[4:], start=4):
        resumed.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            break
    assert (resumed.stopped_epoch, resumed.best, resumed.wait) == (5, 8.0, 3)
    assert resumed.best_weights is None


def test_resolved_by_name(hookfit_model, hookfit_data):
    from hookfit.callbacks import EarlyStopping as Resolved

    assert Resolved is EarlyStopping


BAD_ARGUMENTS = {
    "negative-patience": ({"patience": -1}, "patience: expected an integer >= 0, got -1."),
    "float-patience": ({"patience": 1.5}, "patience: expected an integer >= 0, got 1.5."),
    "bool-patience": ({"patience": True}, "patience: expected an integer >= 0, got true."),
    "negative-start-from-epoch": (
        {"start_from_epoch": -2},
        "start_from_epoch: expected an integer >= 0, got -2.",
    ),
    "string-start-from-epoch": (
        {"start_from_epoch": "3"},
        'start_from_epoch: expected an integer >= 0, got "3".',
    ),
    "verbose-2": ({"verbose": 2}, "verbose: expected one of 0, 1, got 2."),
    "unknown-mode": (
        {"mode": "maximum"},
        "mode: expected one of 'auto', 'min', 'max', got \"maximum\".",
    ),
    "negative-min-delta": ({"min_delta": -0.01}, "min_delta: expected a number >= 0, got -0.01."),
    "nan-min-delta": ({"min_delta": math.nan}, "min_delta: expected a number >= 0, got nan."),
    "bad-baseline": (
        {"baseline": "high"},
        "baseline: expected a finite number or None (in a config file: leave the key out), "
        'got "high".',
    ),
    "infinite-baseline": (
        {"baseline": math.inf},
        "baseline: expected a finite number or None (in a config file: leave the key out), "
        "got inf.",
    ),
    "empty-monitor": ({"monitor": ""}, "monitor: expected a log key such as 'val_loss', got \"\"."),
    "int-restore": (
        {"restore_best_weights": 1},
        "restore_best_weights: expected true or false, got 1.",
    ),
}


@pytest.mark.parametrize(
    ("kwargs", "message"), list(BAD_ARGUMENTS.values()), ids=list(BAD_ARGUMENTS)
)
def test_bad_arguments_are_refused_naming_the_argument(kwargs, message):
    with pytest.raises(ConfigError, match=f"^{re.escape('EarlyStopping: ' + message)}$"):
        EarlyStopping(**kwargs)


def test_a_bad_config_value_is_refused_before_training(hookfit_model, hookfit_data):
    x, y = hookfit_data
    config = {"callbacks": {"early_stopping": {"patience": -1}}}
    with pytest.raises(
        ConfigError,
        match=r"expected an integer >= 0, got -1 \(EarlyStopping's argument patience\)\.$",
    ):
        hookfit_model().fit(x, y, epochs=1, verbose=0, config=config)
