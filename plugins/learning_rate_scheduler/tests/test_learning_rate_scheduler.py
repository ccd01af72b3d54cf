"""LearningRateScheduler, installed alone with the core."""

import functools
import math
import re

import numpy as np
import pytest

from hookfit import Callback, ConfigError
from hookfit.callbacks import LearningRateScheduler
from hookfit.hooks.dispatch import hooks_of
from hookfit.layers import Dense
from hookfit.models import Sequential
from hookfit.testing import Recorder
from hookfit.utils import set_random_seed
from hookfit_learning_rate_scheduler import LearningRateScheduler as DirectScheduler


def calls_of(recorder, hook):
    return [args for name, args in recorder.calls if name == hook]


def logged_lrs(recorder):
    return [logs["lr"] for _, logs in calls_of(recorder, "on_epoch_end")]


def fit(model, x, y, callbacks, epochs=3, **kwargs):
    kwargs = {"batch_size": 16, "shuffle": False, "verbose": 0, **kwargs}
    return model.fit(x, y, epochs=epochs, callbacks=callbacks, **kwargs)


def at_lr(model, lr=0.01):
    """The model with its optimizer's rate set through the plugin protocol,
    so that every host starts from the same rate."""
    model.optimizer.lr = lr
    return model


def test_hookfit_callbacks_gives_the_plugin_class():
    assert LearningRateScheduler is DirectScheduler
    assert hooks_of(LearningRateScheduler(lambda epoch: 0.1)) == ["on_epoch_begin", "on_epoch_end"]


def test_keras_docs_usage(hookfit_model, hookfit_data):
    x, y = hookfit_data
    model = hookfit_model()
    recorder = Recorder()
    fit(model, x, y, [LearningRateScheduler(lambda epoch: 0.1 * 0.5**epoch), recorder])
    assert logged_lrs(recorder) == [0.1, 0.05, 0.025]
    assert model.optimizer.lr == 0.025


# -- the rate each epoch's updates use is the schedule's -----------------------------

SCHEDULES = {
    "epoch": lambda epoch: [0.05, 0.01, 0.002][epoch],
    "epoch-lr": lambda epoch, lr: lr * 0.5,
}


class BatchRates(Callback):
    def __init__(self):
        super().__init__()
        self.rates = []

    def on_batch_begin(self, batch, logs=None):
        self.rates.append(self.model.optimizer.lr)


def expected_rates(schedule, arity, initial, epochs=3):
    rates, lr = [], initial
    for epoch in range(epochs):
        lr = schedule(epoch) if arity == "epoch" else schedule(epoch, lr)
        rates.append(lr)
    return rates


@pytest.mark.parametrize("arity", list(SCHEDULES), ids=list(SCHEDULES))
def test_each_batch_sees_the_scheduled_rate(arity, hookfit_model, hookfit_data):
    schedule = SCHEDULES[arity]
    x, y = hookfit_data
    model = at_lr(hookfit_model())
    rates = BatchRates()
    recorder = Recorder()
    fit(model, x, y, [LearningRateScheduler(schedule), rates, recorder])
    expected = expected_rates(schedule, arity, 0.01)
    assert rates.rates == [lr for lr in expected for _ in range(4)]
    assert logged_lrs(recorder) == expected
    assert model.optimizer.lr == expected[-1]


def keras_model(optimizer):
    set_random_seed(0)
    model = Sequential([Dense(16, activation="relu", input_dim=8), Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("arity", list(SCHEDULES), ids=list(SCHEDULES))
@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam", "adagrad"])
def test_every_hookfit_optimizer_trains_each_epoch_at_the_scheduled_rate(
    optimizer, arity, hookfit_data
):
    # About hookfit's own optimizers, compared with train_on_batch, so it
    # builds hookfit's Sequential whatever --hookfit-host says.
    schedule = SCHEDULES[arity]
    x, y = hookfit_data
    model = keras_model(optimizer)
    initial = model.optimizer.lr
    rates = BatchRates()
    recorder = Recorder()
    fit(model, x, y, [LearningRateScheduler(schedule), rates, recorder])

    # The same updates done by hand: set the rate, then train the 4 batches.
    reference = keras_model(optimizer)
    expected = []
    for epoch in range(3):
        lr = reference.optimizer.lr
        reference.optimizer.lr = schedule(epoch) if arity == "epoch" else schedule(epoch, lr)
        expected.append(reference.optimizer.lr)
        for start in range(0, 64, 16):
            reference.train_on_batch(x[start : start + 16], y[start : start + 16])

    assert expected != [initial] * 3
    assert rates.rates == [lr for lr in expected for _ in range(4)]
    assert logged_lrs(recorder) == expected
    for got, want in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    unscheduled = keras_model(optimizer)
    fit(unscheduled, x, y, [])
    assert not np.array_equal(unscheduled.get_weights()[0], model.get_weights()[0])


# -- what the schedule is given -------------------------------------------------------


@pytest.mark.parametrize(
    ("initial_epoch", "expected"),
    [(0, [(0, 0.01), (1, 0.1), (2, 0.05)]), (2, [(2, 0.01), (3, 0.1 / 3), (4, 0.025)])],
    ids=["from-0", "resumed-at-2"],
)
def test_schedule_gets_0_based_epochs_and_the_current_rate(
    initial_epoch, expected, hookfit_model, hookfit_data
):
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return 0.1 / (epoch + 1)

    x, y = hookfit_data
    scheduler = LearningRateScheduler(schedule)
    fit(
        at_lr(hookfit_model()),
        x,
        y,
        [scheduler],
        epochs=initial_epoch + 3,
        initial_epoch=initial_epoch,
    )
    assert seen == expected


def test_one_argument_schedule_gets_the_epoch_only(hookfit_model, hookfit_data):
    seen = []

    def schedule(epoch):
        seen.append(epoch)
        return 0.01

    x, y = hookfit_data
    fit(hookfit_model(), x, y, [LearningRateScheduler(schedule)], epochs=4, initial_epoch=1)
    assert seen == [1, 2, 3]


class Halver:
    def __call__(self, epoch, lr):
        return lr / 2


class Steps:
    def rate(self, epoch):
        return 0.1


def step_decay(epoch, drop):
    return 0.1 * drop**epoch


@pytest.mark.parametrize(
    ("schedule", "takes_lr"),
    [
        (lambda epoch: 0.1, False),
        (lambda epoch, lr: lr, True),
        (lambda epoch, lr=None: 0.1, True),
        (lambda *args: 0.1, True),
        (lambda epoch=0: 0.1, False),
        (lambda epoch, lr, scale=2.0: lr, True),
        (Halver(), True),
        (Steps().rate, False),
        (functools.partial(step_decay, drop=0.5), False),
    ],
    ids=[
        "epoch",
        "epoch-lr",
        "lr-optional",
        "varargs",
        "epoch-optional",
        "extra-optional",
        "callable-object",
        "bound-method",
        "partial",
    ],
)
def test_the_form_is_read_from_the_signature(schedule, takes_lr):
    assert LearningRateScheduler(schedule).takes_lr is takes_lr


def test_a_type_error_inside_the_schedule_is_not_hidden(hookfit_model, hookfit_data):
    calls = []

    def schedule(epoch, lr):
        calls.append(epoch)
        return lr * "0.5"  # a bug in the schedule

    x, y = hookfit_data
    with pytest.raises(TypeError, match=r"^can't multiply sequence by non-int of type 'float'"):
        fit(hookfit_model(), x, y, [LearningRateScheduler(schedule)])
    assert calls == [0]  # called once, never retried as schedule(epoch)


# -- verbose -------------------------------------------------------------------------


def test_verbose_prints_the_rate_every_epoch(hookfit_model, hookfit_data, capsys):
    x, y = hookfit_data
    rates = iter([0.1, np.float32(0.05), 0.025])
    scheduler = LearningRateScheduler(lambda epoch: next(rates), verbose=1)
    fit(hookfit_model(), x, y, [scheduler], epochs=4, initial_epoch=1)
    assert capsys.readouterr().out == (
        "\nEpoch 00002: LearningRateScheduler setting learning rate to 0.1.\n"
        # f"{lr}", as Keras 3 prints it: the float32 as the float the optimizer gets.
        "\nEpoch 00003: LearningRateScheduler setting learning rate to 0.05000000074505806.\n"
        "\nEpoch 00004: LearningRateScheduler setting learning rate to 0.025.\n"
    )


def test_verbose_0_prints_nothing(hookfit_model, hookfit_data, capsys):
    x, y = hookfit_data
    fit(hookfit_model(), x, y, [LearningRateScheduler(lambda epoch: 0.1)])
    assert capsys.readouterr().out == ""


# -- results -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [np.float16(0.5), np.float32(0.25), np.float64(0.125), 0.0, 3.0],
    ids=["float16", "float32", "float64", "zero", "python-float"],
)
def test_numpy_floats_and_zero_are_accepted(value, hookfit_model, hookfit_data):
    x, y = hookfit_data
    model = hookfit_model()
    recorder = Recorder()
    fit(model, x, y, [LearningRateScheduler(lambda epoch: value), recorder], epochs=1)
    assert model.optimizer.lr == float(value)
    assert logged_lrs(recorder) == [float(value)]
    assert type(logged_lrs(recorder)[0]) is float


NOT_FLOATS = {"int": 1, "bool": True, "str": "0.1", "none": None, "np-int": np.int64(1)}
BAD_FLOATS = {
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "negative": -0.1,
    "np-float32-nan": np.float32(np.nan),
    "np-negative": np.float64(-1e-9),
}


@pytest.mark.hookfit_not_on(
    "keras",
    reason="Keras calls no on_train_end after an error (its fit has no finally)",
)
@pytest.mark.parametrize(
    "value",
    [*NOT_FLOATS.values(), [0.1], *BAD_FLOATS.values()],
    ids=[*NOT_FLOATS, "list", *BAD_FLOATS],
)
def test_a_result_that_is_not_a_finite_float_is_refused(value, hookfit_model, hookfit_data):
    x, y = hookfit_data
    model = hookfit_model()
    recorder = Recorder()
    schedule = LearningRateScheduler(lambda epoch: 0.1 if epoch == 0 else value)
    if not isinstance(value, (float, np.floating)):
        message = (
            f"LearningRateScheduler: the schedule returned {value!r} ({type(value).__name__}) "
            "for epoch 1; it must return a float, e.g. 0.01 (an int is refused too, as in "
            "Keras: write 1.0, not 1)."
        )
    else:
        message = (
            f"LearningRateScheduler: the schedule returned {value!r} for epoch 1; "
            "the learning rate must be a finite float >= 0."
        )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}") as info:
        fit(model, x, y, [schedule, recorder])
    assert str(info.value) == message
    assert model.optimizer.lr == 0.1
    assert recorder.count("on_epoch_end") == 1 and recorder.count("on_train_end") == 1


# -- refused when built ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "shown"),
    [(0.1, "0.1"), ("schedules:step", '"schedules:step"'), (None, "None")],
    ids=["float", "str", "none"],
)
def test_a_schedule_that_is_not_callable_is_refused(schedule, shown):
    message = (
        "LearningRateScheduler: schedule: expected a function (in a config file: a "
        f'"module:function" reference), got {shown}.'
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        LearningRateScheduler(schedule)


def test_a_module_function_string_in_code_is_refused():
    # It names a function in a config file only; code passes the function.
    message = (
        "LearningRateScheduler: schedule: expected a function (in a config file: a "
        '"module:function" reference), got "json:dumps".'
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        LearningRateScheduler("json:dumps")


def needs_scale(epoch, *, scale):
    return 0.1 * scale


@pytest.mark.parametrize(
    ("schedule", "signature"),
    [
        (lambda: 0.1, "()"),
        (lambda epoch, lr, step: 0.1, "(epoch, lr, step)"),
        (needs_scale, "(epoch, *, scale)"),
        (lambda **kwargs: 0.1, "(**kwargs)"),
    ],
    ids=["no-argument", "three-arguments", "keyword-only", "only-kwargs"],
)
def test_a_schedule_that_fits_neither_form_is_refused(schedule, signature):
    with pytest.raises(
        ConfigError,
        match=rf"^LearningRateScheduler: schedule{re.escape(signature)} cannot be called as "
        r"schedule\(epoch\) or schedule\(epoch, lr\)\. Give a function of \(epoch\) or "
        r"\(epoch, lr\)\.$",
    ):
        LearningRateScheduler(schedule)


def test_a_schedule_without_a_readable_signature_is_refused():
    with pytest.raises(
        ConfigError,
        match=r"^LearningRateScheduler: cannot read the signature of schedule <built-in "
        r"function max>\. Wrap it in a function: lambda epoch: \.\.\. or lambda epoch, lr: \.\.\.$",
    ):
        LearningRateScheduler(max)


@pytest.mark.parametrize(
    ("verbose", "shown"),
    [("1", '"1"'), (-1, "-1"), (True, "true"), (1.0, "1.0")],
    ids=["str", "negative", "bool", "float"],
)
def test_verbose_must_be_an_integer(verbose, shown):
    message = f"LearningRateScheduler: verbose: expected an integer >= 0, got {shown}."
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        LearningRateScheduler(lambda epoch: 0.1, verbose=verbose)


# -- config files ---------------------------------------------------------------------


def test_config_names_the_schedule_as_module_function(
    hookfit_model, hookfit_data, hookfit_site, monkeypatch, capsys
):
    hookfit_site.add(
        "lr-schedules",
        {},
        {
            "lr_schedules.py": """
                def step_decay(epoch, lr):
                    return lr / 10 if epoch == 1 else lr
            """
        },
    )
    monkeypatch.chdir(hookfit_site.root)
    x, y = hookfit_data
    model = at_lr(hookfit_model())
    config = {
        "callbacks": {
            "learning_rate_scheduler": {"schedule": "lr_schedules:step_decay", "verbose": 1}
        }
    }
    model.fit(x, y, epochs=3, verbose=0, config=config)
    assert math.isclose(model.optimizer.lr, 0.001, rel_tol=1e-12)
    out = capsys.readouterr().out
    assert "\nEpoch 00001: LearningRateScheduler setting learning rate to 0.01.\n" in out
    assert re.search(r"\nEpoch 00002: LearningRateScheduler setting learning rate to 0\.001", out)
