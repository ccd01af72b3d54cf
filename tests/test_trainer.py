"""The numpy trainer: learning, reproducibility, the Keras API, bad input."""

import numpy as np
import pytest

from hookfit import (
    Callback,
    ConfigError,
    ModelError,
    PluginValidationError,
    initializers,
    optimizers,
)
from hookfit.datasets import digits
from hookfit.layers import Activation, Dense, Dropout, Flatten
from hookfit.losses import mean_squared_error
from hookfit.models import Sequential
from hookfit.testing import Recorder
from hookfit.utils import set_random_seed, to_categorical

NO_DEFAULTS = {"hookfit": {"autoload": False}}


def digits_arrays():
    (x, y), (x_test, y_test) = digits.load_data()
    return x.reshape(len(x), 64) / 16.0, y, x_test.reshape(len(x_test), 64) / 16.0, y_test


def test_digits_data_is_the_uci_set():
    (x, y), (x_test, y_test) = digits.load_data()
    assert x.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
    assert x.dtype == np.uint8 and y.dtype == np.uint8
    assert x.max() == 16 and set(np.unique(np.concatenate([y, y_test]))) == set(range(10))
    assert len(x) + len(x_test) == 1797


def test_mlp_reaches_95_percent_on_digits_within_30_epochs():
    x, y, x_test, y_test = digits_arrays()
    set_random_seed(1)
    model = Sequential([Dense(64, activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x,
        to_categorical(y, 10),
        epochs=30,
        verbose=0,
        validation_data=(x_test, to_categorical(y_test, 10)),
    )
    assert max(history.history["val_acc"]) >= 0.95
    assert history.history["loss"][-1] < history.history["loss"][0] / 5


def test_images_train_through_flatten():
    (x, y), _ = digits.load_data()
    set_random_seed(2)
    model = Sequential([Flatten(input_shape=(8, 8)), Dense(10, activation="softmax")])
    model.compile(optimizers.Adam(lr=0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:500] / 16.0, y[:500], epochs=10, verbose=0, config=NO_DEFAULTS)
    assert len(history.epoch) == 10  # autoload off leaves Keras's History on
    assert model.evaluate(x[:500] / 16.0, y[:500], verbose=0)[1] > 0.8


def fitted_weights(seed, **fit_args):
    x, y, _, _ = digits_arrays()
    set_random_seed(seed)
    model = Sequential(
        [Dense(16, activation="relu", input_dim=64), Dropout(0.2), Dense(10, activation="softmax")]
    )
    model.compile("sgd", "categorical_crossentropy")
    model.fit(x[:300], to_categorical(y[:300], 10), epochs=2, verbose=0, **fit_args)
    return model.get_weights()


def test_seeded_runs_are_reproducible():
    first, again, other = fitted_weights(5), fitted_weights(5), fitted_weights(6)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize(
    "optimizer",
    [
        optimizers.SGD(lr=0.1),
        optimizers.SGD(lr=0.05, momentum=0.9),
        optimizers.SGD(lr=0.05, momentum=0.9, nesterov=True),
        optimizers.RMSprop(lr=0.01),
        optimizers.Adam(lr=0.01),
        optimizers.Adam(lr=0.01, amsgrad=True),
        optimizers.Adagrad(lr=0.1),
        optimizers.SGD(lr=0.1, decay=0.01),
    ],
    ids=["sgd", "momentum", "nesterov", "rmsprop", "adam", "amsgrad", "adagrad", "decay"],
)
def test_every_optimizer_learns(optimizer, hookfit_model, hookfit_data):
    x, y = hookfit_data
    model = hookfit_model(optimizer=optimizer)
    before = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, batch_size=16, epochs=20, verbose=0, config=NO_DEFAULTS)
    assert model.evaluate(x, y, verbose=0)[0] < before * 0.7
    assert all(w.dtype == np.float32 for w in model.get_weights())


def one_step(optimizer, grad=0.5, weight=1.0, steps=2):
    w, g = [np.array([weight])], [np.array([grad])]
    for _ in range(steps):
        optimizer.apply(w, g)
    return float(w[0][0])


def test_update_rules_match_keras():
    lr, g = 0.1, 0.5
    assert one_step(optimizers.SGD(lr=lr)) == pytest.approx(1 - 2 * lr * g)
    v1 = -lr * g
    v2 = 0.9 * v1 - lr * g
    assert one_step(optimizers.SGD(lr=lr, momentum=0.9)) == pytest.approx(1 + v1 + v2)
    nesterov = 1 + (0.9 * v1 - lr * g) + (0.9 * v2 - lr * g)
    assert one_step(optimizers.SGD(lr=lr, momentum=0.9, nesterov=True)) == pytest.approx(nesterov)
    a1 = 0.1 * g * g
    a2 = 0.9 * a1 + 0.1 * g * g
    rms = 1 - lr * g / (np.sqrt(a1) + 1e-7) - lr * g / (np.sqrt(a2) + 1e-7)
    assert one_step(optimizers.RMSprop(lr=lr)) == pytest.approx(rms)
    adam = 1 - lr * np.sqrt(1 - 0.999) / (1 - 0.9) * (0.1 * g) / (np.sqrt(0.001 * g * g) + 1e-7)
    assert one_step(optimizers.Adam(lr=lr), steps=1) == pytest.approx(adam)
    assert one_step(optimizers.Adagrad(lr=lr), steps=1) == pytest.approx(1 - lr * g / (g + 1e-7))


def test_learning_rate_is_settable_under_both_names():
    opt = optimizers.get("rmsprop")
    assert opt.lr == 0.001
    opt.lr = np.float32(0.5)
    assert opt.learning_rate == 0.5
    opt.learning_rate = 0.25
    assert opt.lr == 0.25 and optimizers.Adam(learning_rate=0.3).lr == 0.3
    assert opt.get_config()["learning_rate"] == 0.25


def test_evaluate_predict_and_batch_methods(hookfit_model, hookfit_data):
    x, y = hookfit_data
    model = hookfit_model()
    loss, acc = model.evaluate(x, y, verbose=0)
    assert model.test_on_batch(x, y) == pytest.approx([loss, acc])
    predictions = model.predict(x, batch_size=10)
    assert predictions.shape == (64, 3) and predictions.dtype == np.float32
    np.testing.assert_allclose(predictions.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(model.predict_on_batch(x), predictions, rtol=1e-6)
    before = model.get_weights()
    assert model.train_on_batch(x, y)[0] == pytest.approx(loss, rel=1e-5)
    assert not np.array_equal(before[0], model.get_weights()[0])
    plain = Sequential([Dense(1, input_dim=8)])
    plain.compile("sgd", "mse")
    assert isinstance(plain.evaluate(x, y[:, 0], verbose=0), float)
    assert plain.metrics_names == ["loss"]


def test_validation_split_takes_the_last_samples(hookfit_model, hookfit_data):
    recorder = Recorder()
    x, y = hookfit_data
    model = hookfit_model()
    model.fit(
        x,
        y,
        batch_size=8,
        epochs=1,
        verbose=0,
        validation_split=0.25,
        callbacks=[recorder],
        config=NO_DEFAULTS,
    )
    logs = next(args[1] for hook, args in recorder.calls if hook == "on_epoch_end")
    assert [logs["val_loss"], logs["val_acc"]] == pytest.approx(
        model.evaluate(x[48:], y[48:], verbose=0)
    )


def test_initial_epoch_resumes_the_count(hookfit_model, hookfit_data):
    recorder = Recorder()
    x, y = hookfit_data
    hookfit_model().fit(
        x, y, epochs=5, initial_epoch=3, verbose=0, callbacks=[recorder], config=NO_DEFAULTS
    )
    assert [args[0] for hook, args in recorder.calls if hook == "on_epoch_begin"] == [3, 4]


def test_weights_round_trip_and_summary(hookfit_model, capsys):
    model = hookfit_model()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(8, 16), (16,), (16, 3), (3,)]
    weights[0][...] = 1
    model.set_weights(weights)
    assert model.get_weights()[0].sum() == 128
    assert model.count_params() == 8 * 16 + 16 + 16 * 3 + 3
    model.summary()
    out = capsys.readouterr().out
    assert "(Dense)" in out and "Total params: 195" in out


def test_mse_without_fusion_and_activation_layers_learn(hookfit_data):
    x, y = hookfit_data
    set_random_seed(0)
    model = Sequential([Dense(8, input_dim=8), Activation("tanh"), Dense(3), Activation("sigmoid")])
    model.compile(optimizers.SGD(lr=0.5), mean_squared_error)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, verbose=0, config=NO_DEFAULTS)
    assert model.evaluate(x, y, verbose=0) < before * 0.8
    model.pop()
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Activation", "Dense"]


def test_initializers_follow_keras():
    rng = np.random.default_rng(0)
    w = initializers.get("glorot_uniform")((100, 50), rng, np.float32)
    assert w.dtype == np.float32 and np.abs(w).max() <= np.sqrt(6 / 150)
    assert np.abs(initializers.get("uniform")((10, 10), rng, np.float64)).max() <= 0.05
    normal = initializers.get("he_normal")((400, 100), rng, np.float64)
    assert np.abs(normal).max() <= 2 * np.sqrt(2 / 400) / 0.8796256610342398 + 1e-12
    assert initializers.get("zeros")((2,), rng, np.float32).tolist() == [0, 0]
    same = initializers.GlorotNormal(seed=3)
    np.testing.assert_array_equal(same((3, 3), rng, np.float32), same((3, 3), rng, np.float32))
    rebuilt = initializers.from_config({"class_name": "RandomNormal", "config": {"stddev": 2.0}})
    assert rebuilt.stddev == 2.0


def test_to_categorical():
    np.testing.assert_array_equal(to_categorical([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    assert to_categorical(np.array([[1], [3]])).shape == (2, 4)


def model_fn():
    set_random_seed(0)
    return Sequential([Dense(3, activation="softmax", input_dim=8)])


def compiled():
    model = model_fn()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    return model


X = np.zeros((10, 8), np.float32)
Y = np.eye(3, dtype=np.float32)[np.arange(10) % 3]

FIT_ERRORS = [
    (
        "not-compiled",
        lambda: model_fn().fit(X, Y),
        ModelError,
        r"fit\(\) needs a compiled model: call model\.compile\(optimizer=\.\.\., "
        r"loss=\.\.\.\) first",
    ),
    (
        "length-mismatch",
        lambda: compiled().fit(X, Y[:7]),
        ConfigError,
        r"fit: x has 10 samples but y has 7; they must match",
    ),
    (
        "feature-mismatch",
        lambda: compiled().fit(X[:, :5], Y),
        ConfigError,
        r"^fit: x has samples of shape \(5,\), but the model takes \(8,\)\.$",
    ),
    (
        "labels-not-one-hot",
        lambda: compiled().fit(X, np.arange(10) % 3),
        ConfigError,
        r"y must have shape \(samples, 3\) .* got \(10,\)\. These look like class labels: one-hot",
    ),
    (
        "split-too-big",
        lambda: compiled().fit(X, Y, validation_split=1.0),
        ConfigError,
        r"validation_split must be in \[0, 1\), got 1\.0",
    ),
    (
        "split-negative",
        lambda: compiled().fit(X, Y, validation_split=-0.1),
        ConfigError,
        r"validation_split must be in \[0, 1\), got -0\.1",
    ),
    (
        "split-not-a-number",
        lambda: compiled().fit(X, Y, validation_split="0.2"),
        ConfigError,
        r"validation_split must be a number in \[0, 1\), got '0\.2'",
    ),
    (
        "split-leaves-nothing",
        lambda: compiled().fit(X, Y, validation_split=1e-17),
        ConfigError,
        r"validation_split=1e-17 leaves no validation samples out of 10",
    ),
    (
        "no-training-samples",
        lambda: compiled().fit(X, Y, validation_split=0.95),
        ConfigError,
        r"^fit: there are no training samples\.$",
    ),
    (
        "zero-samples",
        lambda: compiled().fit(X[:0], Y[:0]),
        ConfigError,
        r"^fit: x holds no samples \(shape \(0, 8\)\); pass at least one\.$",
    ),
    (
        "empty-validation-data",
        lambda: compiled().fit(X, Y, validation_data=(X[:0], Y[:0])),
        ConfigError,
        r"^fit\(validation_data\): x holds no samples \(shape \(0, 8\)\); pass at least one\.$",
    ),
    (
        "evaluate-zero-samples",
        lambda: compiled().evaluate(X[:0], Y[:0]),
        ConfigError,
        r"^evaluate: x holds no samples",
    ),
    (
        "predict-zero-samples",
        lambda: compiled().predict(X[:0]),
        ConfigError,
        r"^predict: x holds no samples",
    ),
    (
        "batch-size",
        lambda: compiled().fit(X, Y, batch_size=0),
        ConfigError,
        r"batch_size must be a positive integer, got 0",
    ),
    (
        "epochs",
        lambda: compiled().fit(X, Y, epochs=-1),
        ConfigError,
        r"fit: epochs must be an integer >= 0, got -1",
    ),
    (
        "verbose",
        lambda: compiled().fit(X, Y, verbose=3),
        ConfigError,
        r"verbose must be 0, 1 or 2, got 3",
    ),
    (
        "shuffle",
        lambda: compiled().fit(X, Y, shuffle="batch"),
        ConfigError,
        r"shuffle must be True or False, got 'batch'",
    ),
    (
        "validation-data",
        lambda: compiled().fit(X, Y, validation_data=X),
        ConfigError,
        r"validation_data must be a tuple \(x_val, y_val\)",
    ),
    ("x-none", lambda: compiled().fit(None, Y), ConfigError, r"fit: no input data \(x is None\)"),
    ("y-none", lambda: compiled().fit(X, None), ConfigError, r"fit: no targets \(y is None\)"),
    (
        "x-1d",
        lambda: compiled().fit(np.zeros(10), Y),
        ConfigError,
        r"x must have shape \(samples, features\); got shape \(10,\)",
    ),
    (
        "x-images",
        lambda: compiled().fit(np.zeros((10, 2, 4)), Y),
        ConfigError,
        r"^fit: x has samples of shape \(2, 4\), but the model takes \(8,\)\. Reshape x to "
        r"\(10, 8\) or add Flatten\(input_shape=\(2, 4\)\) as the first layer\.$",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "message"), [c[1:] for c in FIT_ERRORS], ids=[c[0] for c in FIT_ERRORS]
)
def test_bad_fit_arguments_are_refused_before_any_hook(call, error, message):
    with pytest.raises(error, match=message):
        call()


class WrongSignature(Callback):
    def on_epoch_end(self):  # Keras calls it with (epoch, logs)
        pass


def test_a_hook_with_the_wrong_signature_is_refused_before_the_first_batch():
    recorder = Recorder()
    with pytest.raises(
        PluginValidationError,
        match=r"^Plugin WrongSignature \(passed in code, from no installed distribution\): "
        r"WrongSignature\.on_epoch_end cannot be called with the hook's arguments \(too many "
        r"positional arguments\)\. Declare it as def on_epoch_end\(self, epoch, logs=None\)\.$",
    ):
        compiled().fit(X, Y, epochs=3, callbacks=[recorder, WrongSignature()])
    assert recorder.calls == []


def test_no_hook_runs_when_arguments_are_refused():
    recorder = Recorder()
    with pytest.raises(ConfigError):
        compiled().fit(X, Y, validation_split=2, callbacks=[recorder])
    assert recorder.calls == []


def sparse_model():
    model = model_fn()
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


def bad_seed():
    set_random_seed(-1)


def backward_first():
    layer = Dense(2, input_dim=2)
    layer.backward(np.zeros((1, 2)))


def activation_backward_first():
    Activation("relu").backward(np.zeros((1, 2)))


def prebuilt_mismatch():
    layer = Dense(4)
    layer.build((5,), np.random.default_rng())
    Sequential([Dense(3, input_dim=2), layer])


def duplicate_names():
    Sequential([Dense(3, input_dim=2, name="same"), Dense(3, name="same")])


OTHER_ERRORS = [
    (
        "unknown-loss",
        lambda: model_fn().compile("sgd", "categorical_crossentropi"),
        ConfigError,
        r"Unknown loss 'categorical_crossentropi' \(did you mean 'categorical_crossentropy'\?\)",
    ),
    (
        "no-loss",
        lambda: model_fn().compile("sgd"),
        ConfigError,
        r"compile\(\) needs a loss, e\.g\. loss='categorical_crossentropy'",
    ),
    (
        "unknown-optimizer",
        lambda: model_fn().compile("rmsprob", "mse"),
        ConfigError,
        r"Unknown optimizer 'rmsprob' \(did you mean 'rmsprop'\?\)\. Valid optimizers: sgd, ",
    ),
    (
        "unknown-metric",
        lambda: model_fn().compile("sgd", "mse", metrics=["auc"]),
        ConfigError,
        r"Unknown metric 'auc' \(did you mean 'acc'\?\)\. Valid metrics: accuracy, acc, .*"
        r"categorical_accuracy.*\. Or pass a function f\(y_true, y_pred\) of numpy arrays\.$",
    ),
    (
        "empty-model",
        lambda: Sequential().compile("sgd", "mse"),
        ModelError,
        r"has no layers; add\(\) some before compile\(\)",
    ),
    (
        "unknown-activation",
        lambda: Dense(3, activation="rellu"),
        ConfigError,
        r"Unknown activation 'rellu' \(did you mean 'relu'\?\)",
    ),
    (
        "unknown-initializer",
        lambda: Dense(3, kernel_initializer="glorot"),
        ConfigError,
        r"Unknown initializer 'glorot' \(did you mean",
    ),
    (
        "unknown-initializer-class",
        lambda: initializers.from_config({"class_name": "AnOrthogonal"}),
        ConfigError,
        r"Unknown initializer class 'AnOrthogonal'",
    ),
    (
        "initializer-unknown-setting",
        lambda: initializers.from_config(
            {"class_name": "GlorotUniform", "config": {"input_axes": [0]}}
        ),
        ConfigError,
        r"Initializer GlorotUniform has settings hookfit does not know: \{'input_axes': \[0\]\}",
    ),
    (
        "variance-mode",
        lambda: initializers.VarianceScaling(mode="fan"),
        ConfigError,
        r"VarianceScaling: mode must be fan_in, fan_out or fan_avg, got 'fan'",
    ),
    (
        "variance-distribution",
        lambda: initializers.VarianceScaling(distribution="x"),
        ConfigError,
        r"distribution must be truncated_normal, untruncated_normal or uniform, got 'x'",
    ),
    ("units", lambda: Dense(0), ConfigError, r"units must be a positive integer, got 0"),
    (
        "dropout-rate",
        lambda: Dropout(1.0),
        ConfigError,
        r"rate must be a number in \[0, 1\), got 1\.0",
    ),
    (
        "set-weights-count",
        lambda: model_fn().set_weights([]),
        ConfigError,
        r"has 2 weight arrays, got 0",
    ),
    (
        "set-weights-shape",
        lambda: model_fn().layers[0].set_weights([np.zeros((2, 2)), np.zeros(3)]),
        ConfigError,
        r"kernel has shape \(8, 3\), got \(2, 2\)",
    ),
    (
        "layer-weights-count",
        lambda: model_fn().layers[0].set_weights([np.zeros((8, 3))]),
        ConfigError,
        r"has 2 weights \(kernel, bias\), got 1 arrays",
    ),
    (
        "add-not-a-layer",
        lambda: Sequential().add("dense"),
        ConfigError,
        r"Sequential\.add takes a layer such as Dense\(10\), got 'dense'",
    ),
    ("duplicate-layer-names", duplicate_names, ConfigError, r"already has a layer named 'same'"),
    (
        "prebuilt-layer-mismatch",
        prebuilt_mismatch,
        ConfigError,
        r"^Layer dense_\d+ takes samples of shape \(5,\) but the layer before gives \(3,\)\.$",
    ),
    ("pop-empty", lambda: Sequential().pop(), ModelError, r"has no layers to pop"),
    (
        "sparse-labels-range",
        lambda: sparse_model().fit(X, np.full(10, 3)),
        ConfigError,
        r"labels must be in \[0, 3\) for 3 outputs; got 3\.\.3",
    ),
    (
        "sparse-labels-one-hot",
        lambda: sparse_model().fit(X, Y),
        ConfigError,
        r"sparse_categorical_crossentropy takes integer class labels of shape \(samples,\); "
        r"got shape \(10, 3\)",
    ),
    (
        "lr-and-learning-rate",
        lambda: optimizers.SGD(lr=0.1, learning_rate=0.2),
        ConfigError,
        r"SGD: got lr=0\.1 and learning_rate=0\.2; give one of them",
    ),
    (
        "lr-not-a-number",
        lambda: optimizers.SGD(lr="fast"),
        ConfigError,
        r"SGD: lr must be a number, got 'fast'",
    ),
    (
        "lr-negative",
        lambda: optimizers.Adam(lr=-1),
        ConfigError,
        r"Adam: lr must be a finite number >= 0, got -1",
    ),
    (
        "momentum-range",
        lambda: optimizers.SGD(momentum=1.0),
        ConfigError,
        r"SGD: momentum must be in \[0, 1\), got 1\.0",
    ),
    ("seed", bad_seed, ConfigError, r"seed must be an integer >= 0, got -1"),
    (
        "to-categorical-shape",
        lambda: to_categorical(np.zeros((2, 2))),
        ConfigError,
        r"expected integer labels of shape \(n,\), got shape \(2, 2\)",
    ),
    (
        "to-categorical-range",
        lambda: to_categorical([0, 5], 3),
        ConfigError,
        r"labels must be in \[0, 3\), got 0\.\.5",
    ),
    (
        "fused-gradient-without-pair",
        lambda: mean_squared_error.fused_gradient(X, X),
        ModelError,
        r"The loss mean_squared_error has no fused gradient",
    ),
    ("dense-backward-first", backward_first, ModelError, r"backward\(\) before forward\(\)"),
    (
        "activation-backward-first",
        activation_backward_first,
        ModelError,
        r"backward\(\) before forward\(\)",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "message"), [c[1:] for c in OTHER_ERRORS], ids=[c[0] for c in OTHER_ERRORS]
)
def test_bad_model_arguments_are_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- building is linear in the layers; declared sizes are budgeted (issue 22) --------


class CountedActivation(Activation):
    """An Activation that counts every read of ``weights`` and ``built``: the
    work a model does per layer when it builds, loads or steps."""

    reads = 0

    @property
    def weights(self):
        CountedActivation.reads += 1
        return self.__dict__["_weights"]

    @weights.setter
    def weights(self, value):
        self.__dict__["_weights"] = value

    @property
    def built(self):
        CountedActivation.reads += 1
        return self.__dict__["_built"]

    @built.setter
    def built(self, value):
        self.__dict__["_built"] = value


def _counted_stack(n):
    return [CountedActivation("relu", input_shape=(8,))] + [
        CountedActivation("relu") for _ in range(n - 1)
    ]


def _built_by_add(n, tmp_path):
    model = Sequential()
    for layer in [*_counted_stack(n), Dense(2)]:
        model.add(layer)
    return model


def _built_from_json(n, tmp_path):
    from hookfit.models import model_from_json

    return model_from_json(Sequential([*_counted_stack(n), Dense(2)]).to_json())


def _loaded_from_h5(n, tmp_path):
    from hookfit.models import load_model

    path = tmp_path / f"m{n}.h5"
    Sequential([*_counted_stack(n), Dense(2)]).save(path)
    model = load_model(path)
    model.load_weights(path)
    return model


BUILDS = [
    ("constructor", lambda n, tmp_path: Sequential([*_counted_stack(n), Dense(2)])),
    ("add", _built_by_add),
    ("model_from_json", _built_from_json),
    ("load_model-and-load_weights", _loaded_from_h5),
]


@pytest.mark.parametrize("build", [b[1] for b in BUILDS], ids=[b[0] for b in BUILDS])
def test_building_and_loading_work_linear_in_the_number_of_layers(build, tmp_path, monkeypatch):
    from hookfit.trainer.layers import LAYER_CLASSES

    # the loaders make CountedActivation layers too
    monkeypatch.setitem(LAYER_CLASSES, "Activation", CountedActivation)
    work = {}
    for n in (500, 2000):
        CountedActivation.reads = 0
        model = build(n, tmp_path)
        model.compile("sgd", "mse")
        model.train_on_batch(np.ones((1, 8)), np.ones((1, 2)))  # every per-layer flag used
        work[n] = CountedActivation.reads
        assert len(model.layers) == n + 1
    # 4x the layers: 4x the work when linear (it was 16x to 64x: O(n^2) reads
    # per add, O(n^3) per model)
    assert work[2000] < 5 * work[500], work


HUGE_STACK = """
import sys, tempfile
from pathlib import Path
from hookfit.layers import Activation, Dense
from hookfit.models import Sequential, load_model, model_from_json

n = 20_000
model = Sequential([Activation("relu", input_shape=(8,))]
                   + [Activation("relu") for _ in range(n - 2)] + [Dense(2)])
assert len(model_from_json(model.to_json()).layers) == n
path = Path(sys.argv[1])
model.save(path)
loaded = load_model(path)
loaded.load_weights(path)
print(len(loaded.layers), path.stat().st_size)
"""


def test_a_model_of_20000_layers_loads_from_json_and_from_an_h5_file(tmp_path):
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "deep.h5"
    # a hang detector, not a speed test: building was O(n^3), hours for this
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(HUGE_STACK), str(path)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    layers, size = map(int, done.stdout.split())
    assert layers == 20_000
    assert size == path.stat().st_size


BUDGET_MESSAGE = (
    r"Layer big \(Dense\) declares kernel \(4, 1000000000000\), bias \(1000000000000,\) of "
    r"float32, which take the model's weights to 18\.2 TiB \(20000000000000 bytes\), over "
    r"hookfit's memory budget of 4\.0 GiB\. If that size is intended, raise the budget: "
    r"HOOKFIT_MEMORY_BUDGET=18627GiB \(a number of bytes, or of KiB, MiB, GiB or TiB such as "
    r"16GiB\)\."
)


def test_a_dense_layer_over_the_memory_budget_is_refused_when_made(monkeypatch):
    monkeypatch.delenv("HOOKFIT_MEMORY_BUDGET", raising=False)
    with pytest.raises(ConfigError, match=BUDGET_MESSAGE):
        Dense(10**12, input_dim=4, name="big")
    # without an input size, the kernel has a row per input at least
    with pytest.raises(ConfigError, match=r"Layer big \(Dense\) declares kernel \(1, 10"):
        Dense(10**12, name="big")
    layer = Dense(10**8, name="big")  # 0.8 GB with one input: in budget until built on 16
    with pytest.raises(ConfigError, match=r"declares kernel \(16, 100000000\).* 6\.3 GiB"):
        layer.build((16,), np.random.default_rng(0))
    assert not layer.built


def test_a_model_over_the_memory_budget_is_refused_before_any_weight_exists(monkeypatch):
    import tracemalloc

    monkeypatch.setenv("HOOKFIT_MEMORY_BUDGET", "10MiB")
    layers = [Dense(1000, input_dim=1000), Dense(1000), Dense(1000, name="third")]
    tracemalloc.start()
    try:
        with pytest.raises(
            ConfigError,
            match=r"Layer third \(Dense\) declares kernel \(1000, 1000\), bias \(1000,\) of "
            r"float32, which take the model's weights to 11\.5 MiB \(12012000 bytes\), over "
            r"hookfit's memory budget of 10\.0 MiB\. If that size is intended, raise the budget: "
            r"HOOKFIT_MEMORY_BUDGET=1GiB",
        ):
            Sequential(layers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # the first two layers' 8 MB were never allocated
    assert not any(layer.built for layer in layers)
    monkeypatch.setenv("HOOKFIT_MEMORY_BUDGET", "12MiB")  # raised: the same model builds
    assert Sequential(layers).count_params() == 3_003_000


def test_add_over_the_memory_budget_leaves_the_model_as_it_was(monkeypatch):
    monkeypatch.setenv("HOOKFIT_MEMORY_BUDGET", "1MiB")
    model = Sequential([Dense(200, input_dim=1000)])
    with pytest.raises(ConfigError, match=r"Layer too_big \(Dense\) declares kernel \(200, 1000\)"):
        model.add(Dense(1000, name="too_big"))
    assert [layer.name for layer in model.layers] == [model.layers[0].name]
    model.add(Dense(100, name="too_big"))  # the name is still free
    assert model.output_dim == 100


def test_model_from_json_refuses_declared_weights_over_the_budget(monkeypatch):
    from hookfit import FormatError
    from hookfit.models import model_from_json

    monkeypatch.delenv("HOOKFIT_MEMORY_BUDGET", raising=False)
    dense = {"units": 100000, "batch_input_shape": [None, 100000], "name": "wide"}
    text = '{"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", '
    text += f'"config": {str(dense).replace("None", "null")}}}]}}}}'.replace("'", '"')
    assert len(text) < 200
    with pytest.raises(
        FormatError,
        match=r"model_from_json: model_config layer 0 \(Dense\): Layer wide \(Dense\) declares "
        r"kernel \(100000, 100000\), bias \(100000,\) of float32, which take the model's weights "
        r"to 37\.3 GiB \(40000400000 bytes\), over hookfit's memory budget of 4\.0 GiB",
    ):
        model_from_json(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("123", 123), ("1.5KiB", 1536), ("16GiB", 16 << 30), (" 2 mib ", 2 << 20), ("", 4 << 30)],
    ids=["bytes", "fraction", "gib", "spaces-and-case", "unset"],
)
def test_the_memory_budget_is_read_from_the_environment(value, expected, monkeypatch):
    from hookfit.trainer.utils import memory_budget

    monkeypatch.setenv("HOOKFIT_MEMORY_BUDGET", value)
    assert memory_budget() == expected


def test_a_memory_budget_that_is_not_a_size_is_refused(monkeypatch):
    monkeypatch.setenv("HOOKFIT_MEMORY_BUDGET", "lots")
    with pytest.raises(
        ConfigError,
        match=r"HOOKFIT_MEMORY_BUDGET must be a number of bytes, or of KiB, MiB, GiB or TiB such "
        r"as 16GiB, got 'lots'\.",
    ):
        Dense(2, input_dim=2)


def test_to_categorical_refuses_a_huge_class_id_before_allocating(monkeypatch):
    monkeypatch.delenv("HOOKFIT_MEMORY_BUDGET", raising=False)
    with pytest.raises(
        ConfigError,
        match=r"to_categorical: 1000000000001 classes make a one-hot array of shape "
        r"\(1, 1000000000001\) and dtype float32: 3\.6 TiB \(4000000000004 bytes\), over "
        r"hookfit's memory budget of 4\.0 GiB",
    ):
        to_categorical([1e12])


def test_predict_on_a_model_without_layers_says_so():
    with pytest.raises(ModelError, match=r"predict: model \w+ has no layers; add\(\) some first\."):
        Sequential().predict(np.ones((2, 3)))


SET_WEIGHTS_ERRORS = [
    (
        "strings",
        [np.ones((3, 2)), ["a", "b"]],
        r"Layer d: bias \(weights\[1\]\) must hold real numbers, got dtype <U1; pass arrays of "
        r"floats like those get_weights\(\) returns\.",
    ),
    (
        "objects",
        [np.ones((3, 2)), [object(), None]],
        r"Layer d: bias \(weights\[1\]\) must hold real numbers, got dtype object",
    ),
    (
        "complex",
        [np.ones((3, 2)) * 1j, np.ones(2)],
        r"Layer d: kernel \(weights\[0\]\) must hold real numbers, got dtype complex128",
    ),
    (
        "ragged",
        [[[1.0, 2.0], [3.0]], np.ones(2)],
        r"Layer d: kernel \(weights\[0\]\) must be an array of shape \(3, 2\), got ragged",
    ),
    (
        "shape",
        [np.ones((3, 2)), np.ones(3)],
        r"Layer d: bias \(weights\[1\]\) has shape \(2,\), got \(3,\)\.",
    ),
]


@pytest.mark.parametrize(
    ("weights", "message"),
    [c[1:] for c in SET_WEIGHTS_ERRORS],
    ids=[c[0] for c in SET_WEIGHTS_ERRORS],
)
def test_set_weights_refuses_values_that_are_not_real_numbers_and_changes_nothing(weights, message):
    model = Sequential([Dense(2, input_dim=3, name="d")])
    before = model.get_weights()
    with pytest.raises(ConfigError, match=message):
        model.set_weights(weights)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def _tiny_softmax():
    model = Sequential([Dense(3, activation="softmax", input_dim=4)])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model


_ONE_HOT = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.full((4, 4), "a"), _ONE_HOT, r"fit: x must hold numbers; got text \(dtype <U1\)"),
        (
            np.zeros(4, dtype=[("a", "f4"), ("b", "f4")]),
            _ONE_HOT,
            r"fit: x must hold numbers; got structured records",
        ),
        (np.zeros((4, 4), dtype=complex), _ONE_HOT, r"fit: x must hold numbers; got complex"),
        ([[1, 2, 3, 4], [1, 2]], _ONE_HOT[:2], r"fit: x has rows of different lengths"),
        ((row for row in np.zeros((4, 4))), _ONE_HOT, r"fit: x is a generator or iterator; "),
        (
            {"a": np.zeros((4, 4))},
            _ONE_HOT,
            r"^fit: input has no entry for 'dense_\d+_input'; the model's input names are "
            r"dense_\d+_input \(got 'a'\)\.$",
        ),
        (np.zeros((4, 4)), np.array(["a", "b", "c", "a"]), r"fit: y must hold numbers; got text"),
    ],
    ids=["text-x", "structured-x", "complex-x", "ragged-x", "generator-x", "dict-x", "text-y"],
)
def test_data_that_is_not_an_array_of_numbers_is_refused_saying_what_it_is(x, y, message):
    model = _tiny_softmax()
    with pytest.raises(ConfigError, match=message):
        model.fit(x, y, verbose=0)


def test_a_dict_keyed_by_the_input_name_is_the_same_data_as_the_array():
    set_random_seed(0)
    by_array = _tiny_softmax()
    set_random_seed(0)
    by_name = _tiny_softmax()
    x = np.arange(16, dtype=np.float32).reshape(4, 4) / 16
    by_array.fit(x, _ONE_HOT, epochs=2, shuffle=False, verbose=0)
    by_name.fit({by_name.input_names[0]: x}, _ONE_HOT, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(by_array.get_weights(), by_name.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_dense_layer_on_samples_of_several_axes_applies_its_kernel_to_the_last_axis():
    # Keras 2's Dense takes (8, 8) samples as 8 rows of 8 features each
    model = Sequential([Dense(3, input_shape=(8, 8))])
    assert model.output_shape == (None, 8, 3)
    kernel, bias = model.get_weights()
    assert kernel.shape == (8, 3)
    x = np.random.default_rng(0).normal(size=(5, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), x @ kernel + bias, rtol=1e-5, atol=1e-6)
    model.compile("sgd", "mse")
    before = model.evaluate(x, np.zeros((5, 8, 3)), verbose=0)
    for _ in range(5):
        model.train_on_batch(x, np.zeros((5, 8, 3)))
    assert model.evaluate(x, np.zeros((5, 8, 3)), verbose=0) < before


def test_sparse_labels_given_as_text_are_refused_saying_so():
    model = Sequential([Dense(3, activation="softmax", input_dim=4)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ConfigError, match=r"fit: y must hold numbers; got text .*mapped to"):
        model.fit(np.zeros((4, 4), np.float32), np.array(["cat", "dog", "cat", "eel"]), verbose=0)
