"""A Keras 2 user's scripts run with only the imports changed: the backend
(``K.get_value``/``K.set_value``), the generator methods, ``predict_classes``
and ``predict_proba``, JSON models and ``np_utils``."""

import ast
import json
import math
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hookfit
from hookfit import Callback, ConfigError, FormatError, HookfitWarning, ModelError
from hookfit import backend as K
from hookfit.layers import Activation, Dense, Dropout
from hookfit.models import Sequential, model_from_json
from hookfit.optimizers import SGD, Adagrad, Adam, RMSprop
from hookfit.testing import Recorder
from hookfit.utils import Sequence, set_random_seed, to_categorical

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "keras2_script.py"
NO_DEFAULTS = {"hookfit": {"autoload": False}}


def data(n=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    return x, to_categorical(labels, 3)


def model(seed=0, dropout=False, optimizer="sgd", metrics=("accuracy",)):
    set_random_seed(seed)
    layers = [Dense(8, input_dim=6, activation="relu")]
    if dropout:
        layers.append(Dropout(0.3))
    layers += [Dense(3), Activation("softmax")]
    m = Sequential(layers)
    m.compile(optimizer, "categorical_crossentropy", metrics=list(metrics))
    return m


def forever(x, y=None, batch_size=16, pulled=None):
    """A Keras generator: the batches in order, forever; counts its batches."""
    while True:
        for start in range(0, len(x), batch_size):
            if pulled is not None:
                pulled.append(start)
            end = start + batch_size
            yield x[start:end] if y is None else (x[start:end], y[start:end])


def limited(x, y, count, bad_at=None):
    """``count`` batches of 10, then stop; batch ``bad_at`` has 3 features."""
    for i in range(count):
        xb = x[:10, :3] if i == bad_at else x[:10]
        yield xb, y[:10]


class Params(Callback):
    def on_train_begin(self, logs=None):
        self.seen = dict(self.params)
        self.validation = getattr(self, "validation_data", None)


# -- backend ------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam, Adagrad], ids=lambda c: c.__name__)
@pytest.mark.parametrize("attribute", ["lr", "learning_rate"])
def test_set_value_sets_the_optimizers_learning_rate(cls, attribute):
    optimizer = cls(lr=0.01)
    assert K.get_value(getattr(optimizer, attribute)) == 0.01
    K.set_value(getattr(optimizer, attribute), 0.5)
    assert optimizer.lr == optimizer.learning_rate == 0.5
    assert optimizer.get_config()["learning_rate"] == 0.5
    # lr stays a plain float for everything else
    assert type(optimizer.lr) is float and json.dumps(optimizer.lr) == "0.5"
    assert pickle.loads(pickle.dumps(optimizer.lr)) == 0.5


def test_set_value_changes_only_the_optimizer_it_was_read_from():
    rate = 0.01
    first, second = SGD(lr=rate), SGD(lr=rate)
    K.set_value(second.lr, np.float32(0.25))
    assert (first.lr, second.lr, rate) == (0.01, 0.25, 0.01)


def test_a_callback_halves_the_rate_used_by_the_next_epoch():
    class Halve(Callback):  # written as Keras 2's callbacks are
        def on_epoch_begin(self, epoch, logs={}):  # noqa: B006
            self.rates.append(K.get_value(self.model.optimizer.lr))

        def on_epoch_end(self, epoch, logs={}):  # noqa: B006
            K.set_value(self.model.optimizer.lr, K.get_value(self.model.optimizer.lr) * 0.5)

    halve = Halve()
    halve.rates = []
    x, y = data()
    m = model(optimizer=SGD(lr=0.2))
    m.fit(x, y, epochs=3, verbose=0, callbacks=[halve], config=NO_DEFAULTS)
    assert halve.rates == [0.2, 0.1, 0.05] and m.optimizer.lr == 0.025


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (0.01, r"got float 0\.01, which is not read from one"),
        ("lr", r"got str 'lr', which is not read from one"),
        (np.float64(0.01), r"got float64 (np\.float64\()?0\.01\)?, which is not read from one"),
    ],
    ids=["plain-float", "string", "numpy-float"],
)
def test_set_value_refuses_what_is_not_a_variable(target, message):
    optimizer = SGD(lr=0.01)
    with pytest.raises(ConfigError, match=r"^set_value: expected a variable .*" + message):
        K.set_value(target, 0.5)
    assert optimizer.lr == 0.01


def test_set_value_refuses_an_lr_read_before_it_changed():
    optimizer = SGD(lr=0.01)
    stale = optimizer.lr
    optimizer.lr = 0.02
    with pytest.raises(ConfigError, match=r"read optimizer\.lr again if it changed since"):
        K.set_value(stale, 0.5)
    assert optimizer.lr == 0.02


def test_set_value_leaves_checking_the_value_to_the_optimizer():
    optimizer = SGD(lr=0.01)
    with pytest.raises(ConfigError, match=r"^SGD: lr must be a number, got 'fast'\.$"):
        K.set_value(optimizer.lr, "fast")


def test_variables_hold_arrays():
    v = K.variable([[1, 2], [3, 4]], name="w")
    assert (v.shape, v.dtype, v.name) == ((2, 2), "float32", "w")
    value = K.get_value(v)
    value[0, 0] = 9  # a copy
    assert K.eval(v).tolist() == [[1, 2], [3, 4]]
    K.set_value(v, np.ones((2, 2)))
    K.batch_set_value([(v, np.zeros((2, 2)))])
    assert K.batch_get_value([v, 2.0])[0].tolist() == [[0, 0], [0, 0]]
    assert np.asarray(v).dtype == np.float32 and np.asarray(v, dtype=np.int64).dtype == np.int64
    scalar = K.variable(3)
    assert float(scalar) == 3.0 and "Variable 'variable'" in repr(scalar)


def test_a_variable_refuses_a_value_of_another_shape():
    v = K.variable(np.zeros(3), name="bias")
    with pytest.raises(
        ConfigError,
        match=r"^set_value: variable 'bias' has shape \(3,\), got a value of shape \(2,\); ",
    ):
        K.set_value(v, [1, 2])


@pytest.mark.parametrize(
    "value", [0.5, 3, np.float32(0.5), np.arange(3)], ids=["float", "int", "np-float", "array"]
)
def test_get_value_and_eval_return_numbers_and_arrays_as_they_are(value):
    assert K.get_value(value) is value and K.eval(value) is value


@pytest.mark.parametrize("value", ["lr", None, True], ids=["string", "none", "bool"])
def test_get_value_refuses_other_things(value):
    with pytest.raises(ConfigError, match=r"^get_value: expected a variable .*; got "):
        K.get_value(value)


def test_the_backends_constants():
    assert (K.floatx(), K.epsilon(), K.image_data_format(), K.backend()) == (
        "float32",
        1e-7,
        "channels_last",
        "numpy",
    )
    assert K.clear_session() is None
    assert hookfit.backend is K


# -- fit_generator ---------------------------------------------------------------------


@pytest.mark.parametrize("validation", ["generator", "arrays"])
def test_fit_generator_trains_and_calls_the_hooks_exactly_as_fit(validation):
    x, y = data()
    xv, yv = data(40, seed=1)
    by_fit, by_generator = Recorder(), Recorder()
    reference = model()
    reference.fit(
        x,
        y,
        batch_size=16,
        epochs=3,
        verbose=0,
        shuffle=False,
        validation_data=(xv, yv),
        callbacks=[by_fit],
        config=NO_DEFAULTS,
    )
    m = model()
    val = forever(xv, yv) if validation == "generator" else (xv, yv)
    history = m.fit_generator(
        forever(x, y),
        steps_per_epoch=7,
        epochs=3,
        verbose=0,
        callbacks=[by_generator],
        validation_data=val,
        validation_steps=3,
        config=NO_DEFAULTS,
    )
    assert by_generator.calls == by_fit.calls
    batch, logs = next(args for hook, args in by_generator.calls if hook == "on_batch_end")
    assert (batch, sorted(logs), logs["size"]) == (0, ["acc", "batch", "loss", "size"], 16)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    for a, b in zip(m.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_generator_epoch_logs_are_means_weighted_by_batch_size():
    recorder = Recorder()
    x, y = data(26)
    model().fit_generator(
        forever(x, y, batch_size=20), 2, verbose=0, callbacks=[recorder], config=NO_DEFAULTS
    )
    batches = [args[1] for hook, args in recorder.calls if hook == "on_batch_end"]
    (epoch_logs,) = [args[1] for hook, args in recorder.calls if hook == "on_epoch_end"]
    assert [b["size"] for b in batches] == [20, 6]
    assert epoch_logs["loss"] == pytest.approx(
        (batches[0]["loss"] * 20 + batches[1]["loss"] * 6) / 26
    )
    assert epoch_logs["acc"] == pytest.approx((batches[0]["acc"] * 20 + batches[1]["acc"] * 6) / 26)


@pytest.mark.parametrize("validation", [None, "generator", "arrays"])
def test_fit_generator_params_are_keras_2s(validation):
    x, y = data()
    params = Params()
    val = {"generator": forever(x, y), "arrays": (x, y), None: None}[validation]
    model().fit_generator(
        forever(x, y),
        5,
        epochs=2,
        verbose=0,
        callbacks=[params],
        validation_data=val,
        validation_steps=2,
        config=NO_DEFAULTS,
    )
    metrics = ["loss", "acc"] + (["val_loss", "val_acc"] if validation else [])
    assert params.seen == {
        "epochs": 2,
        "steps": 5,
        "verbose": 0,
        "do_validation": validation is not None,
        "metrics": metrics,
    }
    # plugins see validation_data for arrays only, as in Keras 2
    assert (params.validation is not None) == (validation == "arrays")


def test_each_epoch_continues_the_generator_where_the_last_stopped():
    x, y = data()
    pulled, val_pulled = [], []
    model().fit_generator(
        forever(x, y, pulled=pulled),
        steps_per_epoch=4,
        epochs=3,
        verbose=0,
        validation_data=forever(x, y, pulled=val_pulled),
        validation_steps=2,
        config=NO_DEFAULTS,
    )
    # the batch taken to check the generator is the first batch trained on
    assert pulled == [0, 16, 32, 48, 64, 80, 96, 0, 16, 32, 48, 64]
    assert val_pulled == [0, 16, 32, 48, 64, 80]


def test_fit_generator_stops_when_a_plugin_asks():
    class Stop(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    recorder = Recorder()
    x, y = data()
    model().fit_generator(
        forever(x, y), 5, epochs=3, verbose=0, callbacks=[Stop(), recorder], config=NO_DEFAULTS
    )
    assert recorder.count("on_batch_end") == 2 and recorder.count("on_epoch_end") == 1


def test_fit_generator_runs_the_default_plugins_with_a_progress_line(capsys):
    x, y = data()
    history = model().fit_generator(forever(x, y), 3, epochs=2, verbose=2)
    assert history.epoch == [0, 1]
    assert "Epoch 2/2" in capsys.readouterr().out


class Batches(Sequence):
    def __init__(self, x, y, batch_size=20):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.visited, self.epochs_ended = [], 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        self.visited.append(index)
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


@pytest.mark.parametrize("shuffle", [True, False])
def test_a_sequence_gives_its_length_as_steps_and_is_shuffled_per_epoch(shuffle):
    x, y = data()
    sequence = Batches(x, y)
    params = Params()
    model().fit_generator(
        sequence, epochs=3, verbose=0, shuffle=shuffle, callbacks=[params], config=NO_DEFAULTS
    )
    epochs = [sequence.visited[1 + 5 * i : 6 + 5 * i] for i in range(3)]  # after the check
    assert params.seen["steps"] == 5 and sequence.epochs_ended == 3
    assert sequence.visited[0] == 0 and all(sorted(e) == [0, 1, 2, 3, 4] for e in epochs)
    assert (epochs[0] != [0, 1, 2, 3, 4] or epochs[1] != [0, 1, 2, 3, 4]) == shuffle


def test_a_sequence_validates_and_evaluates():
    x, y = data()
    sequence = Batches(x, y)
    m = model()
    history = m.fit_generator(
        Batches(x, y), epochs=1, verbose=0, validation_data=sequence, config=NO_DEFAULTS
    )
    assert history.history["val_loss"] == [pytest.approx(m.evaluate(x, y, verbose=0)[0])]
    assert sequence.epochs_ended == 0  # only training epochs end a Sequence's epoch
    assert m.evaluate_generator(sequence) == pytest.approx(m.evaluate(x, y, verbose=0))


# -- evaluate_generator and predict_generator ---------------------------------------


def test_evaluate_generator_gives_evaluates_results_and_test_hooks():
    x, y = data()
    m = model()
    by_evaluate, by_generator = Recorder(), Recorder()
    expected = m.evaluate(x, y, batch_size=16, verbose=0, callbacks=[by_evaluate])
    got = m.evaluate_generator(forever(x, y), steps=7, callbacks=[by_generator])
    assert got == expected and len(got) == 2
    assert by_generator.calls == by_evaluate.calls
    loss_only = model(metrics=())
    assert isinstance(loss_only.evaluate_generator(forever(x, y), 7), float)


@pytest.mark.parametrize("yields", ["x", "x-y", "x-y-w"])
def test_predict_generator_stacks_the_outputs(yields):
    x, y = data(50)

    def batches():
        while True:
            for start in range(0, 50, 16):
                xb, yb = x[start : start + 16], y[start : start + 16]
                yield {"x": xb, "x-y": (xb, yb), "x-y-w": (xb, yb, np.ones(len(xb)))}[yields]

    m = model()
    recorder = Recorder()
    out = m.predict_generator(batches(), steps=4, callbacks=[recorder])
    np.testing.assert_array_equal(out, m.predict(x, batch_size=16))
    sizes = [args[1]["size"] for hook, args in recorder.calls if hook == "on_predict_batch_end"]
    assert out.shape == (50, 3) and out.dtype == np.float32 and sizes == [16, 16, 16, 2]


def test_predict_generator_builds_an_unbuilt_model():
    set_random_seed(0)
    m = Sequential([Dense(2, activation="softmax")])
    out = m.predict_generator(forever(np.ones((8, 5), dtype=np.float32)), steps=2)
    assert out.shape == (16, 2) and m.input_dim == 5


# -- refusals ------------------------------------------------------------------------

X, Y = data()
REFUSED_BEFORE_ANY_HOOK = [
    (
        "no-steps",
        dict(generator=forever(X, Y)),
        r"^fit_generator: steps_per_epoch is required when generator is a generator: it yields "
        r"batches forever, so steps_per_epoch says how many to take\. Pass e\.g\. "
        r"steps_per_epoch=len\(x\) // batch_size\.$",
    ),
    (
        "zero-steps",
        dict(generator=forever(X, Y), steps_per_epoch=0),
        r"^fit_generator: steps_per_epoch must be a positive integer, got 0\.$",
    ),
    (
        "bool-steps",
        dict(generator=forever(X, Y), steps_per_epoch=True),
        r"^fit_generator: steps_per_epoch must be a positive integer, got True\.$",
    ),
    (
        "exhausted",
        dict(generator=iter([]), steps_per_epoch=3),
        r"^fit_generator: generator is exhausted after 0 batches, but 3 per pass were asked "
        r"for\. A Keras generator yields batches forever: put its yield in a `while True:` loop\.$",
    ),
    (
        "arrays-not-generator",
        dict(generator=(X, Y), steps_per_epoch=3),
        r"^fit_generator: generator must be a generator yielding batches forever, or a "
        r"hookfit\.utils\.Sequence; got a tuple of 2 items\. For arrays use fit\(\)\.$",
    ),
    (
        "yields-x-only",
        dict(generator=forever(X), steps_per_epoch=3),
        r"^fit_generator\(generator\) batch 0 is an array of shape \(16, 6\); generator must "
        r"yield \(x, y\) or \(x, y, sample_weight\) tuples, e\.g\. `yield x\[i:j\], y\[i:j\]`\.$",
    ),
    (
        "yields-a-number",
        dict(generator=iter([3]), steps_per_epoch=3),
        r"^fit_generator\(generator\) batch 0 is int 3; generator must yield \(x, y\) or "
        r"\(x, y, sample_weight\) tuples",
    ),
    (
        "sample-weights-wrong-length",
        dict(generator=iter([(X, Y, np.ones(5))]), steps_per_epoch=1),
        r"^fit_generator\(generator\) batch 0: sample_weight has 5 weights for 100 samples; pass "
        r"one weight per sample, shape \(100,\)\.$",
    ),
    (
        "wrong-features",
        dict(generator=limited(X, Y, 5, bad_at=0), steps_per_epoch=3),
        r"^fit_generator\(generator\) batch 0: x has samples of shape \(3,\), but the model "
        r"takes \(6,\)\.$",
    ),
    (
        "wrong-targets",
        dict(generator=iter([(X, Y[:5])]), steps_per_epoch=1),
        r"^fit_generator\(generator\) batch 0: x has 100 samples but y has 5; they must match\.$",
    ),
    (
        "validation-generator-without-steps",
        dict(generator=forever(X, Y), steps_per_epoch=3, validation_data=forever(X, Y)),
        r"^fit_generator: validation_steps is required when validation_data is a generator: ",
    ),
    (
        "validation-exhausted",
        dict(
            generator=forever(X, Y),
            steps_per_epoch=3,
            validation_data=iter([]),
            validation_steps=2,
        ),
        r"^fit_generator: validation_data is exhausted after 0 batches, but 2 per pass",
    ),
    (
        "validation-wrong-shape",
        dict(
            generator=forever(X, Y),
            steps_per_epoch=3,
            validation_data=forever(X),
            validation_steps=2,
        ),
        r"^fit_generator\(validation_data\) batch 0 is an array of shape \(16, 6\); "
        r"validation_data must yield \(x, y\) or \(x, y, sample_weight\) tuples",
    ),
    (
        "validation-sample-weights-wrong-length",
        dict(generator=forever(X, Y), steps_per_epoch=3, validation_data=(X, Y, np.ones(5))),
        r"^fit_generator\(validation_data\): sample_weight has 5 weights for 100 samples; pass "
        r"one weight per sample, shape \(100,\)\.$",
    ),
    (
        "validation-arrays-wrong-features",
        dict(generator=forever(X, Y), steps_per_epoch=3, validation_data=(X[:, :2], Y)),
        r"^fit_generator\(validation_data\): x has samples of shape \(2,\), but the model takes "
        r"\(6,\)\.$",
    ),
    (
        "validation-not-a-generator",
        dict(generator=forever(X, Y), steps_per_epoch=3, validation_data=5),
        r"^fit_generator: validation_data must be a generator yielding batches forever, or a "
        r"hookfit\.utils\.Sequence; got int 5\.",
    ),
    (
        "class-weight-without-a-class",
        dict(generator=forever(X, Y), steps_per_epoch=3, class_weight={0: 1, 1: 2}),
        r"^fit_generator\(generator\) batch 0: class_weight must contain all classes in the "
        r"data\. The classes \[2\] exist in the data but not in class_weight \(keys: \[0, 1\]\); "
        r"add them, e\.g\. with weight 1\.0\.$",
    ),
    (
        "shuffle",
        dict(generator=forever(X, Y), steps_per_epoch=3, shuffle="yes"),
        r"^fit_generator: shuffle must be True or False, got 'yes'\.$",
    ),
    (
        "empty-sequence",
        dict(generator=Batches(X[:0], Y[:0])),
        r"^fit_generator: generator is a Sequence of length 0; it has no batch\.$",
    ),
    (
        "epochs",
        dict(generator=forever(X, Y), steps_per_epoch=3, epochs=-1),
        r"^fit_generator: epochs must be an integer >= 0, got -1\.$",
    ),
]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [case[1:] for case in REFUSED_BEFORE_ANY_HOOK],
    ids=[case[0] for case in REFUSED_BEFORE_ANY_HOOK],
)
def test_fit_generator_refuses_bad_input_before_any_hook(arguments, message):
    recorder = Recorder()
    with pytest.raises(ConfigError, match=message):
        model().fit_generator(**arguments, verbose=0, callbacks=[recorder], config=NO_DEFAULTS)
    assert recorder.calls == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda m: m.evaluate_generator(forever(X, Y)),
            r"^evaluate_generator: steps is required when generator is a generator",
        ),
        (
            lambda m: m.evaluate_generator(forever(X), 2),
            r"^evaluate_generator\(generator\) batch 0 is an array of shape \(16, 6\)",
        ),
        (
            lambda m: m.evaluate_generator(iter([]), 2),
            r"^evaluate_generator: generator is exhausted after 0 batches",
        ),
        (
            lambda m: m.predict_generator(forever(X), steps=-2),
            r"^predict_generator: steps must be a positive integer, got -2\.$",
        ),
        (
            lambda m: m.predict_generator(iter([(X, Y, Y, Y)]), 1),
            r"^predict_generator\(generator\) batch 0 is a tuple of 4 items; yield x, or \(x, y\) "
            r"whose y is ignored\.$",
        ),
        (
            lambda m: m.predict_generator([X], 1),
            r"^predict_generator: generator must be a generator yielding batches forever, or a "
            r"hookfit\.utils\.Sequence; got a list of 1 items\. For arrays use predict\(\)\.$",
        ),
    ],
    ids=[
        "evaluate-no-steps",
        "evaluate-x-only",
        "evaluate-exhausted",
        "predict-bad-steps",
        "predict-long-tuple",
        "predict-list",
    ],
)
def test_evaluate_and_predict_generator_refuse_bad_input_before_any_hook(call, message):
    recorder = Recorder()
    m = model()
    original = m.predict_generator, m.evaluate_generator

    def with_recorder(method):
        return lambda *a, **kw: method(*a, **kw, callbacks=[recorder], config=NO_DEFAULTS)

    m.predict_generator, m.evaluate_generator = map(with_recorder, original)
    with pytest.raises(ConfigError, match=message):
        call(m)
    assert recorder.calls == []


# -- sample and class weights in the generator methods ---------------------------------

# every third sample left out (weight 0), the others counted once
W = (np.arange(len(X)) % 3 != 0).astype(np.float32)


def _assert_same_weights(a, b, **tolerance):
    for p, q in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(p, q, **tolerance)


def test_fit_generator_trains_on_sample_weights_as_fit_does():
    by_generator = model()
    by_generator.fit_generator(
        iter([(X, Y, W)] * 3), 3, verbose=0, config=NO_DEFAULTS
    )  # fmt: skip
    by_fit = model()
    by_fit.fit(X, Y, sample_weight=W, batch_size=len(X), epochs=3, shuffle=False, verbose=0)
    _assert_same_weights(by_generator, by_fit, rtol=0, atol=0)


def test_a_sample_weight_of_zero_leaves_the_sample_out_of_the_loss():
    # Keras 2's rule: mean(loss * w) / mean(w != 0), so 0/1 weights are the
    # mean over the kept samples, and the weights do reach the loss
    weighted = model()
    weighted.fit_generator(iter([(X, Y, W)] * 3), 3, verbose=0, config=NO_DEFAULTS)
    kept = model()
    kept.fit_generator(iter([(X[W == 1], Y[W == 1])] * 3), 3, verbose=0, config=NO_DEFAULTS)
    _assert_same_weights(weighted, kept, rtol=1e-5, atol=1e-6)
    unweighted = model()
    unweighted.fit_generator(iter([(X, Y)] * 3), 3, verbose=0, config=NO_DEFAULTS)
    assert not np.allclose(weighted.get_weights()[0], unweighted.get_weights()[0])


def test_fit_generator_class_weight_weighs_each_sample_by_its_class():
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    by_class = model()
    by_class.fit_generator(
        forever(X, Y), 4, class_weight=class_weight, verbose=0, config=NO_DEFAULTS
    )  # fmt: skip
    per_sample = np.array([class_weight[c] for c in Y.argmax(axis=1)], dtype=np.float32)
    by_sample = model()
    batches = ((X[i : i + 16], Y[i : i + 16], per_sample[i : i + 16]) for i in range(0, 64, 16))
    by_sample.fit_generator(batches, 4, verbose=0, config=NO_DEFAULTS)
    _assert_same_weights(by_class, by_sample, rtol=1e-6, atol=1e-7)
    plain = model()
    plain.fit_generator(forever(X, Y), 4, verbose=0, config=NO_DEFAULTS)
    assert not np.allclose(by_class.get_weights()[0], plain.get_weights()[0])


def test_a_validation_triple_weights_the_validation_loss():
    m = model()
    params = Params()
    history = m.fit_generator(
        forever(X, Y), 2, validation_data=(X, Y, W), verbose=0, callbacks=[params],
        config=NO_DEFAULTS,
    )  # fmt: skip
    # validated in batches of the training batch's size, as Keras 2 does
    loss, acc = m.evaluate(X, Y, sample_weight=W, batch_size=16, verbose=0)
    assert history.history["val_loss"] == [pytest.approx(loss, rel=1e-6)]
    assert history.history["val_acc"] == [pytest.approx(acc)]
    # callbacks see Keras 2's [x, y, sample_weights]
    np.testing.assert_array_equal(params.validation[2], W)
    assert loss != pytest.approx(m.evaluate(X, Y, batch_size=16, verbose=0)[0], rel=1e-4)


@pytest.mark.parametrize("method", ["fit_generator", "evaluate_generator"])
def test_the_generator_methods_need_a_compiled_model(method):
    m = Sequential([Dense(3, input_dim=6)])
    with pytest.raises(ModelError, match=rf"^{method}\(\) needs a compiled model"):
        getattr(m, method)(forever(X, Y), 2)


@pytest.mark.parametrize(
    ("count", "bad_at", "message"),
    [
        (
            5,
            None,
            r"^fit_generator: generator is exhausted after 5 batches, but 3 per pass were asked "
            r"for\.",
        ),
        (9, 4, r"^fit_generator\(generator\) batch 1: x has samples of shape \(3,\), but the "),
    ],
    ids=["stops-early", "bad-later-batch"],
)
def test_a_generator_that_fails_later_is_refused_and_training_ends(count, bad_at, message):
    recorder = Recorder()
    with pytest.raises(ConfigError, match=message):
        model().fit_generator(
            limited(X, Y, count, bad_at), 3, epochs=4, verbose=0, callbacks=[recorder],
            config=NO_DEFAULTS,
        )  # fmt: skip
    assert recorder.count("on_epoch_end") == 1 and recorder.hooks()[-1] == "on_train_end"


# -- predict_classes and predict_proba ------------------------------------------------


def test_predict_classes_is_the_argmax_and_predict_proba_the_outputs():
    x, _ = data()
    m = model()
    proba = m.predict_proba(x, batch_size=10)
    np.testing.assert_array_equal(proba, m.predict(x))
    np.testing.assert_array_equal(m.predict_classes(x), proba.argmax(axis=-1))


def test_predict_classes_thresholds_one_sigmoid_unit_at_a_half():
    set_random_seed(3)
    m = Sequential([Dense(1, input_dim=6, activation="sigmoid")])
    x, _ = data()
    classes = m.predict_classes(x)
    assert classes.shape == (100, 1) and classes.dtype == np.int32
    np.testing.assert_array_equal(classes, (m.predict(x) > 0.5).astype(np.int32))
    assert 0 < classes.sum() < 100


def test_predict_proba_warns_about_outputs_that_are_not_probabilities():
    set_random_seed(3)
    m = Sequential([Dense(2, input_dim=6)])
    with pytest.warns(
        HookfitWarning,
        match=r"^predict_proba: the model's outputs span -?[\d.]+\.\.[\d.]+, outside \[0, 1\]; "
        r"end the model with a softmax or sigmoid for probabilities\.$",
    ) as caught:
        m.predict_proba(X * 10)
    assert caught[0].filename == __file__


# -- JSON --------------------------------------------------------------------------


def test_to_json_and_model_from_json_round_trip_to_the_same_predictions():
    x, y = data()
    m = model(dropout=True)
    m.fit(x, y, epochs=2, verbose=0, config=NO_DEFAULTS)
    text = m.to_json()
    config = json.loads(text)
    assert (config["class_name"], config["keras_version"][:2], config["backend"]) == (
        "Sequential",
        "2.",
        "tensorflow",
    )
    assert config["config"] == m.get_config() and m.get_config()["name"] == m.name
    rebuilt = model_from_json(text)
    assert [type(ly).__name__ for ly in rebuilt.layers] == [
        "Dense",
        "Dropout",
        "Dense",
        "Activation",
    ]
    rebuilt.set_weights(m.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(x), m.predict(x))
    np.testing.assert_array_equal(rebuilt.predict_classes(x), m.predict_classes(x))
    assert m.to_json(indent=2).startswith("{\n  ")


def test_model_from_json_reads_keras_2_0s_list_of_layers():
    text = json.dumps(
        {
            "class_name": "Sequential",
            "keras_version": "2.0.8",
            "config": [
                {
                    "class_name": "Dense",
                    "config": {
                        "name": "dense_1",
                        "units": 4,
                        "activation": "relu",
                        "batch_input_shape": [None, 6],
                    },
                },
                {"class_name": "Dense", "config": {"name": "dense_2", "units": 3}},
            ],
        }
    )
    rebuilt = model_from_json(text)
    assert rebuilt.built and rebuilt.input_dim == 6 and rebuilt.output_dim == 3


@pytest.mark.parametrize("method", ["to_json", "get_config"])
def test_json_needs_a_built_model(method):
    with pytest.raises(ModelError, match=rf"^{method}\(\) needs a built model: give the first"):
        getattr(Sequential([Dense(3)]), method)()


@pytest.mark.parametrize(
    ("text", "kwargs", "error", "message"),
    [
        ("{not json", {}, FormatError, r"^model_from_json: not JSON \(Expecting property name"),
        (42, {}, FormatError, r"^model_from_json: expected a JSON string, got int; pass "),
        (
            '{"class_name": "Model", "config": {}}',
            {},
            FormatError,
            r"^model_from_json: model_config has no list of layers\.$",
        ),
        (
            "{}",
            {"custom_objects": {"MyLayer": object}},
            ConfigError,
            r"^model_from_json: hookfit loads only its own layers, got custom_objects=",
        ),
    ],
    ids=["not-json", "not-a-string", "functional-model-without-layers", "custom-objects"],
)
def test_model_from_json_refuses(text, kwargs, error, message):
    with pytest.raises(error, match=message):
        model_from_json(text, **kwargs)


# -- np_utils ------------------------------------------------------------------------


def test_np_utils_is_keras_2s_path_to_to_categorical():
    from hookfit.utils import np_utils
    from hookfit.utils.np_utils import to_categorical as from_np_utils

    labels = np.array([2, 0, 1])
    expected = to_categorical(labels, 3)
    np.testing.assert_array_equal(np_utils.to_categorical(labels, 3), expected)
    np.testing.assert_array_equal(from_np_utils(labels), expected)
    np.testing.assert_array_equal(hookfit.utils.np_utils.to_categorical(labels), expected)
    assert hookfit.utils.set_random_seed is set_random_seed
    assert {"to_categorical", "set_random_seed", "Sequence", "np_utils"} <= set(
        hookfit.utils.__all__
    )


# -- the example script ----------------------------------------------------------


def test_the_keras_2_script_imports_only_keras_2_paths():
    """Change ``hookfit`` to ``keras`` and the imports are Keras 2's (the
    digits aside, which stand in for MNIST)."""
    keras2 = {
        "keras": {"backend"},
        "keras.callbacks": {"Callback"},
        "keras.layers": {"Activation", "Dense", "Dropout"},
        "keras.models": {"Sequential", "model_from_json"},
        "keras.optimizers": {"SGD"},
        "keras.utils": {"np_utils"},
    }
    found = {}
    for node in ast.walk(ast.parse(SCRIPT.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module.startswith("hookfit"):
            module = "keras" + node.module.removeprefix("hookfit")
            found.setdefault(module, set()).update(alias.name for alias in node.names)
    assert found.pop("keras.datasets") == {"digits"}
    assert all(found[m] <= keras2.get(m, set()) for m in found), found


def test_the_keras_2_script_trains_halves_the_rate_and_round_trips(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    rates = re.findall(r"^Epoch (\d): learning rate ([\d.]+) -> ([\d.]+)$", out, re.M)
    assert rates == [
        ("1", "0.10000", "0.05000"),
        ("2", "0.05000", "0.02500"),
        ("3", "0.02500", "0.01250"),
        ("4", "0.01250", "0.00625"),
    ]
    assert len(re.findall(r"val_loss: [\d.]+ - val_acc: [\d.]+$", out, re.M)) == 4
    accuracy = float(re.search(r"^Final accuracy: ([\d.]+)$", out, re.M).group(1))
    test_accuracy = float(re.search(r"^Test accuracy: ([\d.]+)$", out, re.M).group(1))
    assert 0.85 <= accuracy <= 1.0 and accuracy == pytest.approx(test_accuracy, abs=1e-4)
    assert "predict_generator matches predict_proba: True" in out
    assert "model_from_json gives the same predictions: True" in out
