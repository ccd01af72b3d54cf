"""ReduceLROnPlateau, installed alone with the core (or with every plugin)."""

import json
import math
import os
import re
import subprocess
import sys
import warnings

import pytest

from hookfit import Callback, ConfigError, HookfitWarning
from hookfit.layers import Dense
from hookfit.models import Sequential
from hookfit.optimizers import SGD, Adagrad, Adam, RMSprop
from hookfit.testing import fit_with_values
from hookfit_reduce_lr_on_plateau import ReduceLROnPlateau


class After(Callback):
    """Runs after the plugin under test: the learning rate each epoch ends
    with, and the ``lr`` the plugin logged."""

    def __init__(self):
        super().__init__()
        self.lrs, self.logged = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.lrs.append(self.model.optimizer.lr)
        self.logged.append(logs.get("lr"))


def fit(model, data, plugin, values, key="val_loss"):
    after = After()
    fit_with_values(model, data, [plugin, after], key, values)
    return after, model.history


def at_lr(model, lr=1.0):
    """The model with its optimizer's rate set through the plugin protocol,
    so that every host starts from the same rate."""
    model.optimizer.lr = lr
    return model


# Monitored values and the learning rate after each epoch, from lr=1.0, as
# Keras 2.2.4 computes them.
@pytest.mark.parametrize(
    ("kwargs", "values", "lrs"),
    [
        ({"patience": 1, "factor": 0.1}, [0.5] * 6, [1, 0.1, 0.01, 1e-3, 1e-4, 1e-5]),
        ({"patience": 2, "cooldown": 2}, [0.5] * 8, [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01]),
        (
            {"patience": 1, "min_lr": 0.005},
            [0.5] * 8,
            [1, 0.1, 0.01, 0.005, 0.005, 0.005, 0.005, 0.005],
        ),
        ({"patience": 2}, [0.0860, 0.1096, 0.1040], [1, 1, 0.1]),
    ],
    ids=["patience-1-factor-0.1", "patience-2-cooldown-2", "patience-1-min-lr-0.005", "patience-2"],
)
def test_worked_sequences(hookfit_model, hookfit_data, kwargs, values, lrs):
    after, _ = fit(at_lr(hookfit_model()), hookfit_data, ReduceLROnPlateau(**kwargs), values)
    assert after.lrs == pytest.approx(lrs, rel=1e-12)
    # logs['lr'] is the rate the epoch trained with: the previous epoch's end rate.
    assert after.logged == pytest.approx([1.0, *lrs[:-1]], rel=1e-12)


@pytest.mark.parametrize("optimizer", [SGD, RMSprop, Adam, Adagrad], ids=lambda o: o.__name__)
def test_every_hookfit_optimizer(hookfit_data, optimizer):
    # About hookfit's own optimizers (lr and its Keras 3 alias learning_rate),
    # so it builds hookfit's Sequential whatever --hookfit-host says.
    model = Sequential([Dense(16, activation="relu", input_dim=8), Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer(lr=0.02), loss="categorical_crossentropy")
    after, _ = fit(model, hookfit_data, ReduceLROnPlateau(patience=1, factor=0.5), [0.5] * 4)
    assert after.lrs == pytest.approx([0.02, 0.01, 0.005, 0.0025], rel=1e-12)
    assert model.optimizer.lr == model.optimizer.learning_rate == pytest.approx(0.0025, rel=1e-12)


def test_max_mode_and_improvements_reset_the_count(hookfit_model, hookfit_data):
    plugin = ReduceLROnPlateau(monitor="val_acc", patience=2, factor=0.5)
    values = [0.5, 0.6, 0.6, 0.7, 0.7, 0.7]
    after, _ = fit(at_lr(hookfit_model()), hookfit_data, plugin, values, "val_acc")
    assert after.lrs == [1.0, 1.0, 1.0, 1.0, 1.0, 0.5]
    assert (plugin.best, plugin.wait) == (0.7, 0)


def test_min_delta_decides_what_improves(hookfit_model, hookfit_data):
    plugin = ReduceLROnPlateau(patience=1, factor=0.5, min_delta=0.1)
    after, _ = fit(at_lr(hookfit_model()), hookfit_data, plugin, [1.0, 0.95, 0.8])
    assert after.lrs == [1.0, 0.5, 0.5] and plugin.best == 0.8


def test_state_is_reset_for_every_fit(hookfit_model, hookfit_data):
    plugin = ReduceLROnPlateau(patience=2, cooldown=3)
    model = at_lr(hookfit_model())
    fit(model, hookfit_data, plugin, [0.1, 0.2, 0.3])
    assert (plugin.best, plugin.wait, plugin.cooldown_counter) == (0.1, 0, 3)
    model.optimizer.lr = 1.0
    # Worse than the first run's best: only a reset lets the first value improve.
    after, _ = fit(model, hookfit_data, plugin, [5.0, 5.0, 5.0])
    assert after.lrs == pytest.approx([1.0, 1.0, 0.1])


def test_verbose_message(hookfit_model, hookfit_data, capsys):
    plugin = ReduceLROnPlateau(patience=1, factor=0.5, verbose=1)
    fit(at_lr(hookfit_model()), hookfit_data, plugin, [0.5] * 3)
    assert capsys.readouterr().out == (
        "\nEpoch 00002: ReduceLROnPlateau reducing learning rate to 0.5.\n"
        "\nEpoch 00003: ReduceLROnPlateau reducing learning rate to 0.25.\n"
    )


def test_quiet_by_default_and_at_min_lr(hookfit_model, hookfit_data, capsys):
    fit(at_lr(hookfit_model()), hookfit_data, ReduceLROnPlateau(patience=1), [0.5] * 2)
    plugin = ReduceLROnPlateau(patience=1, min_lr=1.0, verbose=1)
    after, _ = fit(at_lr(hookfit_model()), hookfit_data, plugin, [0.5] * 3)
    assert capsys.readouterr().out == "" and after.lrs == [1.0, 1.0, 1.0]


def test_missing_monitor_warns_once_per_run_and_still_logs_lr(hookfit_model):
    plugin = ReduceLROnPlateau(patience=0)
    plugin.set_model(at_lr(hookfit_model()))
    text = (
        r"^Learning rate reduction conditioned on metric `val_loss` which is not available\. "
        r"Available metrics are: loss,lr\.$"
    )
    for _ in range(2):  # two runs: a warning in each
        plugin.on_train_begin({})
        with pytest.warns(HookfitWarning, match=text) as caught:
            for epoch in range(3):
                logs = {"loss": 1.0}
                plugin.on_epoch_end(epoch, logs)
                assert logs["lr"] == 1.0
        assert len(caught) == 1 and plugin.model.optimizer.lr == 1.0


def test_missing_monitor_in_a_fit_warns_once(hookfit_model, hookfit_data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(hookfit_model(), hookfit_data, ReduceLROnPlateau(patience=0), [1.0] * 3, "val_other")
    mine = [w for w in caught if "Learning rate reduction" in str(w.message)]
    assert len(mine) == 1 and mine[0].category is HookfitWarning
    assert "val_other" in str(mine[0].message).split("Available metrics are: ")[1]


def test_epsilon_is_a_deprecated_alias_of_min_delta_with_keras_2s_user_warning():
    message = "`epsilon` argument is deprecated and will be removed, use `min_delta` instead."
    with pytest.warns(UserWarning) as record:
        plugin = ReduceLROnPlateau(epsilon=0.01)
    (caught,) = record
    assert caught.category is UserWarning  # Keras's: shown outside __main__ too
    assert str(caught.message) == message
    assert caught.filename == __file__  # stacklevel=2: the caller's line
    assert plugin.min_delta == 0.01
    with pytest.warns(UserWarning, match=re.escape(message)):
        assert ReduceLROnPlateau(min_delta=0.01, epsilon=0.01).min_delta == 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ReduceLROnPlateau().min_delta == 1e-4


def test_epsilon_is_kept_as_min_delta_only_as_in_keras_2():
    # Keras 2.2.4's test_ReduceLROnPlateau_backwards_compatibility
    with pytest.warns(UserWarning):
        reduce_on_plateau = ReduceLROnPlateau(epsilon=1e-13)
    assert not hasattr(reduce_on_plateau, "epsilon")
    assert hasattr(reduce_on_plateau, "min_delta")
    assert reduce_on_plateau.min_delta == 1e-13


def test_the_epsilon_warning_is_shown_outside_main_by_default(tmp_path):
    # Python's default filters hide a DeprecationWarning raised outside __main__
    (tmp_path / "user_module.py").write_text(
        "from hookfit.callbacks import ReduceLROnPlateau\nplugin = ReduceLROnPlateau(epsilon=0.1)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    done = subprocess.run(
        [sys.executable, "-c", "import user_module"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert (
        "user_module.py:2: UserWarning: `epsilon` argument is deprecated and will be removed, "
        "use `min_delta` instead."
    ) in done.stderr


def test_state_dict_round_trip_resumes_the_run(hookfit_model):
    model = at_lr(hookfit_model())
    first = ReduceLROnPlateau(patience=2, cooldown=2)
    first.set_model(model)
    first.on_train_begin({})
    for epoch in range(4):
        first.on_epoch_end(epoch, {"val_loss": 0.5})
    state = json.loads(json.dumps(first.state_dict()))
    assert state == {"wait": 0, "cooldown_counter": 1, "best": 0.5}

    resumed = ReduceLROnPlateau(patience=2, cooldown=2)
    resumed.set_model(model)
    resumed.on_train_begin({})
    resumed.load_state_dict(state)
    lrs = []
    for epoch in range(4, 8):
        resumed.on_epoch_end(epoch, {"val_loss": 0.5})
        lrs.append(model.optimizer.lr)
    assert lrs == pytest.approx([0.1, 0.01, 0.01, 0.01])  # the table's last four


def test_resolved_by_name():
    from hookfit.callbacks import ReduceLROnPlateau as Resolved

    assert Resolved is ReduceLROnPlateau


BAD_ARGUMENTS = {
    "factor-1": ({"factor": 1.0}, "factor: expected a number > 0 and < 1, got 1.0."),
    "factor-2": ({"factor": 2}, "factor: expected a number > 0 and < 1, got 2."),
    "factor-0": ({"factor": 0}, "factor: expected a number > 0 and < 1, got 0."),
    "negative-factor": ({"factor": -0.5}, "factor: expected a number > 0 and < 1, got -0.5."),
    "string-factor": ({"factor": "0.5"}, 'factor: expected a number > 0 and < 1, got "0.5".'),
    "nan-factor": ({"factor": math.nan}, "factor: expected a number > 0 and < 1, got nan."),
    "negative-patience": ({"patience": -1}, "patience: expected an integer >= 0, got -1."),
    "float-patience": ({"patience": 2.5}, "patience: expected an integer >= 0, got 2.5."),
    "negative-cooldown": ({"cooldown": -3}, "cooldown: expected an integer >= 0, got -3."),
    "negative-min-lr": ({"min_lr": -0.1}, "min_lr: expected a number >= 0, got -0.1."),
    "infinite-min-lr": ({"min_lr": math.inf}, "min_lr: expected a number >= 0, got inf."),
    "verbose-2": ({"verbose": 2}, "verbose: expected one of 0, 1, got 2."),
    "unknown-mode": ({"mode": "up"}, "mode: expected one of 'auto', 'min', 'max', got \"up\"."),
    "negative-min-delta": (
        {"min_delta": -1e-4},
        "min_delta: expected a number >= 0, got -0.0001.",
    ),
    "negative-epsilon": (
        {"epsilon": -1.0},
        "epsilon: expected a number >= 0 or None (in a config file: leave the key out), got -1.0.",
    ),
    "empty-monitor": ({"monitor": ""}, "monitor: expected a log key such as 'val_loss', got \"\"."),
    "min-delta-and-epsilon-differ": (
        {"min_delta": 0.2, "epsilon": 0.01},
        "got min_delta=0.2 and epsilon=0.01; epsilon is the deprecated name of min_delta, "
        "give only min_delta.",
    ),
}


@pytest.mark.parametrize(
    ("kwargs", "message"), list(BAD_ARGUMENTS.values()), ids=list(BAD_ARGUMENTS)
)
def test_bad_arguments_are_refused_naming_the_argument(kwargs, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ConfigError, match=f"^{re.escape('ReduceLROnPlateau: ' + message)}$"):
            ReduceLROnPlateau(**kwargs)


def test_a_bad_config_value_is_refused_before_training(hookfit_model, hookfit_data):
    x, y = hookfit_data
    config = {"callbacks": {"reduce_lr_on_plateau": {"factor": 1.5}}}
    with pytest.raises(
        ConfigError,
        match=r"expected a number > 0 and < 1, got 1\.5 \(ReduceLROnPlateau's argument factor\)\.$",
    ):
        hookfit_model().fit(x, y, epochs=1, verbose=0, config=config)
