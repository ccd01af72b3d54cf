"""ReduceLROnPlateau, installed alone with the core (or with every plugin)."""

import json
import re
import warnings

import pytest

from hookfit import Callback, ConfigError, HookfitWarning
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


# keras-semantics.md section 6; every ReduceLROnPlateau row, Keras 2.2.4 column.
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
    after, _ = fit(
        hookfit_model(optimizer=SGD(lr=1.0)), hookfit_data, ReduceLROnPlateau(**kwargs), values
    )
    assert after.lrs == pytest.approx(lrs, rel=1e-12)
    # logs['lr'] is the rate the epoch trained with: the previous epoch's end rate.
    assert after.logged == pytest.approx([1.0, *lrs[:-1]], rel=1e-12)


@pytest.mark.parametrize("optimizer", [SGD, RMSprop, Adam, Adagrad], ids=lambda o: o.__name__)
def test_every_optimizer(hookfit_model, hookfit_data, optimizer):
    model = hookfit_model(optimizer=optimizer(lr=0.02))
    after, _ = fit(model, hookfit_data, ReduceLROnPlateau(patience=1, factor=0.5), [0.5] * 4)
    assert after.lrs == pytest.approx([0.02, 0.01, 0.005, 0.0025], rel=1e-12)
    assert model.optimizer.lr == model.optimizer.learning_rate == pytest.approx(0.0025, rel=1e-12)


def test_max_mode_and_improvements_reset_the_count(hookfit_model, hookfit_data):
    plugin = ReduceLROnPlateau(monitor="val_acc", patience=2, factor=0.5)
    values = [0.5, 0.6, 0.6, 0.7, 0.7, 0.7]
    after, _ = fit(hookfit_model(optimizer=SGD(lr=1.0)), hookfit_data, plugin, values, "val_acc")
    assert after.lrs == [1.0, 1.0, 1.0, 1.0, 1.0, 0.5]
    assert (plugin.best, plugin.wait) == (0.7, 0)


def test_min_delta_decides_what_improves(hookfit_model, hookfit_data):
    plugin = ReduceLROnPlateau(patience=1, factor=0.5, min_delta=0.1)
    after, _ = fit(hookfit_model(optimizer=SGD(lr=1.0)), hookfit_data, plugin, [1.0, 0.95, 0.8])
    assert after.lrs == [1.0, 0.5, 0.5] and plugin.best == 0.8


def test_state_is_reset_for_every_fit(hookfit_model, hookfit_data):
    plugin = ReduceLROnPlateau(patience=2, cooldown=3)
    model = hookfit_model(optimizer=SGD(lr=1.0))
    fit(model, hookfit_data, plugin, [0.1, 0.2, 0.3])
    assert (plugin.best, plugin.wait, plugin.cooldown_counter) == (0.1, 0, 3)
    model.optimizer.lr = 1.0
    # Worse than the first run's best: only a reset lets the first value improve.
    after, _ = fit(model, hookfit_data, plugin, [5.0, 5.0, 5.0])
    assert after.lrs == pytest.approx([1.0, 1.0, 0.1])


def test_verbose_message(hookfit_model, hookfit_data, capsys):
    plugin = ReduceLROnPlateau(patience=1, factor=0.5, verbose=1)
    fit(hookfit_model(optimizer=SGD(lr=1.0)), hookfit_data, plugin, [0.5] * 3)
    assert capsys.readouterr().out == (
        "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.5.\n"
        "\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.25.\n"
    )


def test_quiet_by_default_and_at_min_lr(hookfit_model, hookfit_data, capsys):
    fit(
        hookfit_model(optimizer=SGD(lr=1.0)), hookfit_data, ReduceLROnPlateau(patience=1), [0.5] * 2
    )
    plugin = ReduceLROnPlateau(patience=1, min_lr=1.0, verbose=1)
    after, _ = fit(hookfit_model(optimizer=SGD(lr=1.0)), hookfit_data, plugin, [0.5] * 3)
    assert capsys.readouterr().out == "" and after.lrs == [1.0, 1.0, 1.0]


def test_missing_monitor_warns_once_per_run_and_still_logs_lr(hookfit_model):
    plugin = ReduceLROnPlateau(patience=0)
    plugin.set_model(hookfit_model(optimizer=SGD(lr=1.0)))
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


def test_epsilon_is_a_deprecated_alias_of_min_delta():
    with pytest.warns(DeprecationWarning, match=r"`epsilon` is deprecated .* use `min_delta`") as w:
        plugin = ReduceLROnPlateau(epsilon=0.01)
    assert w[0].filename == __file__  # stacklevel=2: the caller's line
    assert plugin.min_delta == 0.01
    with pytest.warns(DeprecationWarning):
        assert ReduceLROnPlateau(min_delta=0.01, epsilon=0.01).min_delta == 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ReduceLROnPlateau().min_delta == 1e-4


def test_state_dict_round_trip_resumes_the_run(hookfit_model):
    model = hookfit_model(optimizer=SGD(lr=1.0))
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


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"factor": 1.0},
            "ReduceLROnPlateau does not support a factor >= 1.0. Received factor=1.0. "
            "Use a factor in (0, 1), such as 0.1.",
        ),
        (
            {"factor": 2},
            "ReduceLROnPlateau does not support a factor >= 1.0. Received factor=2. "
            "Use a factor in (0, 1), such as 0.1.",
        ),
        ({"factor": 0}, "ReduceLROnPlateau: factor must be a number in (0, 1), got 0."),
        ({"factor": -0.5}, "ReduceLROnPlateau: factor must be a number in (0, 1), got -0.5."),
        ({"factor": "0.5"}, "ReduceLROnPlateau: factor must be a number in (0, 1), got '0.5'."),
        ({"patience": -1}, "ReduceLROnPlateau: patience must be an integer >= 0, got -1."),
        ({"patience": 2.5}, "ReduceLROnPlateau: patience must be an integer >= 0, got 2.5."),
        ({"cooldown": -3}, "ReduceLROnPlateau: cooldown must be an integer >= 0, got -3."),
        ({"min_lr": -0.1}, "ReduceLROnPlateau: min_lr must be a finite number >= 0, got -0.1."),
        ({"verbose": 2}, "ReduceLROnPlateau: verbose must be 0 or 1, got 2."),
        (
            {"mode": "up"},
            "ReduceLROnPlateau: mode must be one of auto, min, max, got 'up'. "
            "'auto' picks 'min' for 'val_loss'.",
        ),
        (
            {"min_delta": -1e-4},
            "ReduceLROnPlateau: min_delta must be a finite number >= 0, got -0.0001.",
        ),
        (
            {"min_delta": 0.2, "epsilon": 0.01},
            "ReduceLROnPlateau: got min_delta=0.2 and epsilon=0.01; epsilon is the "
            "deprecated name of min_delta, give only min_delta.",
        ),
    ],
    ids=[
        "factor-1",
        "factor-2",
        "factor-0",
        "negative-factor",
        "string-factor",
        "negative-patience",
        "float-patience",
        "negative-cooldown",
        "negative-min-lr",
        "verbose-2",
        "unknown-mode",
        "negative-min-delta",
        "min-delta-and-epsilon-differ",
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(kwargs, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
            ReduceLROnPlateau(**kwargs)
